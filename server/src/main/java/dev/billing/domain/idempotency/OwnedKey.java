package dev.billing.domain.idempotency;

/** An idempotency key and whose it is (a user): keys are unique per owner. */
public record OwnedKey(String owner, String key) {}
