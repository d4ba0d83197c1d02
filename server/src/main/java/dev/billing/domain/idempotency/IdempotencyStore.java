package dev.billing.domain.idempotency;

/** idempotency_outcomes. */
public interface IdempotencyStore {
  RecordedOutcome find(String operation, String owner, String idemKey);

  /** The outcomes of {@code operation} under these keys. */
  java.util.List<RecordedOutcome> findAll(String operation, java.util.List<OwnedKey> keys);

  /** Inserts unless the key exists; returns rows added. */
  int insertIfAbsent(RecordedOutcome outcome);

  /**
   * A row for the key, a duplicate key when it has an outcome recorded (a guard: see the mapper);
   * removed again by {@link #releaseClaim} in the same transaction.
   */
  void claim(String operation, String owner, String idemKey);

  void releaseClaim(String operation, String owner, String idemKey);
}
