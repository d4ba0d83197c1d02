package dev.billing.domain.checkout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.persistence.Transactions;
import dev.billing.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sessions' statuses as a transaction's events report them: held back, and written together when
 * there are several (each to its own status, the last one reported winning; with the COMMIT, one
 * statement per status), sessions this service never created left out.
 */
class CheckoutSessionsTest {
  private static final String[] SESSIONS = {
    "cs_st_a", "cs_st_b", "cs_st_c", "cs_st_d", "cs_st_e", "cs_st_f", "cs_st_g", "cs_st_h",
    "cs_st_i"
  };
  private static TestServer server;
  private static Transactions tx;

  /** What a test's commit hook does with the statements going with the COMMIT. */
  private static volatile Consumer<List<String>> atCommit = statements -> {};

  @AfterEach
  void noHook() {
    atCommit = statements -> {};
  }

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
    tx.addCommitHook(uow -> atCommit.accept(uow.commitBatch().statementTexts()));
    for (String id : SESSIONS) {
      server.execute(
          "INSERT INTO checkout_sessions (session_id, user_id, idempotency_key, mode, amount,"
              + " currency, url, status, expires_at) VALUES (?, 'u-st', ?, 'payment', 100, 'usd',"
              + " 'https://example.com', 'open', 0)",
          id,
          id);
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String status(String id) {
    return server.queryString("SELECT status FROM checkout_sessions WHERE session_id = ?", id);
  }

  @Test
  void severalSessionsInOneTransactionEachTakeTheirOwnStatus() {
    CheckoutSessions sessions = new CheckoutSessions();
    tx.execute(
        uow -> {
          sessions.markStatus(uow, "cs_st_c", "expired");
          sessions.markStatus(uow, "cs_st_a", "open");
          sessions.markStatus(uow, "cs_st_a", "complete"); // the last report wins
          sessions.markStatus(uow, "cs_st_unknown", "complete"); // never created here: no row
          sessions.markStatus(uow, null, "complete");
          return null;
        });

    assertThat(status("cs_st_a")).isEqualTo("complete");
    assertThat(status("cs_st_b")).isEqualTo("open");
    assertThat(status("cs_st_c")).isEqualTo("expired");
    assertThat(server.queryLong("SELECT COUNT(*) FROM checkout_sessions"))
        .isEqualTo(SESSIONS.length);
  }

  @Test
  void withTheCommitSessionsGoingToOneStatusGoInOneStatement() {
    CheckoutSessions sessions = new CheckoutSessions();
    List<String> sent = new ArrayList<>();
    atCommit = sent::addAll;
    tx.execute(
        uow -> {
          sessions.markStatus(uow, "cs_st_f", "complete");
          sessions.markStatus(uow, "cs_st_d", "complete");
          sessions.markStatus(uow, "cs_st_e", "expired");
          sessions.markStatus(uow, "cs_st_g", "complete");
          return null;
        });

    assertThat(sent)
        .filteredOn(sql -> sql.contains("checkout_sessions"))
        .hasSize(2)
        .allMatch(sql -> sql.contains("IN ("));
    assertThat(List.of(status("cs_st_d"), status("cs_st_e"), status("cs_st_f"), status("cs_st_g")))
        .containsExactly("complete", "expired", "complete", "complete");
  }

  @Test
  void writtenBeforeTheCommitEachSessionIsItsOwnUpdate() {
    CheckoutSessions sessions = new CheckoutSessions();
    List<String> sent = new ArrayList<>();
    atCommit = sent::addAll;
    String seen =
        tx.execute(
            uow -> {
              sessions.markStatus(uow, "cs_st_h", "expired");
              sessions.markStatus(uow, "cs_st_i", "expired");
              // A statement on the table sends what is held first, on the transaction itself.
              return uow.store(CheckoutStore.class).findBySessionId("cs_st_h").status();
            });

    assertThat(seen).isEqualTo("expired");
    assertThat(status("cs_st_i")).isEqualTo("expired");
    assertThat(sent).noneMatch(sql -> sql.contains("checkout_sessions"));
  }
}
