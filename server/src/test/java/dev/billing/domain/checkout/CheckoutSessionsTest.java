package dev.billing.domain.checkout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.persistence.Transactions;
import dev.billing.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sessions' statuses as a transaction's events report them: held back, and written together in one
 * statement when there are several (each to its own status, the last one reported winning),
 * sessions this service never created left out.
 */
class CheckoutSessionsTest {
  private static TestServer server;
  private static Transactions tx;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
    for (String id : new String[] {"cs_st_a", "cs_st_b", "cs_st_c"}) {
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
    assertThat(server.queryLong("SELECT COUNT(*) FROM checkout_sessions")).isEqualTo(3);
  }
}
