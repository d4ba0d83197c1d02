package dev.billing.domain.change;

/** One row of change_log as stored. */
public record ChangeLogRow(
    long seq,
    String userId,
    String kind,
    long version,
    byte[] entitlement,
    String previousTier,
    String previousStatus,
    String stripeEventId,
    long occurredAtMs,
    String usageMetric) {}
