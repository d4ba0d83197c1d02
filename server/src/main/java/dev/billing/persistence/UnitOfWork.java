package dev.billing.persistence;

import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.apache.ibatis.session.ExecutorType;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.session.SqlSessionFactory;

/**
 * One database transaction in progress: its mappers, the rows the domain keeps beside it, and the
 * journals of what it will write as it commits (audit rows, change-log entries).
 */
public final class UnitOfWork implements Writes {
  private final SqlSession session;
  private final SqlSessionFactory factory;
  private SqlSession batchSession;
  private final Map<Class<?>, List<?>> journals = new LinkedHashMap<>();
  private final Map<Class<?>, Object> attachments = new HashMap<>();
  private final List<HeldWrites<?>> heldWrites = new ArrayList<>();
  private boolean flushing;
  private CommitBatch commitBatch;

  UnitOfWork(SqlSession session, SqlSessionFactory factory) {
    this.session = session;
    this.factory = factory;
  }

  @Override
  public <S> S store(Class<S> type) {
    return session.getMapper(type);
  }

  /**
   * A batch of this transaction's statements to send together, in one round trip (see {@link
   * ReadBatch}).
   */
  public ReadBatch reads() {
    return new ReadBatch(this, session.getConnection());
  }

  org.apache.ibatis.session.Configuration configuration() {
    return session.getConfiguration();
  }

  /**
   * Writes {@code rows} with {@code write}, a single-row statement of {@code store}, as one JDBC
   * batch on this transaction's connection: the statement's SQL and parameter mapping are prepared
   * once, and the driver sends the rows as one multi-row statement. Done when it returns.
   */
  @Override
  public <S, T> void batch(Class<S> store, Collection<T> rows, BiConsumer<S, T> write) {
    if (rows.isEmpty()) {
      return;
    }
    if (rows.size() == 1) {
      write.accept(store(store), rows.iterator().next());
      return;
    }
    if (batchSession == null) {
      // Shares the connection, hence the transaction; never closed itself (that would close it).
      batchSession = factory.openSession(ExecutorType.BATCH, session.getConnection());
    }
    S batched = batchSession.getMapper(store);
    for (T row : rows) {
      write.accept(batched, row);
    }
    batchSession.flushStatements();
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
   * The transaction's journal of {@code type} entries: appended during the transaction, written by
   * a {@link CommitHook} as it commits, trimmed back on a savepoint rollback (unlike attachments,
   * what came before the savepoint stays).
   */
  @SuppressWarnings("unchecked")
  public <T> List<T> journal(Class<T> type) {
    return (List<T>) journals.computeIfAbsent(type, k -> new ArrayList<>());
  }

  /** Registers held-back writes (see {@link HeldWrites}); they go before a savepoint and commit. */
  void hold(HeldWrites<?> writes) {
    heldWrites.add(writes);
  }

  /** Sends all held-back writes now. */
  public void flush() {
    flushBefore(null);
  }

  /**
   * The statements that go with the COMMIT, in the round trip that commits: for {@link
   * CommitHook#beforeCommit}, whose writes belong there. Only while the transaction commits.
   */
  public CommitBatch commitBatch() {
    if (commitBatch == null) {
      throw new IllegalStateException("the commit's statements are gathered only as it commits");
    }
    return commitBatch;
  }

  /**
   * Starts the commit: the held-back writes go to the commit's statements, where the hooks add
   * theirs.
   */
  void beginCommit() {
    commitBatch = new CommitBatch(session.getConfiguration());
    for (HeldWrites<?> w : heldWrites) {
      w.flush(commitBatch);
    }
  }

  /**
   * Sends the commit's statements, and {@code end}'s statement after them (COMMIT, or a rehearsal's
   * no-op), in one round trip. With nothing gathered nothing is sent: the caller's commit (or
   * rollback) ends the transaction.
   */
  void endCommit(CommitBatch.End end) {
    CommitBatch batch = commitBatch;
    commitBatch = null;
    if (batch != null && !batch.isEmpty()) {
      batch.send(session.getConnection(), end);
    }
  }

  /**
   * Before a statement on {@code store} (a store's class name; null for all): sends the writes held
   * for that store, so the statement sees them and orders after them.
   */
  void flushBefore(String store) {
    if (flushing || heldWrites.isEmpty()) {
      return;
    }
    flushing = true;
    try {
      for (HeldWrites<?> w : heldWrites) {
        if (store == null || w.store().equals(store)) {
          w.flush(this);
        }
      }
    } finally {
      flushing = false;
    }
  }

  /** A point to roll back to without losing the rest of the transaction. */
  public record Mark(Savepoint savepoint, Map<Class<?>, Integer> journalSizes) {}

  public Mark mark() {
    flush(); // what came before the mark must survive a rollback to it
    Map<Class<?>, Integer> sizes = new HashMap<>();
    journals.forEach((type, list) -> sizes.put(type, list.size()));
    try {
      return new Mark(session.getConnection().setSavepoint(), sizes);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot set a savepoint", e);
    }
  }

  /** Undoes everything since {@code mark}: its statements and what it journaled. */
  public void rollbackTo(Mark mark) {
    try {
      session.getConnection().rollback(mark.savepoint());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot roll back to a savepoint", e);
    }
    session.clearCache();
    attachments.clear();
    heldWrites.clear();
    journals.forEach(
        (type, list) ->
            list.subList(mark.journalSizes().getOrDefault(type, 0), list.size()).clear());
  }
}
