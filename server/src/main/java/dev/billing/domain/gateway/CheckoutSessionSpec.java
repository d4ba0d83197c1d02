package dev.billing.domain.gateway;

import java.util.Map;

/**
 * What to ask Stripe for in a Checkout session. Subscription mode uses {@code priceId} (never a
 * price from a caller); payment mode charges {@code amountMinor} of {@code currency} for {@code
 * productName}.
 */
public record CheckoutSessionSpec(
    Mode mode,
    String customerId,
    String userId,
    String priceId,
    int trialDays,
    String coupon,
    boolean allowPromotionCodes,
    long amountMinor,
    String currency,
    String productName,
    Map<String, String> metadata,
    String successUrl,
    String cancelUrl) {

  /** Stripe's checkout modes that this service uses. */
  public enum Mode {
    SUBSCRIPTION,
    PAYMENT
  }

  public CheckoutSessionSpec {
    metadata = Map.copyOf(metadata);
  }

  public CheckoutSessionSpec withCustomer(String newCustomerId) {
    return new CheckoutSessionSpec(
        mode,
        newCustomerId,
        userId,
        priceId,
        trialDays,
        coupon,
        allowPromotionCodes,
        amountMinor,
        currency,
        productName,
        metadata,
        successUrl,
        cancelUrl);
  }
}
