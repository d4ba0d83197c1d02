package dev.billing.stripe;

import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks the {@code Stripe-Signature} header against the raw body with stripe-java. Accepts any of
 * the configured secrets, so a secret can be rotated without dropping events. The signature's
 * timestamp (not {@code event.created}) is the replay defence: Stripe retries old events for days.
 */
public final class SignatureVerifier {
  private final List<String> secrets;
  private final long toleranceSeconds;
  private final Clock clock;

  public SignatureVerifier(List<String> secrets, Duration tolerance, Clock clock) {
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("at least one webhook secret is required");
    }
    this.secrets = List.copyOf(secrets);
    this.toleranceSeconds = tolerance.toSeconds();
    this.clock = clock;
  }

  /** {@link #verify(byte[], String)} of the payload's UTF-8 bytes. */
  public void verify(String payload, String header) throws SignatureVerificationException {
    verify(payload.getBytes(StandardCharsets.UTF_8), header);
  }

  /**
   * Returns normally when a secret verifies the header over these exact bytes; otherwise throws
   * with a reason safe to log. The scheme is stripe-java's {@code Webhook.Signature.verifyHeader}
   * (HMAC-SHA256 of {@code t + "." + body}, any {@code v1} entry, constant-time comparison, the
   * timestamp within the tolerance) over the raw bytes, so a body that is not valid UTF-8 still
   * verifies or fails on its signature alone.
   */
  public void verify(byte[] payload, String header) throws SignatureVerificationException {
    long timestamp = -1;
    List<byte[]> signatures = new ArrayList<>();
    for (String part : header.split(",")) {
      String item = part.strip();
      if (item.startsWith("t=")) {
        try {
          timestamp = Long.parseLong(item.substring(2));
        } catch (NumberFormatException e) {
          throw new SignatureVerificationException(
              "Unable to extract timestamp and signatures from header", header);
        }
      } else if (item.startsWith(Webhook.Signature.EXPECTED_SCHEME + "=")) {
        try {
          signatures.add(HexFormat.of().parseHex(item.substring(3)));
        } catch (IllegalArgumentException e) {
          // Not a hex signature: it matches nothing.
        }
      }
    }
    if (timestamp < 0 || signatures.isEmpty()) {
      throw new SignatureVerificationException(
          "Unable to extract timestamp and signatures from header", header);
    }
    long now = clock.instant().getEpochSecond();
    boolean found = false;
    for (String secret : secrets) {
      byte[] expected = hmac(secret, timestamp, payload);
      for (byte[] signature : signatures) {
        found |= MessageDigest.isEqual(expected, signature);
      }
    }
    if (!found) {
      throw new SignatureVerificationException(
          "No signatures found matching the expected signature for payload", header);
    }
    // stripe-java rejects old timestamps; a timestamp from the future is just as suspicious.
    if (timestamp < now - toleranceSeconds) {
      throw new SignatureVerificationException("Timestamp outside the tolerance zone", header);
    }
    if (timestamp > now + toleranceSeconds) {
      throw new SignatureVerificationException("Timestamp is in the future", header);
    }
  }

  private static byte[] hmac(String secret, long timestamp, byte[] payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
      return mac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
