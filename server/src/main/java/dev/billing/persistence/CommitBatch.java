package dev.billing.persistence;

import com.mysql.cj.jdbc.StatementImpl;
import dev.billing.persistence.Recorded.Entry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.ibatis.exceptions.ExceptionFactory;
import org.apache.ibatis.session.Configuration;

/**
 * The statements a transaction sends in the same round trip as its COMMIT: its held-back writes and
 * the commit hooks' journals. A store's methods called through {@link #store} are recorded, not
 * run; at commit they go, in the order recorded, as one multi-statement packet ending in COMMIT.
 * Consecutive rows of one single-row INSERT become one multi-row INSERT, as a JDBC batch would send
 * them. If a statement fails, the server stops there: nothing after it runs, the COMMIT included,
 * and the transaction is rolled back as it would be after any failed statement.
 *
 * <p>Writes recorded here answer 0 rows (the count is not known until the packet is sent): a writer
 * that reads its count writes through the transaction instead. The id a write sets comes back
 * through {@link #insertIdOf}; selects do not go with the commit.
 */
public final class CommitBatch implements Writes {
  private final Recorded recorded;
  private final List<Entry> entries;

  CommitBatch(Configuration configuration) {
    this.recorded = new Recorded(configuration, false);
    this.entries = recorded.entries;
  }

  /** {@code type}'s store, whose writes are recorded to be sent with the COMMIT. */
  @Override
  public <S> S store(Class<S> type) {
    return recorded.store(type);
  }

  @Override
  public <S, T> void batch(Class<S> store, Collection<T> rows, BiConsumer<S, T> write) {
    S recording = store(store);
    for (T row : rows) {
      write.accept(recording, row);
    }
  }

  /** True: the recorded statements' values are written into the packet's text. */
  @Override
  public boolean takesInLists() {
    return true;
  }

  /**
   * Records {@code write}, one write of {@code store}'s that sets the session's LAST_INSERT_ID()
   * (an insert with an auto-increment key, or {@code LAST_INSERT_ID(expr)}), to run in its place
   * among the commit's statements; the id it set is there once the transaction committed (or, for a
   * rehearsal, once its statements ran). It comes with the write's own answer (the server's OK
   * packet carries it), so no {@code SELECT LAST_INSERT_ID()} goes with the packet.
   */
  public <S> LongSupplier insertIdOf(Class<S> store, Consumer<S> write) {
    Entry e = recorded.one(store, write, Recorded.Answer.COUNT);
    e.wantsInsertId = true;
    return () -> {
      if (!e.answered) {
        throw new IllegalStateException("the commit's statements have not run yet");
      }
      return e.value;
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

    /** Sent on its own after a failed packet: see {@link Recorded#afterFailure}. */
    final String afterFailure;

    End(String statement, String afterFailure) {
      this.statement = statement;
      this.afterFailure = afterFailure;
    }
  }

  /** The recorded entries as the statements they go as: consecutive rows of one INSERT as one. */
  private List<List<Entry>> statements() {
    List<List<Entry>> statements = new ArrayList<>();
    for (int i = 0; i < entries.size(); ) {
      Entry first = entries.get(i);
      int to = i + 1;
      if (InsertShape.of(first) != null) {
        while (to < entries.size() && InsertShape.sameStatement(entries.get(to), first)) {
          to++;
        }
      }
      statements.add(entries.subList(i, to));
      i = to;
    }
    return statements;
  }

  /**
   * For tests and diagnostics: the SQL of the statements recorded so far, as they would go (with
   * their placeholders; consecutive rows of one INSERT once).
   */
  public List<String> statementTexts() {
    return statements().stream().map(rows -> rows.get(0).sql.getSql()).toList();
  }

  /**
   * Sends the recorded statements, then {@code end}'s statement, in one round trip, and forgets
   * them.
   */
  void send(Connection connection, End end) {
    if (entries.isEmpty()) {
      return;
    }
    List<List<Entry>> statements = statements(); // each statement's rows
    StringBuilder sql = new StringBuilder(8192);
    Literals.Values values = new Literals.Values();
    try (Statement st = connection.createStatement()) {
      for (List<Entry> rows : statements) {
        recorded.appendStatement(sql, rows, values);
        sql.append(";\n");
      }
      sql.append(end.statement);
      st.setEscapeProcessing(false);
      st.execute(sql.toString());
      for (List<Entry> rows : statements) { // each statement's answer in turn; COMMIT's last
        Entry e = rows.get(0);
        if (e.wantsInsertId) {
          e.value = st.unwrap(StatementImpl.class).getLastInsertID();
          e.answered = true;
        }
        st.getMoreResults();
      }
    } catch (SQLException e) {
      // See Recorded.afterFailure: a commit's failure rolls back explicitly; a rehearsal's sends a
      // no-op so its caller's rollback is really sent.
      Recorded.afterFailure(connection, end.afterFailure, e);
      throw ExceptionFactory.wrapException(
          "the statements sent with the commit failed: " + e.getMessage(), e);
    } finally {
      entries.clear();
    }
  }
}
