package dev.billing.domain.credits;

/** credit_balances and credit_ledger. */
public interface CreditStore {
  LedgerEntry findByKey(String userId, String key);

  /** The balance row, locked until commit; null when the user never had credits. */
  Long lockBalance(String userId);

  void upsertBalance(String userId, long balance);

  void insertLedger(LedgerEntry entry);

  /** A user's ledger, newest first, ids below {@code beforeId}. */
  java.util.List<LedgerEntry> findByUser(String userId, long beforeId, int limit);
}
