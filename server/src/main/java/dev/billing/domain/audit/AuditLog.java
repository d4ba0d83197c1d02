package dev.billing.domain.audit;

import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.util.List;

/** Writes audit rows inside the transaction that makes the change they describe, and reads them. */
public final class AuditLog {
  private final Transactions tx;

  public AuditLog(Transactions tx) {
    this.tx = tx;
  }

  public void record(
      UnitOfWork uow,
      String userId,
      Cause cause,
      String entityType,
      String entityId,
      String action,
      String oldValue,
      String newValue) {
    uow.recordAudit(
        new AuditEntry(
            0,
            userId,
            cause.actor(),
            entityType,
            entityId,
            action,
            oldValue,
            newValue,
            cause.stripeEventId(),
            0));
  }

  /** A user's entries, newest first, with ids below {@code beforeId}. */
  public List<AuditEntry> entries(String userId, long beforeId, int limit) {
    return tx.read(s -> s.getMapper(AuditMapper.class).findByUser(userId, beforeId, limit));
  }
}
