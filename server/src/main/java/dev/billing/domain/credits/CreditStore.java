package dev.billing.domain.credits;

import java.util.List;

/** credit_balances and credit_ledger. */
public interface CreditStore {
  /** The ledger row of this key (none or one), as rows so a {@code ReadBatch} can read it. */
  List<LedgerEntry> findByKey(String userId, String key);

  void upsertBalance(String userId, long balance);

  void insertLedger(LedgerEntry entry);

  /** A user's ledger, newest first, ids below {@code beforeId}. */
  List<LedgerEntry> findByUser(String userId, long beforeId, int limit);
}
