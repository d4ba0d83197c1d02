package dev.billing.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ibatis.cursor.Cursor;
import org.apache.ibatis.executor.BatchResult;
import org.apache.ibatis.mapping.BoundSql;
import org.apache.ibatis.mapping.MappedStatement;
import org.apache.ibatis.mapping.ParameterMapping;
import org.apache.ibatis.mapping.ParameterMode;
import org.apache.ibatis.reflection.MetaObject;
import org.apache.ibatis.reflection.ParamNameResolver;
import org.apache.ibatis.session.Configuration;
import org.apache.ibatis.session.ResultHandler;
import org.apache.ibatis.session.RowBounds;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.type.JdbcType;
import org.apache.ibatis.type.TypeHandler;

/**
 * Statements recorded from calls of stores' methods instead of run, to be sent later in one packet
 * of several statements ({@link CommitBatch}, {@link ReadBatch}): what each call would have run,
 * its SQL and parameters, in the order called.
 */
final class Recorded {
  /** What a recorded call expects back. */
  enum Answer {
    /** A write: its count, or nothing. */
    COUNT,
    /** A select of rows, mapped as the store's statement maps them. */
    ROWS
  }

  /** A recorded statement. */
  static final class Entry {
    final MappedStatement ms;
    final Object parameter;
    final BoundSql sql;
    final Answer kind;

    /** Once sent: a write's count, or the id it set ({@link #wantsInsertId}). */
    long value;

    /** Once sent: the rows a select of rows answered. */
    List<?> rows;

    /** Whether it has been sent and answered. */
    boolean answered;

    /** A write whose answer is the LAST_INSERT_ID() it set, not its count. */
    boolean wantsInsertId;

    Entry(MappedStatement ms, Object parameter, Answer kind) {
      this.ms = ms;
      this.parameter = parameter;
      this.sql = ms.getBoundSql(parameter);
      this.kind = kind;
    }

    /** The store's name (the mapper's namespace), as held-back writes name it. */
    String store() {
      String id = ms.getId();
      return id.substring(0, id.lastIndexOf('.'));
    }
  }

  private final Configuration configuration;
  private final boolean rows;
  private final Map<Class<?>, Object> mappers = new HashMap<>();
  private final Recorder recorder = new Recorder();
  final List<Entry> entries = new ArrayList<>();

  /**
   * @param rows whether selects of rows may be recorded (else only writes)
   */
  Recorded(Configuration configuration, boolean rows) {
    this.configuration = configuration;
    this.rows = rows;
  }

  Configuration configuration() {
    return configuration;
  }

  /** {@code type}'s store, whose calls are recorded instead of run. */
  <S> S store(Class<S> type) {
    return type.cast(mappers.computeIfAbsent(type, t -> configuration.getMapper(t, recorder)));
  }

  /** Records exactly one call of {@code store}'s by {@code call}; returns its entry. */
  <S> Entry one(Class<S> store, java.util.function.Consumer<S> call, Answer kind) {
    int before = entries.size();
    call.accept(store(store));
    if (entries.size() != before + 1 || entries.get(before).kind != kind) {
      entries.subList(before, entries.size()).clear();
      throw new IllegalArgumentException("expected exactly one statement answering " + kind);
    }
    return entries.get(before);
  }

  /**
   * Binds {@code e}'s parameters from 1 on, as MyBatis's DefaultParameterHandler binds a
   * statement's; returns how many it bound.
   */
  private int bind(PreparedStatement ps, Entry e) throws SQLException {
    int index = 1;
    Object parameter = e.parameter;
    MetaObject meta = null;
    for (ParameterMapping pm : e.sql.getParameterMappings()) {
      if (pm.getMode() == ParameterMode.OUT) {
        continue;
      }
      String property = pm.getProperty();
      Object value;
      if (e.sql.hasAdditionalParameter(property)) {
        value = e.sql.getAdditionalParameter(property);
      } else if (parameter == null) {
        value = null;
      } else if (configuration.getTypeHandlerRegistry().hasTypeHandler(parameter.getClass())) {
        value = parameter;
      } else {
        if (meta == null) {
          meta = configuration.newMetaObject(parameter);
        }
        value = meta.getValue(property);
      }
      JdbcType jdbcType = pm.getJdbcType();
      if (value == null && jdbcType == null) {
        jdbcType = configuration.getJdbcTypeForNull();
      }
      @SuppressWarnings("unchecked")
      TypeHandler<Object> handler = (TypeHandler<Object>) pm.getTypeHandler();
      handler.setParameter(ps, index++, value, jdbcType);
    }
    return index - 1;
  }

  /**
   * Appends one statement of a packet, its values written in as literals ({@link Literals}): {@code
   * rows} is one entry, or several of one single-row INSERT, which go as one multi-row INSERT.
   */
  void appendStatement(StringBuilder out, List<Entry> rows, Literals.Values values)
      throws SQLException {
    Entry first = rows.get(0);
    if (rows.size() == 1) {
      appendLiteral(out, first.sql.getSql(), first, values);
      return;
    }
    InsertShape shape = InsertShape.of(first);
    out.append(shape.prefix());
    for (int j = 0; j < rows.size(); j++) {
      if (j > 0) {
        out.append(",\n");
      }
      appendLiteral(out, shape.tuple(), rows.get(j), values);
    }
    out.append(shape.suffix());
  }

  /**
   * Appends {@code template} (the text of {@code e}'s statement, or the part of it that holds all
   * its parameters) with {@code e}'s parameters written in, bound through {@code values} as {@link
   * #bind} binds them.
   */
  private void appendLiteral(StringBuilder out, String template, Entry e, Literals.Values values)
      throws SQLException {
    int bound = bind(values.statement, e);
    String[] pieces = Literals.template(template);
    if (pieces.length - 1 != bound) {
      throw new IllegalStateException(
          e.ms.getId() + ": " + bound + " parameters for " + (pieces.length - 1) + " places");
    }
    Literals.append(out, pieces, values.all());
  }

  /**
   * After a failed packet the server's transaction is still open with the statements before the
   * failing one applied, but the driver, which tracks whether a transaction is open from the
   * server's replies (useLocalTransactionState), may believe none is and skip a later rollback():
   * the connection would then carry those writes into its next transaction. So {@code statement}
   * goes next, on its own: ROLLBACK, or a no-op that shows the driver the open transaction again,
   * so that its caller's rollback (to a savepoint, or all of it) is really sent.
   */
  static void afterFailure(Connection connection, String statement, SQLException failure) {
    try (java.sql.Statement st = connection.createStatement()) {
      st.execute(statement);
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  /** A session that records statements instead of running them. */
  private final class Recorder implements SqlSession {
    private int record(String statement, Object parameter, Answer answer) {
      MappedStatement ms = configuration.getMappedStatement(statement);
      entries.add(new Entry(ms, ParamNameResolver.wrapToMapIfCollection(parameter, null), answer));
      return 0;
    }

    @Override
    public int insert(String statement) {
      return record(statement, null, Answer.COUNT);
    }

    @Override
    public int insert(String statement, Object parameter) {
      return record(statement, parameter, Answer.COUNT);
    }

    @Override
    public int update(String statement) {
      return record(statement, null, Answer.COUNT);
    }

    @Override
    public int update(String statement, Object parameter) {
      return record(statement, parameter, Answer.COUNT);
    }

    @Override
    public int delete(String statement) {
      return record(statement, null, Answer.COUNT);
    }

    @Override
    public int delete(String statement, Object parameter) {
      return record(statement, parameter, Answer.COUNT);
    }

    @Override
    public <T> T selectOne(String statement) {
      return selectOne(statement, null);
    }

    @Override
    public <T> T selectOne(String statement, Object parameter) {
      throw notHere(); // read it as rows
    }

    @Override
    public <E> List<E> selectList(String statement) {
      return selectList(statement, null);
    }

    @Override
    public <E> List<E> selectList(String statement, Object parameter) {
      if (!rows) {
        throw notHere();
      }
      MappedStatement ms = configuration.getMappedStatement(statement);
      if (ms.getResultMaps().size() != 1 || ms.getResultMaps().get(0).hasNestedQueries()) {
        throw new UnsupportedOperationException(
            statement + ": only selects of one result map without nested selects are recorded");
      }
      record(statement, parameter, Answer.ROWS);
      return List.of(); // answered once sent
    }

    @Override
    public <E> List<E> selectList(String statement, Object parameter, RowBounds rowBounds) {
      throw notHere();
    }

    @Override
    public Configuration getConfiguration() {
      return configuration;
    }

    @Override
    public <T> T getMapper(Class<T> type) {
      return configuration.getMapper(type, this);
    }

    private UnsupportedOperationException notHere() {
      return new UnsupportedOperationException(
          rows
              ? "only writes and selects of rows are recorded"
              : "only writes can go with the commit");
    }

    @Override
    public <K, V> Map<K, V> selectMap(String statement, String mapKey) {
      throw notHere();
    }

    @Override
    public <K, V> Map<K, V> selectMap(String statement, Object parameter, String mapKey) {
      throw notHere();
    }

    @Override
    public <K, V> Map<K, V> selectMap(
        String statement, Object parameter, String mapKey, RowBounds rowBounds) {
      throw notHere();
    }

    @Override
    public <T> Cursor<T> selectCursor(String statement) {
      throw notHere();
    }

    @Override
    public <T> Cursor<T> selectCursor(String statement, Object parameter) {
      throw notHere();
    }

    @Override
    public <T> Cursor<T> selectCursor(String statement, Object parameter, RowBounds rowBounds) {
      throw notHere();
    }

    @Override
    public void select(String statement, Object parameter, ResultHandler handler) {
      throw notHere();
    }

    @Override
    public void select(String statement, ResultHandler handler) {
      throw notHere();
    }

    @Override
    public void select(
        String statement, Object parameter, RowBounds rowBounds, ResultHandler handler) {
      throw notHere();
    }

    @Override
    public void commit() {
      throw notHere();
    }

    @Override
    public void commit(boolean force) {
      throw notHere();
    }

    @Override
    public void rollback() {
      throw notHere();
    }

    @Override
    public void rollback(boolean force) {
      throw notHere();
    }

    @Override
    public List<BatchResult> flushStatements() {
      throw notHere();
    }

    @Override
    public void close() {}

    @Override
    public void clearCache() {}

    @Override
    public Connection getConnection() {
      throw notHere();
    }
  }
}
