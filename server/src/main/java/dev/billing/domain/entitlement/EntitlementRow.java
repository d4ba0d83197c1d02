package dev.billing.domain.entitlement;

/**
 * A user's stored entitlement, with the credit balance joined in. {@code version} grows with every
 * change, credits included.
 *
 * @param pendingPlan a plan change scheduled for the end of the period, or null
 * @param pendingEffectiveAt when it takes effect (epoch seconds), or null
 */
public record EntitlementRow(
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
    Long pendingEffectiveAt) {

  /** The entitlement of a user the service has never seen. */
  public static EntitlementRow unknown(String userId) {
    return new EntitlementRow(
        userId, "free", "none", null, null, null, false, false, 0, 0, null, null);
  }

  /** The same entitlement with this pending plan change (null, null: none). */
  public EntitlementRow withPending(String plan, Long effectiveAt) {
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
        plan,
        effectiveAt);
  }

  EntitlementRow withDecision(EntitlementDecision d) {
    return new EntitlementRow(
        userId,
        d.tier(),
        d.status().stripeName(),
        d.subscriptionId(),
        d.currentPeriodEnd(),
        d.trialEnd(),
        d.cancelAtPeriodEnd(),
        d.paymentProblem(),
        version,
        creditBalance,
        pendingPlan,
        pendingEffectiveAt);
  }

  EntitlementRow next(long newBalance) {
    return new EntitlementRow(
        userId,
        tier,
        status,
        subscriptionId,
        currentPeriodEnd,
        trialEnd,
        cancelAtPeriodEnd,
        paymentProblem,
        version + 1,
        newBalance,
        pendingPlan,
        pendingEffectiveAt);
  }

  /** True when the subscription-derived fields differ (version and balance aside). */
  boolean sameStateAs(EntitlementRow o) {
    return tier.equals(o.tier)
        && status.equals(o.status)
        && java.util.Objects.equals(subscriptionId, o.subscriptionId)
        && java.util.Objects.equals(currentPeriodEnd, o.currentPeriodEnd)
        && java.util.Objects.equals(trialEnd, o.trialEnd)
        && cancelAtPeriodEnd == o.cancelAtPeriodEnd
        && paymentProblem == o.paymentProblem
        && java.util.Objects.equals(pendingPlan, o.pendingPlan)
        && java.util.Objects.equals(pendingEffectiveAt, o.pendingEffectiveAt);
  }

  @Override
  public String toString() {
    return "tier="
        + tier
        + " status="
        + status
        + " subscription="
        + subscriptionId
        + " period_end="
        + currentPeriodEnd
        + " trial_end="
        + trialEnd
        + " cancel_at_period_end="
        + cancelAtPeriodEnd
        + " payment_problem="
        + paymentProblem
        + (pendingPlan == null ? "" : " pending=" + pendingPlan + "@" + pendingEffectiveAt);
  }
}
