package dev.billing.domain.usage;

/** A user's newest counter of a metric as stored. */
public record CounterRow(String userId, String metric, long periodKey, long used, long version) {}
