package dev.billing.stripe;

import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

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

  /**
   * Returns normally when a secret verifies the header; otherwise throws with a reason safe to log.
   */
  public void verify(String payload, String header) throws SignatureVerificationException {
    // stripe-java rejects old timestamps; a timestamp from the future is just as suspicious.
    long now = clock.instant().getEpochSecond();
    for (String part : header.split(",")) {
      String item = part.strip();
      if (item.startsWith("t=")) {
        try {
          if (Long.parseLong(item.substring(2)) > now + toleranceSeconds) {
            throw new SignatureVerificationException("Timestamp is in the future", header);
          }
        } catch (NumberFormatException e) {
          throw new SignatureVerificationException(
              "Unable to extract timestamp from header", header);
        }
      }
    }
    SignatureVerificationException last = null;
    for (String secret : secrets) {
      try {
        Webhook.Signature.verifyHeader(payload, header, secret, toleranceSeconds, clock);
        return;
      } catch (SignatureVerificationException e) {
        last = e;
      }
    }
    throw last;
  }
}
