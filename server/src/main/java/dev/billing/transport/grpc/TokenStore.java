package dev.billing.transport.grpc;

import dev.billing.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens of the calling services, from {@code BILLING_TOKENS_FILE}: one per line, {@code
 * <service-name> <scope>[,<scope>...] <sha256-hex-of-token>}; {@code #} starts a comment. Only
 * hashes are stored; a presented token is hashed and compared with every entry in constant time.
 *
 * <p>A store loaded from a file re-reads it when {@link #reloadIfChanged} sees new contents, so
 * tokens are added, rotated and revoked without a restart. A file that no longer parses (or that
 * would let the development token in next to a live Stripe key) is refused and the previous tokens
 * stay in force.
 */
public final class TokenStore {
  private static final Logger log = LoggerFactory.getLogger(TokenStore.class);

  /** The development token `make run` installs; refused together with a live Stripe key. */
  public static final String DEV_TOKEN = "billing-dev-token";

  /** One calling service. */
  public record Caller(String service, Set<Scope> scopes, byte[] tokenHash) {
    public boolean may(Scope needed) {
      return scopes.contains(Scope.ADMIN) || scopes.contains(needed);
    }
  }

  private final Path file;
  private final boolean refuseDevToken;
  private volatile List<Caller> callers;
  private volatile byte[] loadedContents;

  public TokenStore(List<Caller> callers) {
    this(null, false, callers, null);
  }

  private TokenStore(
      Path file, boolean refuseDevToken, List<Caller> callers, byte[] loadedContents) {
    this.file = file;
    this.refuseDevToken = refuseDevToken;
    this.callers = List.copyOf(callers);
    this.loadedContents = loadedContents;
  }

  /**
   * Reads the tokens file.
   *
   * @param refuseDevToken true when a live Stripe key is configured: a file that accepts the
   *     development token is an error
   */
  public static TokenStore load(Path file, boolean refuseDevToken) {
    byte[] contents = read(file);
    TokenStore store = new TokenStore(file, refuseDevToken, parse(file, contents), contents);
    store.checkDevToken(store.callers);
    return store;
  }

  /**
   * Re-reads the file if its contents changed; returns true when new tokens took effect. A file
   * that cannot be read or parsed is refused (logged) and the current tokens stay.
   */
  public boolean reloadIfChanged() {
    if (file == null) {
      return false;
    }
    try {
      byte[] contents = read(file);
      if (Arrays.equals(contents, loadedContents)) {
        return false;
      }
      List<Caller> next = parse(file, contents);
      checkDevToken(next);
      callers = List.copyOf(next);
      loadedContents = contents;
      log.info("BILLING_TOKENS_FILE reloaded: {} calling services", next.size());
      return true;
    } catch (ConfigException e) {
      log.error(
          "BILLING_TOKENS_FILE changed but is refused; the previous tokens stay: {}",
          e.getMessage());
      throw e;
    }
  }

  private void checkDevToken(List<Caller> candidate) {
    if (refuseDevToken && find(candidate, sha256(DEV_TOKEN)) != null) {
      throw new ConfigException(
          "BILLING_TOKENS_FILE accepts the development token while a live Stripe key (sk_live_...)"
              + " is configured. Remove the development token from the tokens file.");
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(
          "BILLING_TOKENS_FILE " + file + " cannot be read: " + e.getMessage());
    }
  }

  private static List<Caller> parse(Path file, byte[] contents) {
    List<String> lines = new String(contents, StandardCharsets.UTF_8).lines().toList();
    List<Caller> callers = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+");
      String where = "BILLING_TOKENS_FILE line " + (i + 1) + ": ";
      if (parts.length != 3) {
        throw new ConfigException(
            where + "expected `<service-name> <scope>[,<scope>...] <sha256-hex-of-token>`");
      }
      Set<Scope> scopes = EnumSet.noneOf(Scope.class);
      for (String s : parts[1].split(",")) {
        scopes.add(
            Scope.parse(s)
                .orElseThrow(
                    () ->
                        new ConfigException(
                            where
                                + "unknown scope '"
                                + s
                                + "' (entitlements:read, checkout:write, credits:write, stream:read, admin)")));
      }
      if (!parts[2].matches("[0-9a-fA-F]{64}")) {
        throw new ConfigException(
            where + "the third field must be the SHA-256 of the token, 64 hex digits");
      }
      callers.add(new Caller(parts[0], scopes, HexFormat.of().parseHex(parts[2].toLowerCase())));
    }
    if (callers.isEmpty()) {
      throw new ConfigException("BILLING_TOKENS_FILE " + file + " lists no tokens");
    }
    return callers;
  }

  /** The caller presenting {@code token}, or null. Every entry is compared, in constant time. */
  public Caller authenticate(String token) {
    return find(callers, sha256(token));
  }

  private static Caller find(List<Caller> callers, byte[] hash) {
    Caller found = null;
    for (Caller c : callers) {
      if (MessageDigest.isEqual(hash, c.tokenHash()) && found == null) {
        found = c;
      }
    }
    return found;
  }

  public static String sha256Hex(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
