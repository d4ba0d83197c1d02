package dev.billing.domain.credits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.config.Catalog;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.UsageCount;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import dev.billing.testing.TestDomain;
import dev.billing.testing.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A caller's credit mutation goes in one packet when the user's row is as this replica last saw it
 * committed (or absent, for a new user) and the key is unused; when either assumption is wrong, the
 * packet writes nothing and the mutation is decided again, reading first, with the same outcome as
 * ever: the stored balance counts, replays answer the first result, refusals stay refused.
 */
class OnePacketCreditsTest {
  private static TestServer server;
  private static CreditService credits;
  private static final Cause CAUSE = Cause.api("test");

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
    return TestServer.uniqueUser("op_");
  }

  private static long changes(String user) {
    return server.queryLong("SELECT COUNT(*) FROM change_log WHERE user_id = ?", user);
  }

  /** A user stored by another replica (or before this one started): free, at this version. */
  private static void storedUser(String u, long version, long balance) {
    server.execute(
        "INSERT INTO entitlements (user_id, tier, status, version) VALUES (?, 'free', 'none', ?)",
        u,
        version);
    server.execute("INSERT INTO credit_balances (user_id, balance) VALUES (?, ?)", u, balance);
  }

  private static long lastSeq() {
    return server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
  }

  @Test
  void aNewUserAndThenTheSameUserAreMutatedInOnePacketEach() {
    String u = user();
    CreditService.Packets before = credits.packets();

    CreditResult first = credits.grant(u, 5, "k1", null, CAUSE);
    CreditResult second = credits.consume(u, 2, "k2", null, CAUSE);

    assertThat(first.balance()).isEqualTo(5);
    assertThat(second.balance()).isEqualTo(3);
    CreditService.Packets after = credits.packets();
    assertThat(after.onePacket() - before.onePacket()).isEqualTo(2);
    assertThat(after.readFirst() - before.readFirst()).isZero();
    // What the usual path writes: the row (version per change), balance, ledger, changes, audit.
    assertThat(server.creditBalance(u)).isEqualTo(3);
    assertThat(server.ledgerRows(u)).isEqualTo(2);
    assertThat(changes(u)).isEqualTo(2);
    assertThat(server.queryLong("SELECT version FROM entitlements WHERE user_id = ?", u))
        .isEqualTo(2);
    assertThat(server.queryString("SELECT tier FROM entitlements WHERE user_id = ?", u))
        .isEqualTo("free");
    assertThat(server.queryLong("SELECT COUNT(*) FROM audit_log WHERE user_id = ?", u))
        .isEqualTo(2);
    // The keys' claims (the guard against a recorded outcome) leave no row: only refusals do.
    assertThat(server.queryLong("SELECT COUNT(*) FROM idempotency_outcomes WHERE owner = ?", u))
        .isZero();
  }

  @Test
  void aRowChangedElsewhereIsReadAndTheFailedPacketLeavesNothing() {
    String u = user();
    credits.grant(u, 10, "k1", null, CAUSE);
    // Another replica's commit this one has not heard of yet.
    server.execute("UPDATE entitlements SET version = version + 1 WHERE user_id = ?", u);
    server.execute("UPDATE credit_balances SET balance = balance + 100 WHERE user_id = ?", u);
    long seq = lastSeq();
    CreditService.Packets before = credits.packets();

    CreditResult r = credits.grant(u, 5, "k2", null, CAUSE);

    assertThat(r.balance()).isEqualTo(115);
    assertThat(server.creditBalance(u)).isEqualTo(115);
    assertThat(server.ledgerRows(u)).isEqualTo(2);
    assertThat(lastSeq()).isEqualTo(seq + 1); // one change numbered, none lost to the failed packet
    CreditService.Packets after = credits.packets();
    assertThat(after.readFirst() - before.readFirst()).isEqualTo(1);
    assertThat(after.onePacket() - before.onePacket()).isZero();
    // What an operator sees of it.
    assertThat(server.metric("billing_credit_mutations_total{path=\"read_first\"}"))
        .isEqualTo((double) after.readFirst());
    assertThat(server.metric("billing_credit_mutations_total{path=\"one_packet\"}"))
        .isEqualTo((double) after.onePacket());
    // Its change taught this replica the row: the next mutation goes in one packet again.
    credits.grant(u, 1, "k3", null, CAUSE);
    assertThat(credits.packets().onePacket() - after.onePacket()).isEqualTo(1);
    assertThat(server.creditBalance(u)).isEqualTo(116);
  }

  @Test
  void aRowThisReplicaNeverSawChangeIsFoundByReadingFirst() {
    String u = user();
    storedUser(u, 3, 40);
    CreditService.Packets before = credits.packets();

    assertThat(credits.grant(u, 2, "k1", null, CAUSE).balance()).isEqualTo(42);

    assertThat(credits.packets().readFirst() - before.readFirst()).isEqualTo(1);
    assertThat(server.queryLong("SELECT version FROM entitlements WHERE user_id = ?", u))
        .isEqualTo(4);
    assertThat(credits.grant(u, 3, "k2", null, CAUSE).balance()).isEqualTo(45);
    assertThat(credits.packets().onePacket() - before.onePacket()).isEqualTo(1);
  }

  @Test
  void aRowFoundByAReadIsMutatedInOnePacket() {
    String u = user();
    storedUser(u, 3, 40);
    // What a caller does first after this replica started: look the user up (a snapshot miss).
    assertThat(server.client().getEntitlement(u).getCreditBalance()).isEqualTo(40);
    CreditService.Packets before = credits.packets();

    assertThat(credits.grant(u, 2, "k1", null, CAUSE).balance()).isEqualTo(42);

    CreditService.Packets after = credits.packets();
    assertThat(after.onePacket() - before.onePacket()).isEqualTo(1);
    assertThat(after.readFirst() - before.readFirst()).isZero();
    assertThat(server.queryLong("SELECT version FROM entitlements WHERE user_id = ?", u))
        .isEqualTo(4);
    assertThat(server.creditBalance(u)).isEqualTo(42);
    assertThat(server.ledgerRows(u)).isEqualTo(1);
  }

  @Test
  void aRowFoundAndThenChangedElsewhereIsReadFirst() {
    String u = user();
    storedUser(u, 3, 40);
    server.client().getEntitlement(u);
    // Another replica's commit after the read, not heard of yet.
    server.execute("UPDATE entitlements SET version = version + 1 WHERE user_id = ?", u);
    server.execute("UPDATE credit_balances SET balance = balance + 100 WHERE user_id = ?", u);
    long seq = lastSeq();
    CreditService.Packets before = credits.packets();

    assertThat(credits.grant(u, 2, "k1", null, CAUSE).balance()).isEqualTo(142);

    assertThat(credits.packets().readFirst() - before.readFirst()).isEqualTo(1);
    assertThat(lastSeq()).isEqualTo(seq + 1);
    assertThat(server.queryLong("SELECT version FROM entitlements WHERE user_id = ?", u))
        .isEqualTo(5);
    assertThat(server.creditBalance(u)).isEqualTo(142);
  }

  @Test
  void aRowFoundIsRememberedAsFoundAndNotWithUsageCounters() {
    EntitlementService rules = standaloneRules();
    String plain = user();
    String counted = user();
    for (String u : List.of(plain, counted)) {
      storedUser(u, 7, 9);
    }
    server.execute(
        "INSERT INTO usage_counters (user_id, metric, period_key, used) VALUES (?, 'calls', 0, 1)",
        counted);
    String absent = user();

    assertThat(rules.find(plain)).isEqualTo(row(plain, 7, 9));
    assertThat(rules.assumable(plain)).contains(row(plain, 7, 9));
    rules.find(counted);
    assertThat(rules.assumable(counted)).isNull(); // usage counters: read first
    assertThat(rules.find(absent).version()).isZero();
    assertThat(rules.assumable(absent)).isEmpty(); // not stored: still assumed new
    rules.committed(List.of(change(row(plain, 8, 10), Map.of())));
    rules.find(plain); // a read older than what this replica committed since
    assertThat(rules.assumable(plain)).contains(row(plain, 8, 10));
  }

  @Test
  void whatTheRowsRememberedComeFrom() {
    EntitlementService rules = standaloneRules();
    String u = user();
    assertThat(rules.assumable(u)).isEmpty(); // never seen: assumed new

    rules.committed(List.of(change(row(u, 1, 5), Map.of())));
    assertThat(rules.assumable(u)).contains(row(u, 1, 5));
    rules.heardOf(List.of(change(row(u, 1, 5), Map.of()))); // its own change, read back by the feed
    assertThat(rules.assumable(u)).contains(row(u, 1, 5));
    rules.heardOf(List.of(change(row(u, 2, 9), Map.of()))); // another replica's: forgotten
    assertThat(rules.assumable(u)).isEmpty();

    rules.committed(
        List.of(change(row(u, 3, 9), Map.of("calls", new UsageCount("calls", 0, 1, 3)))));
    assertThat(rules.assumable(u)).isNull(); // usage counters: read first
    rules.committed(List.of(change(row(u, 2, 9), Map.of()))); // older than the one remembered
    assertThat(rules.assumable(u)).isNull();
  }

  /** A warm-up's rolled-back changes never become a row a later mutation assumes. */
  @Test
  void aRehearsedChangeIsNeverAssumed() {
    EntitlementService rules = standaloneRules();
    String u = user();
    rules.rehearse(List.of(change(row(u, 4, 40), Map.of()))); // the warm-up's, rolled back
    assertThat(rules.assumable(u)).isEmpty(); // still a user never seen: assumed new

    rules.committed(List.of(change(row(u, 1, 5), Map.of())));
    rules.rehearse(List.of(change(row(u, 2, 50), Map.of()))); // newer, but never stored
    assertThat(rules.assumable(u)).contains(row(u, 1, 5));
  }

  /** The entitlement rules over the test database, with no change-log hook: nothing commits. */
  private static EntitlementService standaloneRules() {
    Transactions tx = server.transactions();
    return TestDomain.entitlements(
        tx, Catalog.defaults("price_pro", "price_studio"), new AuditLog(tx));
  }

  private static EntitlementRow row(String user, long version, long balance) {
    return TestDomain.freeRow(user, version, balance);
  }

  private static Change change(EntitlementRow row, Map<String, UsageCount> counters) {
    return TestDomain.creditsChange(row.version(), row, counters);
  }

  @Test
  void aReplayAnswersTheFirstResultAndAnotherRequestUnderItsKeyIsRefused() {
    String u = user();
    CreditResult first = credits.grant(u, 10, "k1", null, CAUSE);
    CreditService.Packets before = credits.packets();

    CreditResult replay = credits.grant(u, 10, "k1", null, CAUSE);

    assertThat(replay.replayed()).isTrue();
    assertThat(replay.transactionId()).isEqualTo(first.transactionId());
    assertThat(replay.balance()).isEqualTo(10);
    assertThat(credits.packets().readFirst() - before.readFirst()).isEqualTo(1);
    assertThatThrownBy(() -> credits.grant(u, 11, "k1", null, CAUSE))
        .isInstanceOfSatisfying(
            BillingException.FailedPrecondition.class,
            e -> assertThat(e.reason()).isEqualTo("IDEMPOTENCY_KEY_REUSED"));
    assertThat(server.creditBalance(u)).isEqualTo(10);
    assertThat(server.ledgerRows(u)).isEqualTo(1);
  }

  @Test
  void aRefusalIsRecordedAndItsKeyStaysRefusedOnceTheBalanceWouldAllowIt() {
    String u = user();
    credits.grant(u, 1, "k0", null, CAUSE);
    assertThatThrownBy(() -> credits.consume(u, 50, "k1", null, CAUSE))
        .isInstanceOfSatisfying(
            BillingException.FailedPrecondition.class,
            e -> assertThat(e.reason()).isEqualTo("INSUFFICIENT_CREDITS"));
    credits.grant(u, 100, "k2", null, CAUSE); // the row moved on: one packet
    CreditService.Packets before = credits.packets();

    // The key's recorded refusal stops the packet; read first, the refusal is answered again.
    assertThatThrownBy(() -> credits.consume(u, 50, "k1", null, CAUSE))
        .isInstanceOfSatisfying(
            BillingException.FailedPrecondition.class,
            e -> assertThat(e.reason()).isEqualTo("INSUFFICIENT_CREDITS"));
    assertThatThrownBy(() -> credits.grant(u, 50, "k1", null, CAUSE))
        .isInstanceOfSatisfying(
            BillingException.FailedPrecondition.class,
            e -> assertThat(e.reason()).isEqualTo("IDEMPOTENCY_KEY_REUSED"));

    assertThat(credits.packets().readFirst() - before.readFirst()).isEqualTo(2);
    assertThat(server.creditBalance(u)).isEqualTo(101);
    assertThat(server.ledgerRows(u)).isEqualTo(2);
    // The stopped packets' claim of the key removed nothing: the refusal is still recorded.
    assertThat(
            server.queryString(
                "SELECT code FROM idempotency_outcomes WHERE owner = ? AND idem_key = 'k1'", u))
        .isEqualTo("INSUFFICIENT_CREDITS");
  }
}
