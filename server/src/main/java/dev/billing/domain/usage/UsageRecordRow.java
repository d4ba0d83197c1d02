package dev.billing.domain.usage;

/**
 * A usage record as stored.
 *
 * @param periodKey when the period's counter resets (epoch seconds), 0 for a running allowance
 * @param usedAfter the period's counter after this record
 * @param usageLimit the allowance when it was recorded
 * @param createdAt epoch seconds
 */
public record UsageRecordRow(
    long id,
    String userId,
    String metric,
    long periodKey,
    long quantity,
    String idempotencyKey,
    String requestHash,
    long usedAfter,
    long usageLimit,
    long overage,
    long creditsDebited,
    String ledgerTxnId,
    long createdAt) {}
