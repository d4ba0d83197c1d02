package dev.billing.domain.credits;

/** credit_balances and credit_ledger. */
public interface CreditStore {
  /** The ledger row of this key (none or one), as rows so a {@code ReadBatch} can read it. */
  java.util.List<LedgerEntry> findByKey(String userId, String key);

  /** The balance, its row locked until commit; none when the user never had credits. */
  java.util.List<Long> lockBalance(String userId);

  void upsertBalance(String userId, long balance);

  void insertLedger(LedgerEntry entry);

  /** A user's ledger, newest first, ids below {@code beforeId}. */
  java.util.List<LedgerEntry> findByUser(String userId, long beforeId, int limit);
}
