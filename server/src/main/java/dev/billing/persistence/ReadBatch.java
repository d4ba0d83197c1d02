package dev.billing.persistence;

import dev.billing.persistence.Recorded.Entry;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.ibatis.exceptions.ExceptionFactory;
import org.apache.ibatis.executor.resultset.DefaultResultSetHandler;
import org.apache.ibatis.session.RowBounds;

/**
 * Statements of a transaction that go to the database together, in one round trip, each where it
 * would have run had it been called on its own: the reads (and the writes whose counts are read)
 * that several owners of tables need before a group's work, such as locking a group's users and
 * reading what they own. A store's method called through {@link #rows} or {@link #count} is
 * recorded, not run; {@link #send} sends them all, in the order recorded, and maps each select's
 * rows with the store's own result map. The answers are there once it has been sent.
 *
 * <p>If a statement fails, the server stops there and nothing after it runs; {@link #send} throws
 * as that statement would have, and the transaction is the caller's to roll back.
 */
public final class ReadBatch {
  private final UnitOfWork uow;
  private final Connection connection;
  private final Recorded recorded;

  /**
   * What is sent, in order: a statement recorded once, or one recorded once per row (an INSERT).
   */
  private final List<List<Entry>> statements = new ArrayList<>();

  private boolean sent;

  ReadBatch(UnitOfWork uow, Connection connection) {
    this.uow = uow;
    this.connection = connection;
    this.recorded = new Recorded(uow.configuration(), true);
  }

  /**
   * Records {@code select}, one call of a method of {@code store} that returns rows; its rows are
   * there once the batch has been sent.
   */
  public <S, T> Supplier<List<T>> rows(Class<S> store, Consumer<S> select) {
    Entry e = add(store, select, Recorded.Answer.ROWS);
    return () -> {
      answered(e);
      @SuppressWarnings("unchecked")
      List<T> rows = (List<T>) e.rows;
      return rows;
    };
  }

  /**
   * Records {@code write}, one call of a method of {@code store} that writes; the rows it changed
   * (as the store's method would answer) are there once the batch has been sent.
   */
  public <S> IntSupplier count(Class<S> store, Consumer<S> write) {
    Entry e = add(store, write, Recorded.Answer.COUNT);
    return () -> {
      answered(e);
      return (int) e.value;
    };
  }

  /**
   * Records {@code write} for each of {@code rows}: one call per row of a method of {@code store}
   * that inserts one row, sent as one multi-row INSERT. The rows it changed in all are there once
   * the batch has been sent.
   */
  public <S, T> IntSupplier countAll(Class<S> store, Collection<T> rows, BiConsumer<S, T> write) {
    requireOpen();
    List<Entry> recordedRows = new ArrayList<>(rows.size());
    for (T row : rows) {
      Entry e = recorded.one(store, s -> write.accept(s, row), Recorded.Answer.COUNT);
      recordedRows.add(e);
      if (InsertShape.of(e) == null || !InsertShape.sameStatement(e, recordedRows.get(0))) {
        recorded.entries.removeAll(recordedRows); // refused: nothing of it is sent
        throw new IllegalArgumentException(e.ms.getId() + " is not one single-row INSERT");
      }
    }
    if (recordedRows.isEmpty()) {
      return () -> 0;
    }
    statements.add(recordedRows);
    Entry first = recordedRows.get(0);
    return () -> {
      answered(first);
      return (int) first.value;
    };
  }

  private <S> Entry add(Class<S> store, Consumer<S> call, Recorded.Answer kind) {
    requireOpen();
    Entry e = recorded.one(store, call, kind);
    statements.add(List.of(e));
    return e;
  }

  private void requireOpen() {
    if (sent) {
      throw new IllegalStateException("this batch has been sent");
    }
  }

  private static void answered(Entry e) {
    if (!e.answered) {
      throw new IllegalStateException("the batch has not been sent");
    }
  }

  /**
   * Sends the recorded statements in one round trip (after the transaction's held-back writes for
   * their stores, which they must see) and reads their answers.
   */
  public void send() {
    requireOpen();
    sent = true;
    List<Entry> entries = recorded.entries;
    if (entries.isEmpty()) {
      return;
    }
    Set<String> stores = new LinkedHashSet<>();
    entries.forEach(e -> stores.add(e.store()));
    stores.forEach(uow::flushBefore);
    StringBuilder sql = new StringBuilder(4096);
    Literals.Values values = new Literals.Values();
    try (Statement st = connection.createStatement()) {
      for (List<Entry> statement : statements) {
        if (!sql.isEmpty()) {
          sql.append(";\n");
        }
        recorded.appendStatement(sql, statement, values);
      }
      st.setEscapeProcessing(false);
      boolean isResultSet = st.execute(sql.toString());
      for (List<Entry> statement : statements) {
        Entry e = statement.get(0);
        if (e.kind == Recorded.Answer.COUNT) {
          if (isResultSet) {
            throw new IllegalStateException(e.ms.getId() + " answered rows, not a count");
          }
          e.value = st.getUpdateCount();
        } else {
          if (!isResultSet) {
            throw new IllegalStateException(e.ms.getId() + " answered a count, not rows");
          }
          e.rows =
              new DefaultResultSetHandler(null, e.ms, null, null, e.sql, RowBounds.DEFAULT)
                  .handleResultSets(current(st));
        }
        e.answered = true;
        isResultSet = st.getMoreResults();
      }
    } catch (SQLException e) {
      Recorded.afterFailure(connection, "DO 0", e);
      throw ExceptionFactory.wrapException(
          "a batch of " + statements.size() + " statements failed: " + e.getMessage(), e);
    }
  }

  /**
   * The statement as MyBatis's result handler should see it: its current result set and nothing
   * after it (the handler moves on to the next result itself, and this batch does that).
   */
  private static Statement current(Statement ps) {
    return (Statement)
        Proxy.newProxyInstance(
            ReadBatch.class.getClassLoader(),
            new Class<?>[] {Statement.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "getResultSet" -> ps.getResultSet();
                  case "getMoreResults" -> false;
                  case "getUpdateCount" -> -1;
                  case "getConnection" -> ps.getConnection();
                  default ->
                      throw new UnsupportedOperationException("ReadBatch: " + method.getName());
                });
  }

  /** For tests: the SQL statements recorded so far, in order (a row-per-call one once). */
  List<String> statements() {
    List<String> out = new ArrayList<>();
    statements.forEach(s -> out.add(s.get(0).sql.getSql()));
    return out;
  }
}
