package dev.billing.domain.entitlement;

/**
 * A row of {@link EntitlementStore#lockAll}: a locked user's entitlement, their Stripe customer
 * (null if none), and one of their live usage counters (all null if none; a user with several
 * counters comes back once per counter). Flat, the entitlement's columns repeated rather than an
 * {@link EntitlementRow} component: MyBatis maps a flat row with one constructor call, and a nested
 * result map would make it key and group every row of the statement (on the webhook writer's path).
 */
public record LockedUser(
    String userId,
    String tier,
    String status,
    String subscriptionId,
    Long currentPeriodEnd,
    Long trialEnd,
    boolean cancelAtPeriodEnd,
    boolean paymentProblem,
    long version,
    long creditBalance,
    String pendingPlan,
    Long pendingEffectiveAt,
    String customerId,
    String metric,
    Long periodKey,
    Long used,
    Long counterVersion) {

  /** The entitlement on this row. */
  public EntitlementRow row() {
    return new EntitlementRow(
        userId,
        tier,
        status,
        subscriptionId,
        currentPeriodEnd,
        trialEnd,
        cancelAtPeriodEnd,
        paymentProblem,
        version,
        creditBalance,
        pendingPlan,
        pendingEffectiveAt);
  }

  /** The counter on this row, or null. */
  public UsageCount counter() {
    return metric == null ? null : new UsageCount(metric, periodKey, used, counterVersion);
  }
}
