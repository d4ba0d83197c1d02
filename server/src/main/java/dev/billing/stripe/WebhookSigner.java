package dev.billing.stripe;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Produces {@code Stripe-Signature} headers exactly as Stripe does ({@code t=<unix>,v1=<hex
 * HMAC-SHA256 of "t.payload">}): used by the local emulator when it delivers webhooks, and by the
 * trigger tool and the tests.
 */
public final class WebhookSigner {
  private WebhookSigner() {}

  public static String header(String payload, String secret, long epochSeconds) {
    return "t=" + epochSeconds + ",v1=" + signature(payload, secret, epochSeconds);
  }

  public static String signature(String payload, String secret, long epochSeconds) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((epochSeconds + "." + payload).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
