package dev.billing.persistence;

import java.util.Properties;
import org.apache.ibatis.cache.CacheKey;
import org.apache.ibatis.executor.Executor;
import org.apache.ibatis.mapping.BoundSql;
import org.apache.ibatis.mapping.MappedStatement;
import org.apache.ibatis.plugin.Interceptor;
import org.apache.ibatis.plugin.Intercepts;
import org.apache.ibatis.plugin.Invocation;
import org.apache.ibatis.plugin.Signature;
import org.apache.ibatis.session.ResultHandler;
import org.apache.ibatis.session.RowBounds;

/**
 * Sends a transaction's held-back writes for a store before any other statement of that store runs,
 * whoever issues it: the rule lives here, not in the code that holds the writes.
 */
@Intercepts({
  @Signature(
      type = Executor.class,
      method = "update",
      args = {MappedStatement.class, Object.class}),
  @Signature(
      type = Executor.class,
      method = "query",
      args = {MappedStatement.class, Object.class, RowBounds.class, ResultHandler.class}),
  @Signature(
      type = Executor.class,
      method = "query",
      args = {
        MappedStatement.class,
        Object.class,
        RowBounds.class,
        ResultHandler.class,
        CacheKey.class,
        BoundSql.class
      })
})
final class HeldWritesInterceptor implements Interceptor {
  /** The unit of work running on this thread, while {@link Transactions#execute} runs it. */
  static final ThreadLocal<UnitOfWork> CURRENT = new ThreadLocal<>();

  @Override
  public Object intercept(Invocation invocation) throws Throwable {
    UnitOfWork uow = CURRENT.get();
    if (uow != null) {
      String id = ((MappedStatement) invocation.getArgs()[0]).getId();
      uow.flushBefore(id.substring(0, id.lastIndexOf('.')));
    }
    return invocation.proceed();
  }

  @Override
  public void setProperties(Properties properties) {}
}
