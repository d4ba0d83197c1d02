package dev.billing.domain.credits;

/**
 * One row of the append-only credit ledger. {@code delta} is signed; {@code balanceAfter} never
 * negative; {@code createdAtMillis} is filled on read.
 */
public record LedgerEntry(
    long id,
    String transactionId,
    String userId,
    long delta,
    long balanceAfter,
    String kind,
    String idempotencyKey,
    String reason,
    String actor,
    String paymentId,
    String stripeEventId,
    long createdAtMillis) {}
