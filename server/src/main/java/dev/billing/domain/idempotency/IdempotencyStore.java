package dev.billing.domain.idempotency;

/** idempotency_outcomes. */
public interface IdempotencyStore {
  RecordedOutcome find(String operation, String owner, String idemKey);

  /** The outcomes of {@code operation} whose owner and key are among these (a superset). */
  java.util.List<RecordedOutcome> findAll(
      String operation, java.util.List<String> owners, java.util.List<String> keys);

  /** Inserts unless the key exists; returns rows added. */
  int insertIfAbsent(RecordedOutcome outcome);
}
