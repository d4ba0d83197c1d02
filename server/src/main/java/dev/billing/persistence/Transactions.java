package dev.billing.persistence;

import dev.billing.error.BillingException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.session.SqlSessionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs service methods in one database transaction each. Deadlocks and lock-wait timeouts (which
 * concurrent webhooks for one customer do cause) are retried with jitter; a database that cannot be
 * reached becomes {@link BillingException.Unavailable}.
 */
public final class Transactions {
  private static final Logger log = LoggerFactory.getLogger(Transactions.class);
  private static final int MAX_ATTEMPTS = 10;

  private final SqlSessionFactory factory;
  private final DatabaseHealth health;
  private final List<CommitHook> hooks = new CopyOnWriteArrayList<>();

  /**
   * @param health whether the database answers: while it does not, every transaction fails at once
   *     ({@link BillingException.Unavailable}), and the connections held when it stops answering
   *     are aborted
   */
  public Transactions(SqlSessionFactory factory, DatabaseHealth health) {
    this.factory = factory;
    this.health = health;
  }

  private void requireUp() {
    if (!health.isUp()) {
      throw BillingException.Unavailable.database(null);
    }
  }

  /** Adds a hook every transaction runs, in the order added, before and after it commits. */
  public void addCommitHook(CommitHook hook) {
    hooks.add(hook);
  }

  /** The body of a transaction. It may run more than once when the database asks for a retry. */
  @FunctionalInterface
  public interface Work<T> {
    T run(UnitOfWork uow);

    /**
     * What to throw when the writes that go as it commits (held-back writes, commit hooks' writes)
     * fail: {@code e} itself unless the work says otherwise.
     */
    default RuntimeException failedAtCommit(RuntimeException e) {
      return e;
    }
  }

  public <T> T execute(Work<T> work) {
    return run(work, true);
  }

  /**
   * Runs the work as {@link #execute} would, statement for statement, and rolls it back after its
   * commit hooks wrote their part: nothing is kept and nothing is published (a warm-up).
   */
  public <T> T rehearse(Work<T> work) {
    return run(work, false);
  }

  /**
   * Runs the work, and commits it ({@code commit}) or rolls it back after its commit hooks wrote
   * their part (a rehearsal: nothing is kept and nothing is published; inside {@link #rehearsing}
   * it is rolled back with the scope, not at once).
   */
  private <T> T run(Work<T> work, boolean commit) {
    SqlSession shared = rehearsal;
    if (!commit && shared != null) {
      return rehearseWithin(shared, work);
    }
    for (int attempt = 1; ; attempt++) {
      UnitOfWork uow;
      T result;
      UnitOfWork outer = HeldWritesInterceptor.CURRENT.get();
      requireUp();
      try (SqlSession session = factory.openSession(false)) {
        boolean committed = false;
        Connection connection = null;
        try {
          connection = session.getConnection();
          health.register(connection);
          uow = new UnitOfWork(session, factory);
          result =
              runUpToCommit(uow, work, commit ? CommitBatch.End.COMMIT : CommitBatch.End.REHEARSAL);
          if (!commit) {
            rehearsed(uow);
            return result; // rolled back below
          }
          // After a COMMIT sent with the commit's statements the driver knows no transaction is
          // open (useLocalTransactionState) and sends nothing here.
          session.commit(true);
          committed = true;
        } finally {
          if (!committed) {
            rollbackQuietly(session);
          }
          if (connection != null) {
            health.unregister(connection);
          }
          HeldWritesInterceptor.CURRENT.set(outer);
        }
      } catch (RuntimeException e) {
        if (attempt < MAX_ATTEMPTS && isRetryable(e)) {
          log.debug("transaction attempt {} conflicted, retrying: {}", attempt, rootMessage(e));
          backoff(attempt);
          continue;
        }
        throw translate(e);
      }
      for (CommitHook hook : hooks) {
        hook.afterCommit(uow);
      }
      return result;
    }
  }

  /** The transaction that rehearsals share while {@link #rehearsing} runs; guarded by itself. */
  private volatile SqlSession rehearsal;

  /**
   * Runs {@code body}, during which rehearsals ({@link #rehearseGroup}, on any thread, one at a
   * time) share one transaction, rolled back when it returns: a rehearsed group sees what the
   * groups rehearsed before it wrote, as a group sees what earlier groups committed, and finds rows
   * where real traffic finds them. Nothing is kept. The transaction holds its locks until then: run
   * it before the service takes traffic.
   */
  public void rehearsing(Runnable body) {
    requireUp();
    try (SqlSession session = factory.openSession(false)) {
      rehearsal = session;
      try {
        body.run();
      } finally {
        synchronized (session) {
          rehearsal = null;
          rollbackQuietly(session);
        }
      }
    }
  }

  /**
   * A rehearsal inside {@link #rehearsing}: the work and its commit hooks after a savepoint, kept
   * for the rehearsals after it if it succeeds, rolled back to the savepoint if it fails.
   */
  private <T> T rehearseWithin(SqlSession session, Work<T> work) {
    synchronized (session) {
      if (rehearsal != session) {
        throw new IllegalStateException("the rehearsal has ended");
      }
      UnitOfWork outer = HeldWritesInterceptor.CURRENT.get();
      Connection connection = session.getConnection();
      Savepoint savepoint;
      try {
        savepoint = connection.setSavepoint();
      } catch (SQLException e) {
        throw new IllegalStateException("cannot set a savepoint", e);
      }
      boolean done = false;
      try {
        UnitOfWork uow = new UnitOfWork(session, factory);
        T result = runUpToCommit(uow, work, CommitBatch.End.REHEARSAL);
        rehearsed(uow);
        done = true;
        return result;
      } finally {
        HeldWritesInterceptor.CURRENT.set(outer);
        try {
          if (done) {
            connection.releaseSavepoint(savepoint);
          } else {
            connection.rollback(savepoint);
            session.clearCache();
          }
        } catch (SQLException e) {
          log.debug("savepoint release or rollback failed: {}", rootMessage(e));
        }
      }
    }
  }

  /**
   * The work in {@code uow}, then its held-back writes and the commit hooks' writes in one round
   * trip, ending with {@code end}'s statement (COMMIT, or a rehearsal's no-op). The caller restores
   * {@link HeldWritesInterceptor#CURRENT} afterwards.
   */
  private <T> T runUpToCommit(UnitOfWork uow, Work<T> work, CommitBatch.End end) {
    HeldWritesInterceptor.CURRENT.set(uow);
    T result = work.run(uow);
    try {
      uow.beginCommit();
      for (CommitHook hook : hooks) {
        hook.beforeCommit(uow);
      }
      uow.endCommit(end);
    } catch (RuntimeException e) {
      throw work.failedAtCommit(e);
    }
    return result;
  }

  /** A rehearsal's hooks, instead of {@link CommitHook#afterCommit}: they must not throw. */
  private void rehearsed(UnitOfWork uow) {
    for (CommitHook hook : hooks) {
      hook.afterRehearsal(uow);
    }
  }

  /**
   * A read: each statement sees the latest commits (READ COMMITTED), no locks are taken but those a
   * statement asks for (the change log's settling read, {@code ChangeLogStore.settledLastSeq}), and
   * the pool ends the read-only transaction when the connection returns.
   */
  public <T> T read(Function<Stores, T> query) {
    UnitOfWork outer = HeldWritesInterceptor.CURRENT.get();
    HeldWritesInterceptor.CURRENT.remove();
    requireUp();
    Connection connection = null;
    try (SqlSession session = factory.openSession(false)) {
      connection = session.getConnection();
      health.register(connection);
      return query.apply(
          new Stores() {
            @Override
            public <S> S store(Class<S> type) {
              return session.getMapper(type);
            }
          });
    } catch (RuntimeException e) {
      throw translate(e);
    } finally {
      if (connection != null) {
        health.unregister(connection);
      }
      HeldWritesInterceptor.CURRENT.set(outer);
    }
  }

  /**
   * The work of a group of items written in one transaction (see {@link #executeGroup}).
   *
   * @param <I> an item
   * @param <R> an item's result
   */
  public interface GroupWork<I, R> {
    /**
     * Before the items of a batched group: may write for all of them at once; false sends the group
     * down the one-item-at-a-time path instead.
     */
    boolean prepare(UnitOfWork uow, List<I> items);

    /** One item's work; {@code batched} is true when {@code prepare} ran for it. */
    R apply(UnitOfWork uow, I item, boolean batched);
  }

  /**
   * What became of each item of a group, in order: its result, or the failure that set it aside
   * (null in the other list).
   */
  public record GroupOutcome<R>(
      List<R> results, List<RuntimeException> failures, boolean isolated) {}

  /** Thrown inside a group's batched transaction: the group is redone one item at a time. */
  private static final class Isolate extends RuntimeException {
    Isolate() {
      super(null, null, false, false);
    }
  }

  /**
   * Group commit: applies the items in ONE transaction (one commit, one log flush, one pass of the
   * commit hooks for all of them), with {@code prepare} first when {@code batched}. If an item
   * fails, or {@code prepare} declines, the group is redone in one transaction with a savepoint per
   * item, so only the failing items are rolled back and reported while the rest commit. Conflicts
   * retry the whole group; an unreachable database fails all of it ({@link
   * BillingException.Unavailable}).
   */
  public <I, R> GroupOutcome<R> executeGroup(List<I> items, boolean batched, GroupWork<I, R> work) {
    return group(items, batched, work, true);
  }

  /**
   * Does what {@link #executeGroup} does for these items (the first path, or the careful one when
   * the first declines), statement for statement, commit hooks included, then rolls it all back:
   * nothing is kept, nothing is published. Used to warm the write path up before the service takes
   * traffic.
   */
  public <I, R> GroupOutcome<R> rehearseGroup(
      List<I> items, boolean batched, GroupWork<I, R> work) {
    return group(items, batched, work, false);
  }

  /**
   * A group's transaction: {@link #executeGroup} when {@code commit}, else {@link #rehearseGroup}.
   */
  public <I, R> GroupOutcome<R> group(
      List<I> items, boolean batched, GroupWork<I, R> work, boolean commit) {
    int n = items.size();
    List<R> results = nulls(n);
    List<RuntimeException> failures = nulls(n);
    try {
      run(firstPath(items, batched, work, results), commit);
      return new GroupOutcome<>(results, failures, false);
    } catch (Isolate e) {
      // Rare: redo the group with a savepoint per item, so only the failing ones are set aside.
    }
    run(isolatedPath(items, work, results, failures), commit);
    return new GroupOutcome<>(results, failures, true);
  }

  /** A modifiable list of {@code n} nulls: a group's results or failures, one slot per item. */
  private static <T> List<T> nulls(int n) {
    return new ArrayList<>(Collections.nCopies(n, null));
  }

  /**
   * A group's transaction on the careful path: a savepoint per item, the failing ones rolled back
   * and reported in {@code failures} ({@link #executeGroup}).
   */
  private static <I, R> Work<Void> isolatedPath(
      List<I> items, GroupWork<I, R> work, List<R> results, List<RuntimeException> failures) {
    int n = items.size();
    return uow -> {
      Collections.fill(results, null);
      Collections.fill(failures, null);
      for (int i = 0; i < n; i++) {
        UnitOfWork.Mark mark = uow.mark();
        try {
          R r = work.apply(uow, items.get(i), false);
          uow.flush(); // its held-back writes fail here, with it, if they fail
          results.set(i, r);
        } catch (RuntimeException e) {
          throwIfFatal(e);
          uow.rollbackTo(mark);
          failures.set(i, e);
        }
      }
      return null;
    };
  }

  /**
   * A group's transaction on the first path: one pass, every item in it ({@link #executeGroup}).
   */
  private static <I, R> Work<Void> firstPath(
      List<I> items, boolean batched, GroupWork<I, R> work, List<R> results) {
    int n = items.size();
    return new Work<>() {
      @Override
      public Void run(UnitOfWork uow) {
        Collections.fill(results, null);
        if (batched && !work.prepare(uow, items)) {
          throw new Isolate();
        }
        try {
          for (int i = 0; i < n; i++) {
            results.set(i, work.apply(uow, items.get(i), batched));
          }
        } catch (RuntimeException e) {
          throw isolateUnlessFatal(e);
        }
        return null;
      }

      /** The held-back writes go with the commit: if they fail, so does the first path. */
      @Override
      public RuntimeException failedAtCommit(RuntimeException e) {
        return isolateUnlessFatal(e);
      }
    };
  }

  /** Conflicts retry the whole group; an unreachable database answers for all of it. */
  private static void throwIfFatal(RuntimeException e) {
    if (isRetryable(e) || translate(e) instanceof BillingException.Unavailable) {
      throw e;
    }
  }

  private static RuntimeException isolateUnlessFatal(RuntimeException e) {
    throwIfFatal(e);
    return new Isolate();
  }

  private static void rollbackQuietly(SqlSession session) {
    try {
      session.rollback(true);
    } catch (RuntimeException e) {
      log.debug("rollback failed: {}", rootMessage(e));
    }
  }

  private static void backoff(int attempt) {
    long millis = ThreadLocalRandom.current().nextLong(1, 2L << Math.min(attempt, 6));
    try {
      Thread.sleep(millis);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  public static boolean isRetryable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransactionRollbackException) {
        return true;
      }
      if (t instanceof SQLException sql
          && (sql.getErrorCode() == 1213
              || sql.getErrorCode() == 1205
              || "40001".equals(sql.getSQLState()))) {
        return true;
      }
    }
    return false;
  }

  /** True when the exception (or a cause) is a unique-key violation. */
  public static boolean isDuplicateKey(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLIntegrityConstraintViolationException) {
        return true;
      }
    }
    return false;
  }

  /** Maps "cannot reach the database" to Unavailable; leaves everything else as it is. */
  public static RuntimeException translate(RuntimeException e) {
    if (e instanceof BillingException) {
      return e;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || t instanceof SQLRecoverableException
          || t.getClass().getSimpleName().equals("CommunicationsException")) {
        return BillingException.Unavailable.database(e);
      }
    }
    return e;
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
