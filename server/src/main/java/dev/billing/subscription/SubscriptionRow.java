package dev.billing.subscription;

/**
 * A stored subscription. {@code stateCreated} (the Stripe event's {@code created}) and {@code
 * stateRank} (the status's lifecycle stage) order competing snapshots.
 */
public record SubscriptionRow(
    String stripeSubscriptionId,
    String userId,
    String stripeCustomerId,
    String status,
    String priceId,
    String plan,
    Long currentPeriodEnd,
    Long trialEnd,
    boolean cancelAtPeriodEnd,
    Long pastDueSince,
    long stateCreated,
    int stateRank,
    String lastEventId) {

  public StripeStatus stripeStatus() {
    return StripeStatus.parseStored(status);
  }
}
