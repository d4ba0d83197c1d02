package dev.billing.persistence;

import dev.billing.domain.audit.AuditEntry;
import dev.billing.domain.audit.AuditMapper;
import dev.billing.domain.change.PendingChange;
import dev.billing.proto.v1.SubscriptionChange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.ibatis.session.SqlSession;

/**
 * One database transaction in progress: its mappers, and the entitlement changes it will append to
 * the change log just before it commits.
 */
public final class UnitOfWork {
  private final SqlSession session;
  private final List<PendingChange> pending = new ArrayList<>();
  private final List<AuditEntry> audits = new ArrayList<>();
  private final Map<Class<?>, Object> attachments = new HashMap<>();
  private final List<Runnable> deferredWrites = new ArrayList<>();
  private List<SubscriptionChange> committed = List.of();

  UnitOfWork(SqlSession session) {
    this.session = session;
  }

  public <M> M mapper(Class<M> type) {
    return session.getMapper(type);
  }

  /**
   * Per-transaction state a service keeps beside the database, such as the rows it has locked as
   * they stand now, so it need not read them again. Dropped on a savepoint rollback (the rows may
   * have changed back) and gone with the transaction.
   */
  public <T> T attachment(Class<T> type, Supplier<T> create) {
    return type.cast(attachments.computeIfAbsent(type, k -> create.get()));
  }

  /**
   * Queues a change; it gets its sequence number and change_log row as this transaction commits.
   */
  public void recordChange(PendingChange change) {
    pending.add(change);
  }

  /**
   * Queues an audit row; all of a transaction's rows are written in one statement before it
   * commits.
   */
  public void recordAudit(AuditEntry entry) {
    audits.add(entry);
  }

  /**
   * Registers writes a service holds back so that a group's rows go in one statement. They are
   * sent, in registration order, before a savepoint is set, by {@link #flush} and before commit;
   * each {@code flush} sends what is pending and forgets it.
   */
  public void deferWrites(Runnable flush) {
    deferredWrites.add(flush);
  }

  /** Sends the held-back writes now. */
  public void flush() {
    deferredWrites.forEach(Runnable::run);
  }

  /** Before commit: the held-back writes, then the audit rows. */
  void flushAll() {
    flush();
    if (!audits.isEmpty()) {
      mapper(AuditMapper.class).insertAll(audits);
      audits.clear();
    }
  }

  /** A point to roll back to without losing the rest of the transaction. */
  public record Mark(java.sql.Savepoint savepoint, int changes, int audits) {}

  public Mark mark() {
    flush(); // what came before the mark must survive a rollback to it
    try {
      return new Mark(session.getConnection().setSavepoint(), pending.size(), audits.size());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("cannot set a savepoint", e);
    }
  }

  /** Undoes everything since {@code mark}: its statements and the changes it queued. */
  public void rollbackTo(Mark mark) {
    try {
      session.getConnection().rollback(mark.savepoint());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("cannot roll back to a savepoint", e);
    }
    session.clearCache();
    attachments.clear();
    deferredWrites.clear();
    pending.subList(mark.changes(), pending.size()).clear();
    audits.subList(mark.audits(), audits.size()).clear();
  }

  public List<PendingChange> pendingChanges() {
    return List.copyOf(pending);
  }

  /** The changes as appended to the change log, with their sequence numbers (after commit). */
  public List<SubscriptionChange> committedChanges() {
    return committed;
  }

  public void setCommittedChanges(List<SubscriptionChange> changes) {
    this.committed = List.copyOf(changes);
  }
}
