package dev.billing.domain.audit;

import dev.billing.persistence.CommitHook;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.util.List;

/**
 * Writes audit rows inside the transaction that makes the change they describe (all of a
 * transaction's rows in one statement as it commits), and reads them.
 */
public final class AuditLog implements CommitHook {
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
    uow.journal(AuditEntry.class)
        .add(
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

  @Override
  public void beforeCommit(UnitOfWork uow) {
    List<AuditEntry> entries = uow.journal(AuditEntry.class);
    if (!entries.isEmpty()) {
      uow.commitBatch().batch(AuditStore.class, entries, AuditStore::insert);
      entries.clear();
    }
  }

  /** Records an entry in a transaction of its own (for actions that change nothing else). */
  public void recordNow(
      String userId, Cause cause, String entityType, String entityId, String action) {
    tx.execute(
        uow -> {
          record(uow, userId, cause, entityType, entityId, action, null, null);
          return null;
        });
  }

  /** A user's entries, newest first, with ids below {@code beforeId}. */
  public List<AuditEntry> entries(String userId, long beforeId, int limit) {
    return tx.read(s -> s.store(AuditStore.class).findByUser(userId, beforeId, limit));
  }
}
