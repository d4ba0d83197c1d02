package dev.billing.persistence;

import java.util.Properties;
import org.apache.ibatis.cache.CacheKey;
import org.apache.ibatis.executor.Executor;
import org.apache.ibatis.mapping.BoundSql;
import org.apache.ibatis.mapping.MappedStatement;
import org.apache.ibatis.plugin.Interceptor;
import org.apache.ibatis.plugin.Invocation;
import org.apache.ibatis.session.ResultHandler;
import org.apache.ibatis.session.RowBounds;

/**
 * Sends a transaction's held-back writes for a store before any other statement of that store runs,
 * whoever issues it: the rule lives here, not in the code that holds the writes.
 */
final class HeldWritesInterceptor implements Interceptor {
  /** The unit of work running on this thread, while {@link Transactions#execute} runs it. */
  static final ThreadLocal<UnitOfWork> CURRENT = new ThreadLocal<>();

  /** Not called: {@link #plugin} wraps executors itself instead of through MyBatis's proxies. */
  @Override
  public Object intercept(Invocation invocation) throws Throwable {
    return invocation.proceed();
  }

  /**
   * Wraps each session's executor in a plain delegating class instead of MyBatis's reflective proxy
   * (and leaves the per-statement handlers alone): no annotation scan and no reflective call per
   * statement.
   */
  @Override
  public Object plugin(Object target) {
    return target instanceof Executor executor ? new FlushingExecutor(executor) : target;
  }

  private static void flushBefore(MappedStatement ms) {
    UnitOfWork uow = CURRENT.get();
    if (uow != null) {
      String id = ms.getId();
      uow.flushBefore(id.substring(0, id.lastIndexOf('.')));
    }
  }

  /** An executor that sends held-back writes before each statement, then delegates. */
  private static final class FlushingExecutor implements Executor {
    private final Executor delegate;

    FlushingExecutor(Executor delegate) {
      this.delegate = delegate;
      delegate.setExecutorWrapper(this);
    }

    @Override
    public int update(MappedStatement ms, Object parameter) throws java.sql.SQLException {
      flushBefore(ms);
      return delegate.update(ms, parameter);
    }

    @Override
    public <E> java.util.List<E> query(
        MappedStatement ms,
        Object parameter,
        RowBounds rowBounds,
        ResultHandler resultHandler,
        CacheKey cacheKey,
        BoundSql boundSql)
        throws java.sql.SQLException {
      flushBefore(ms);
      return delegate.query(ms, parameter, rowBounds, resultHandler, cacheKey, boundSql);
    }

    @Override
    public <E> java.util.List<E> query(
        MappedStatement ms, Object parameter, RowBounds rowBounds, ResultHandler resultHandler)
        throws java.sql.SQLException {
      flushBefore(ms);
      return delegate.query(ms, parameter, rowBounds, resultHandler);
    }

    @Override
    public <E> org.apache.ibatis.cursor.Cursor<E> queryCursor(
        MappedStatement ms, Object parameter, RowBounds rowBounds) throws java.sql.SQLException {
      flushBefore(ms);
      return delegate.queryCursor(ms, parameter, rowBounds);
    }

    @Override
    public java.util.List<org.apache.ibatis.executor.BatchResult> flushStatements()
        throws java.sql.SQLException {
      return delegate.flushStatements();
    }

    @Override
    public void commit(boolean required) throws java.sql.SQLException {
      delegate.commit(required);
    }

    @Override
    public void rollback(boolean required) throws java.sql.SQLException {
      delegate.rollback(required);
    }

    @Override
    public CacheKey createCacheKey(
        MappedStatement ms, Object parameterObject, RowBounds rowBounds, BoundSql boundSql) {
      return delegate.createCacheKey(ms, parameterObject, rowBounds, boundSql);
    }

    @Override
    public boolean isCached(MappedStatement ms, CacheKey key) {
      return delegate.isCached(ms, key);
    }

    @Override
    public void clearLocalCache() {
      delegate.clearLocalCache();
    }

    @Override
    public void deferLoad(
        MappedStatement ms,
        org.apache.ibatis.reflection.MetaObject resultObject,
        String property,
        CacheKey key,
        Class<?> targetType) {
      delegate.deferLoad(ms, resultObject, property, key, targetType);
    }

    @Override
    public org.apache.ibatis.transaction.Transaction getTransaction() {
      return delegate.getTransaction();
    }

    @Override
    public void close(boolean forceRollback) {
      delegate.close(forceRollback);
    }

    @Override
    public boolean isClosed() {
      return delegate.isClosed();
    }

    @Override
    public void setExecutorWrapper(Executor executor) {
      delegate.setExecutorWrapper(executor);
    }
  }

  @Override
  public void setProperties(Properties properties) {}
}
