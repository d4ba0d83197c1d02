package dev.billing.domain.credits;

import org.apache.ibatis.annotations.Param;

/** credit_balances and credit_ledger. */
public interface CreditMapper {
  LedgerEntry findByKey(@Param("userId") String userId, @Param("key") String idempotencyKey);

  /** The balance row, locked until commit; null when the user never had credits. */
  Long lockBalance(@Param("userId") String userId);

  void upsertBalance(@Param("userId") String userId, @Param("balance") long balance);

  void insertLedger(LedgerEntry entry);

  /** A user's ledger, newest first, ids below {@code beforeId}. */
  java.util.List<LedgerEntry> findByUser(
      @Param("userId") String userId, @Param("beforeId") long beforeId, @Param("limit") int limit);
}
