package dev.billing.audit;

import dev.billing.db.UnitOfWork;

/** Writes audit rows inside the transaction that makes the change they describe. */
public final class AuditLog {
  public void record(
      UnitOfWork uow,
      String userId,
      Cause cause,
      String entityType,
      String entityId,
      String action,
      String oldValue,
      String newValue) {
    uow.mapper(AuditMapper.class)
        .insert(
            new AuditEntry(
                0,
                userId,
                cause.actor(),
                entityType,
                entityId,
                action,
                oldValue,
                newValue,
                cause.stripeEventId()));
  }
}
