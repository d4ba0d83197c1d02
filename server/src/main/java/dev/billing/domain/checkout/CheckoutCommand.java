package dev.billing.domain.checkout;

/**
 * A checkout request as the domain sees it. Subscription mode names a {@code plan}; credits mode a
 * {@code creditPackage} or an {@code amountMinor} of {@code currency}.
 */
public record CheckoutCommand(
    String userId,
    Mode mode,
    String plan,
    int trialDays,
    String coupon,
    boolean allowPromotionCodes,
    String creditPackage,
    long amountMinor,
    String currency,
    String successUrl,
    String cancelUrl,
    String idempotencyKey,
    String referralCode) {

  /** What is being bought. */
  public enum Mode {
    SUBSCRIPTION,
    CREDITS
  }
}
