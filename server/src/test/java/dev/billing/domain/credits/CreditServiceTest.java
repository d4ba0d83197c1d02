package dev.billing.domain.credits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.domain.audit.Cause;
import dev.billing.error.BillingException;
import dev.billing.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CreditServiceTest {
  private static TestServer server;
  private static CreditService credits;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    credits = server.server().credits();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String user() {
    return TestServer.uniqueUser("u_");
  }

  /** The user's balance row as stored. */
  private static long storedBalance(String user) {
    return server.creditBalance(user);
  }

  /** How many ledger rows the user has. */
  private static long ledgerRows(String user) {
    return server.ledgerRows(user);
  }

  /** The sum of the user's ledger deltas. */
  private static long ledgerSum(String user) {
    return server.queryLong("SELECT SUM(delta) FROM credit_ledger WHERE user_id = ?", user);
  }

  /** Rows in the tables a credit mutation writes, by table. */
  private static Map<String, Long> rowsWrittenByMutations() {
    Map<String, Long> rows = new TreeMap<>();
    for (String table :
        List.of(
            "credit_ledger",
            "credit_balances",
            "entitlements",
            "audit_log",
            "change_log",
            "idempotency_outcomes")) {
      rows.put(table, server.queryLong("SELECT COUNT(*) FROM " + table));
    }
    return rows;
  }

  @Test
  void theStartUpWarmUpRunsMutationsAndKeepsNothing() {
    credits.grant(user(), 10, "before", null, Cause.api("svc")); // the tables are not empty
    Map<String, Long> before = rowsWrittenByMutations();
    long lastSeq = server.queryLong("SELECT last_seq FROM change_seq");

    assertThat(credits.warmUp(40, Duration.ofSeconds(60))).isEqualTo(40);

    assertThat(rowsWrittenByMutations()).isEqualTo(before);
    assertThat(server.queryLong("SELECT COUNT(*) FROM entitlements WHERE user_id LIKE 'warm-up-%'"))
        .isZero();
    assertThat(server.queryLong("SELECT last_seq FROM change_seq")).isEqualTo(lastSeq);
    // A real mutation afterwards is numbered and stored as usual.
    String user = user();
    assertThat(credits.grant(user, 7, "after", null, Cause.api("svc")).balance()).isEqualTo(7);
    assertThat(storedBalance(user)).isEqualTo(7);
  }

  @Test
  void aGrantAppendsToTheLedgerAndUpdatesTheBalanceTogether() {
    String user = user();
    CreditResult first = credits.grant(user, 500, "k1", "welcome", Cause.api("support"));
    CreditResult second = credits.grant(user, 250, "k2", null, Cause.api("support"));
    assertThat(first.balance()).isEqualTo(500);
    assertThat(second.balance()).isEqualTo(750);
    assertThat(storedBalance(user)).isEqualTo(750);
    assertThat(ledgerSum(user)).isEqualTo(750);
    assertThat(
            server.queryString(
                "SELECT actor FROM credit_ledger WHERE transaction_id = ?", first.transactionId()))
        .isEqualTo("support");
    assertThat(server.server().entitlements().get(user).getEntitlement().getCreditBalance())
        .isEqualTo(750);
    assertThat(server.server().entitlements().get(user).getEntitlement().getVersion()).isEqualTo(2);
  }

  @Test
  void theSameKeyTwiceGrantsOnceAndReturnsTheFirstResult() {
    String user = user();
    CreditResult first = credits.grant(user, 300, "same", "r", Cause.api("svc"));
    credits.grant(user, 5, "other", "r", Cause.api("svc"));
    CreditResult replay = credits.grant(user, 300, "same", "r", Cause.api("svc"));
    assertThat(replay.replayed()).isTrue();
    assertThat(replay.transactionId()).isEqualTo(first.transactionId());
    assertThat(replay.balance()).isEqualTo(300);
    assertThat(storedBalance(user)).isEqualTo(305);
    assertThat(ledgerRows(user)).isEqualTo(2);
  }

  @Test
  void reusingAKeyForADifferentAmountIsRefused() {
    String user = user();
    credits.grant(user, 10, "key", null, Cause.api("svc"));
    assertThatThrownBy(() -> credits.grant(user, 11, "key", null, Cause.api("svc")))
        .isInstanceOf(BillingException.FailedPrecondition.class)
        .hasMessageContaining("idempotency_key");
  }

  @Test
  void concurrentGrantsWithRepeatedKeysApplyEachKeyOnce() throws Exception {
    String user = user();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Callable<CreditResult>> work = new ArrayList<>();
    for (int i = 0; i < 80; i++) {
      int key = i % 20;
      work.add(() -> credits.grant(user, key + 1, "k" + key, null, Cause.api("svc")));
    }
    List<Future<CreditResult>> results = pool.invokeAll(work);
    pool.shutdown();
    for (Future<CreditResult> f : results) {
      f.get();
    }
    long expected = 20 * 21 / 2;
    assertThat(storedBalance(user)).isEqualTo(expected);
    assertThat(ledgerRows(user)).isEqualTo(20);
    assertThat(ledgerSum(user)).isEqualTo(expected);
    // Every grant bumped the version once and appended one change, in order.
    assertThat(server.queryLong("SELECT COUNT(*) FROM change_log WHERE user_id = ?", user))
        .isEqualTo(20);
    assertThat(server.queryLong("SELECT MAX(version) FROM change_log WHERE user_id = ?", user))
        .isEqualTo(20);
  }

  /**
   * A mutation's balance and ledger rows go with the COMMIT; a later mutation of the same user in
   * the same transaction must still see them (a replayed key answers the first, the balance adds
   * up) and the ledger keeps the order they were made in.
   */
  @Test
  void mutationsOfOneUserInOneTransactionSeeTheRowsHeldForTheCommit() {
    String user = user();
    Cause cause = Cause.api("t");
    List<CreditResult> results =
        server
            .transactions()
            .execute(
                uow ->
                    List.of(
                        credits.apply(uow, user, 100, "purchase", "p1", null, null, cause),
                        credits.apply(uow, user, 100, "purchase", "p1", null, null, cause),
                        credits.apply(uow, user, 50, "purchase", "p2", null, null, cause)));
    assertThat(results.get(1).replayed()).isTrue();
    assertThat(results.get(1).transactionId()).isEqualTo(results.get(0).transactionId());
    assertThat(results.get(2).balance()).isEqualTo(150);
    assertThat(storedBalance(user)).isEqualTo(150);
    assertThat(ledgerRows(user)).isEqualTo(2);
    assertThat(
            server.queryString(
                "SELECT idempotency_key FROM credit_ledger WHERE user_id = ? ORDER BY id DESC LIMIT 1",
                user))
        .isEqualTo("p2");
  }
}
