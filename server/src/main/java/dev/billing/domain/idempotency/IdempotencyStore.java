package dev.billing.domain.idempotency;

/** idempotency_outcomes. */
public interface IdempotencyStore {
  RecordedOutcome find(String operation, String owner, String idemKey);

  /** Inserts unless the key exists; returns rows added. */
  int insertIfAbsent(RecordedOutcome outcome);
}
