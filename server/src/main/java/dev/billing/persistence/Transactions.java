package dev.billing.persistence;

import dev.billing.error.BillingException;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
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
  private final List<CommitHook> hooks = new CopyOnWriteArrayList<>();

  public Transactions(SqlSessionFactory factory) {
    this.factory = factory;
  }

  /** Adds a hook every transaction runs, in the order added, before and after it commits. */
  public void addCommitHook(CommitHook hook) {
    hooks.add(hook);
  }

  /** The body of a transaction. It may run more than once when the database asks for a retry. */
  @FunctionalInterface
  public interface Work<T> {
    T run(UnitOfWork uow);
  }

  public <T> T execute(Work<T> work) {
    for (int attempt = 1; ; attempt++) {
      UnitOfWork uow;
      T result;
      try (SqlSession session = factory.openSession(false)) {
        boolean committed = false;
        try {
          uow = new UnitOfWork(session);
          result = work.run(uow);
          uow.flush();
          for (CommitHook hook : hooks) {
            hook.beforeCommit(uow);
          }
          session.commit(true);
          committed = true;
        } finally {
          if (!committed) {
            rollbackQuietly(session);
          }
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

  /** A read outside any transaction (autocommit, each statement sees the latest commits). */
  public <T> T read(Function<SqlSession, T> query) {
    try (SqlSession session = factory.openSession(true)) {
      return query.apply(session);
    } catch (RuntimeException e) {
      throw translate(e);
    }
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
        return new BillingException.Unavailable(
            "DATABASE_UNAVAILABLE", "the database is unavailable, retry later", e);
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
