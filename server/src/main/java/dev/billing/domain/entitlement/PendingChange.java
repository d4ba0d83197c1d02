package dev.billing.domain.entitlement;

import java.util.Map;

/**
 * A change to one user's entitlement made by a transaction that has not committed yet. It becomes a
 * change_log row, with its sequence number, as the last step of that transaction.
 *
 * @param previousStatus the Stripe status name before the change
 * @param stripeEventId the Stripe event that caused it, or null for changes made through the API
 * @param counters the user's newest usage counter of each metric after the change
 * @param usageMetric the metric a usage change is about, or null
 */
public record PendingChange(
    String userId,
    ChangeKind kind,
    EntitlementRow entitlement,
    String previousTier,
    String previousStatus,
    String stripeEventId,
    long occurredAtMillis,
    Map<String, UsageCount> counters,
    String usageMetric) {

  /** The committed change, with its place in the log. */
  public Change committed(long seq) {
    return new Change(
        seq,
        userId,
        kind,
        entitlement,
        previousTier,
        previousStatus,
        stripeEventId,
        occurredAtMillis,
        counters,
        usageMetric);
  }
}
