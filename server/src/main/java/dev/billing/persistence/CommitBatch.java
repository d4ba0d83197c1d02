package dev.billing.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.ibatis.cursor.Cursor;
import org.apache.ibatis.exceptions.ExceptionFactory;
import org.apache.ibatis.executor.BatchResult;
import org.apache.ibatis.mapping.BoundSql;
import org.apache.ibatis.mapping.MappedStatement;
import org.apache.ibatis.mapping.ParameterMapping;
import org.apache.ibatis.mapping.ParameterMode;
import org.apache.ibatis.mapping.SqlCommandType;
import org.apache.ibatis.reflection.MetaObject;
import org.apache.ibatis.reflection.ParamNameResolver;
import org.apache.ibatis.session.Configuration;
import org.apache.ibatis.session.ResultHandler;
import org.apache.ibatis.session.RowBounds;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.type.JdbcType;
import org.apache.ibatis.type.TypeHandler;

/**
 * The statements a transaction sends in the same round trip as its COMMIT: its held-back writes and
 * the commit hooks' journals. A store's methods called through {@link #store} are recorded, not
 * run; at commit they go, in the order recorded, as one multi-statement packet ending in COMMIT.
 * Consecutive rows of one single-row INSERT become one multi-row INSERT, as a JDBC batch would send
 * them. If a statement fails, the server stops there: nothing after it runs, the COMMIT included,
 * and the transaction is rolled back as it would be after any failed statement.
 *
 * <p>Writes recorded here answer 0 rows (the count is not known until the packet is sent): a writer
 * that reads its count writes through the transaction instead. A value the commit's statements
 * compute comes back through {@link #readLong}.
 */
public final class CommitBatch implements Writes {
  private final Configuration configuration;
  private final Recorder recorder = new Recorder();
  private final Map<Class<?>, Object> mappers = new HashMap<>();
  private final List<Entry> entries = new ArrayList<>();

  CommitBatch(Configuration configuration) {
    this.configuration = configuration;
  }

  /** A recorded statement; {@code value} holds a read's answer once sent. */
  private static final class Entry {
    final MappedStatement ms;
    final Object parameter;
    final BoundSql sql;
    final boolean read;
    long value;
    boolean answered;

    Entry(MappedStatement ms, Object parameter, boolean read) {
      this.ms = ms;
      this.parameter = parameter;
      this.sql = ms.getBoundSql(parameter);
      this.read = read;
    }
  }

  /** {@code type}'s store, whose writes are recorded to be sent with the COMMIT. */
  @Override
  public <S> S store(Class<S> type) {
    return type.cast(mappers.computeIfAbsent(type, t -> configuration.getMapper(t, recorder)));
  }

  @Override
  public <S, T> void batch(Class<S> store, Collection<T> rows, BiConsumer<S, T> write) {
    S recording = store(store);
    for (T row : rows) {
      write.accept(recording, row);
    }
  }

  /**
   * Records {@code select}, a query of {@code store} that answers one number, to run in its place
   * among the commit's statements (it sees what the statements before it wrote); the number is
   * there once the transaction committed (or, for a rehearsal, once its statements ran).
   */
  public <S> LongSupplier readLong(Class<S> store, Consumer<S> select) {
    int before = entries.size();
    select.accept(store(store));
    if (entries.size() != before + 1 || !entries.get(before).read) {
      throw new IllegalArgumentException("readLong takes exactly one select");
    }
    Entry read = entries.get(before);
    return () -> {
      if (!read.answered) {
        throw new IllegalStateException("the commit's statements have not run yet");
      }
      return read.value;
    };
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /**
   * How a commit's packet ends: with COMMIT, or (a rehearsal) with a no-op that leaves the
   * transaction open. Data rather than a flag, so the compiled code of {@link #send} has no branch
   * that a rehearsal never takes and a commit always does (taking it would discard that code).
   */
  enum End {
    COMMIT("COMMIT", "ROLLBACK"),
    REHEARSAL("DO 0", "DO 0");

    /** The packet's last statement. */
    final String statement;

    /** Sent on its own after a failed packet: see {@link #afterFailure}. */
    final String afterFailure;

    End(String statement, String afterFailure) {
      this.statement = statement;
      this.afterFailure = afterFailure;
    }
  }

  /**
   * Sends the recorded statements, then {@code end}'s statement, in one round trip, and forgets
   * them.
   */
  void send(Connection connection, End end) {
    if (entries.isEmpty()) {
      return;
    }
    List<Entry> statements = new ArrayList<>(); // the first entry of each statement sent
    StringBuilder sql = new StringBuilder(4096);
    for (int i = 0; i < entries.size(); ) {
      Entry first = entries.get(i);
      int to = i + 1;
      InsertShape shape = InsertShape.of(first); // null for reads and updates
      if (shape != null) {
        while (to < entries.size() && sameStatement(entries.get(to), first)) {
          to++;
        }
      }
      if (shape != null && to - i > 1) {
        sql.append(shape.prefix).append(shape.tuple);
        for (int j = i + 1; j < to; j++) {
          sql.append(",\n").append(shape.tuple);
        }
        sql.append(shape.suffix);
      } else {
        to = i + 1;
        sql.append(first.sql.getSql());
      }
      sql.append(";\n");
      statements.add(first);
      i = to;
    }
    sql.append(end.statement);
    try (PreparedStatement ps = connection.prepareStatement(sql.toString())) {
      int index = 1;
      for (Entry e : entries) {
        index = bind(ps, index, e);
      }
      boolean isResultSet = ps.execute();
      int answers = statements.size() + 1;
      for (int k = 0; k < answers; k++) {
        if (isResultSet && k < statements.size()) {
          Entry read = statements.get(k);
          try (ResultSet rs = ps.getResultSet()) {
            read.value = rs.next() ? rs.getLong(1) : 0;
            read.answered = true;
          }
        }
        isResultSet = ps.getMoreResults();
      }
    } catch (SQLException e) {
      afterFailure(connection, end, e);
      throw ExceptionFactory.wrapException(
          "the statements sent with the commit failed: " + e.getMessage(), e);
    } finally {
      entries.clear();
    }
  }

  /**
   * After a failed packet the server's transaction is still open with the statements before the
   * failing one applied, but the driver, which tracks whether a transaction is open from the
   * server's replies (useLocalTransactionState), may believe none is and skip a later rollback():
   * the connection would then carry those writes into its next transaction. So a commit's failure
   * rolls back here, explicitly; a rehearsal's sends a no-op so the driver sees the transaction
   * again, and its caller's rollback (to a savepoint, or all of it) is really sent.
   */
  private static void afterFailure(Connection connection, End end, SQLException failure) {
    try (java.sql.Statement st = connection.createStatement()) {
      st.execute(end.afterFailure);
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  private static boolean sameStatement(Entry e, Entry first) {
    return e.ms == first.ms && e.sql.getSql().equals(first.sql.getSql());
  }

  /**
   * Binds {@code e}'s parameters from {@code index} on, as MyBatis's DefaultParameterHandler binds
   * a statement's from 1; returns the next free index.
   */
  private int bind(PreparedStatement ps, int index, Entry e) throws SQLException {
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
    return index;
  }

  /**
   * A single-row INSERT cut around its VALUES tuple, which holds all its parameters: the tuple
   * repeats for more rows.
   */
  private record InsertShape(String prefix, String tuple, String suffix) {
    private static final InsertShape NONE = new InsertShape("", "", "");
    private static final Map<String, InsertShape> SHAPES = new ConcurrentHashMap<>();

    /** The mappers' static inserts fit many times; dynamic SQL beyond it is cut each time. */
    private static final int MAX_SHAPES = 1_000;

    static InsertShape of(Entry e) {
      if (e.ms.getSqlCommandType() != SqlCommandType.INSERT) {
        return null;
      }
      String sql = e.sql.getSql();
      int parameters = e.sql.getParameterMappings().size();
      InsertShape shape = SHAPES.get(sql);
      if (shape == null) {
        shape = cut(sql, parameters);
        if (SHAPES.size() < MAX_SHAPES) {
          SHAPES.put(sql, shape);
        }
      }
      return shape == NONE ? null : shape;
    }

    /** Cuts {@code sql} at its first top-level {@code VALUES (...)}; NONE if it cannot. */
    private static InsertShape cut(String sql, int parameters) {
      int start = -1;
      int depth = 0;
      int end = -1;
      int marks = 0;
      for (int i = 0; i < sql.length(); i++) {
        char c = sql.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
          int close = sql.indexOf(c, i + 1);
          if (close < 0) {
            return NONE;
          }
          i = close;
        } else if (c == '?') {
          if (start < 0 || end >= 0) {
            return NONE; // a parameter outside the tuple would not repeat with it
          }
          marks++;
        } else if (c == '(') {
          if (depth == 0 && start < 0 && endsWithValues(sql, i)) {
            start = i;
          }
          depth++;
        } else if (c == ')') {
          depth--;
          if (depth == 0 && start >= 0 && end < 0) {
            end = i + 1;
          }
        }
      }
      if (start < 0 || end < 0 || marks != parameters) {
        return NONE;
      }
      return new InsertShape(
          sql.substring(0, start), sql.substring(start, end), sql.substring(end));
    }

    /** True when the word before {@code sql[i]} (blanks aside) is VALUES. */
    private static boolean endsWithValues(String sql, int i) {
      int j = i - 1;
      while (j >= 0 && Character.isWhitespace(sql.charAt(j))) {
        j--;
      }
      int from = j - 5;
      return from >= 0
          && sql.regionMatches(true, from, "VALUES", 0, 6)
          && (from == 0 || !Character.isLetterOrDigit(sql.charAt(from - 1)));
    }
  }

  /** A session that records writes and one-number reads instead of running them. */
  private final class Recorder implements SqlSession {
    private int record(String statement, Object parameter, boolean read) {
      MappedStatement ms = configuration.getMappedStatement(statement);
      entries.add(new Entry(ms, ParamNameResolver.wrapToMapIfCollection(parameter, null), read));
      return 0;
    }

    @Override
    public int insert(String statement) {
      return record(statement, null, false);
    }

    @Override
    public int insert(String statement, Object parameter) {
      return record(statement, parameter, false);
    }

    @Override
    public int update(String statement) {
      return record(statement, null, false);
    }

    @Override
    public int update(String statement, Object parameter) {
      return record(statement, parameter, false);
    }

    @Override
    public int delete(String statement) {
      return record(statement, null, false);
    }

    @Override
    public int delete(String statement, Object parameter) {
      return record(statement, parameter, false);
    }

    @Override
    public <T> T selectOne(String statement) {
      return selectOne(statement, null);
    }

    @Override
    public <T> T selectOne(String statement, Object parameter) {
      record(statement, parameter, true);
      return null; // answered through readLong's supplier once sent
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
          "only writes and readLong's one-number reads can go with the commit");
    }

    @Override
    public <E> List<E> selectList(String statement) {
      throw notHere();
    }

    @Override
    public <E> List<E> selectList(String statement, Object parameter) {
      throw notHere();
    }

    @Override
    public <E> List<E> selectList(String statement, Object parameter, RowBounds rowBounds) {
      throw notHere();
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
