package dev.billing.domain.entitlement;

import java.util.Map;

/**
 * A committed change to one user's entitlement: the stream's unit. {@code seq} is the change log's
 * global cursor (commit order, no gaps); {@code entitlement.version()} grows per user.
 *
 * @param previousStatus the Stripe status name before the change
 * @param stripeEventId the Stripe event that caused it, or null for changes made through the API
 * @param counters the user's newest usage counter of each metric after the change
 * @param usageMetric the metric a usage change is about, or null
 */
public record Change(
    long seq,
    String userId,
    ChangeKind kind,
    EntitlementRow entitlement,
    String previousTier,
    String previousStatus,
    String stripeEventId,
    long occurredAtMillis,
    Map<String, UsageCount> counters,
    String usageMetric) {

  public Change {
    counters = Map.copyOf(counters);
  }
}
