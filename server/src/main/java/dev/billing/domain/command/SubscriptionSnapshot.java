package dev.billing.domain.command;

/**
 * The fields of a Stripe subscription that decide an entitlement, as the stripe layer read them
 * from either payload shape (before 2025-03-31.basil the period sits on the subscription, from
 * basil on on each item).
 *
 * @param metadataUserId the user in the subscription's metadata, if it names a valid one
 */
public record SubscriptionSnapshot(
    String id,
    String customerId,
    String status,
    String priceId,
    Long currentPeriodEnd,
    Long trialEnd,
    boolean cancelAtPeriodEnd,
    String metadataUserId) {

  /** The same snapshot, owned by {@code userId} (for a copy read from Stripe without metadata). */
  public SubscriptionSnapshot withUser(String userId) {
    return new SubscriptionSnapshot(
        id, customerId, status, priceId, currentPeriodEnd, trialEnd, cancelAtPeriodEnd, userId);
  }
}
