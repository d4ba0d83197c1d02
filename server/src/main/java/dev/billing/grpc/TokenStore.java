package dev.billing.grpc;

import dev.billing.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Bearer tokens of the calling services, from {@code BILLING_TOKENS_FILE}: one per line, {@code
 * <service-name> <scope>[,<scope>...] <sha256-hex-of-token>}; {@code #} starts a comment. Only
 * hashes are stored; a presented token is hashed and compared with every entry in constant time.
 */
public final class TokenStore {
  /** The development token `make run` installs; refused together with a live Stripe key. */
  public static final String DEV_TOKEN = "billing-dev-token";

  /** One calling service. */
  public record Caller(String service, Set<Scope> scopes, byte[] tokenHash) {
    public boolean may(Scope needed) {
      return scopes.contains(Scope.ADMIN) || scopes.contains(needed);
    }
  }

  private final List<Caller> callers;

  public TokenStore(List<Caller> callers) {
    this.callers = List.copyOf(callers);
  }

  public static TokenStore load(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new ConfigException(
          "BILLING_TOKENS_FILE " + file + " cannot be read: " + e.getMessage());
    }
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
    return new TokenStore(callers);
  }

  /** The caller presenting {@code token}, or null. Every entry is compared, in constant time. */
  public Caller authenticate(String token) {
    byte[] hash = sha256(token);
    Caller found = null;
    for (Caller c : callers) {
      if (MessageDigest.isEqual(hash, c.tokenHash()) && found == null) {
        found = c;
      }
    }
    return found;
  }

  /** True when the development token is accepted by this store. */
  public boolean acceptsDevToken() {
    return authenticate(DEV_TOKEN) != null;
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
