package dev.billing.domain.credits;

/** The outcome of a credit mutation; {@code replayed} when the idempotency key had been used. */
public record CreditResult(long balance, String transactionId, boolean replayed) {}
