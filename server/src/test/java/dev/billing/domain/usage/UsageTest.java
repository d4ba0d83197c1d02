package dev.billing.domain.usage;

import static dev.billing.testing.GrpcErrors.fieldViolations;
import static dev.billing.testing.GrpcErrors.reasonOf;
import static dev.billing.testing.GrpcErrors.statusOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.client.ChangeSubscription;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.ListUsageRequest;
import dev.billing.proto.v1.RecordUsageRequest;
import dev.billing.proto.v1.RecordUsageResponse;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.proto.v1.UsageMode;
import dev.billing.proto.v1.UsageRecord;
import dev.billing.stripe.emulator.AdvanceClockCommand;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RecordUsage and ListUsage: allowances per period and running, enforce and record modes, overage
 * paid in credits, exactly once per key, no overshoot under concurrency, and a renewal delivered by
 * the emulator (test clock) starting a new period.
 */
class UsageTest {
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() throws Exception {
    Path catalog = Files.createTempFile("usage-catalog", ".json");
    Files.writeString(
        catalog,
        """
        {"plans": [{"name": "free", "rank": 0, "limits": {"exports": 2}},
          {"name": "pro", "price_id": "price_pro", "rank": 1, "amount": 1900,
           "limits": {"api_calls": {"limit": 10, "overage_credits": 2, "legacy_name": "monthly_limit"},
                      "seats": {"limit": 3, "reset": "never"}}}]}
        """);
    server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of("BILLING_CATALOG", catalog.toString(), "STRIPE_TEST_CLOCKS", "true"));
    client = server.client();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** A user on pro through a paid checkout (its customer on a test clock). */
  private static String proUser() {
    return server.subscribedUser("pro", "use_");
  }

  private static RecordUsageRequest.Builder usage(String user, String metric, long q, String key) {
    return RecordUsageRequest.newBuilder()
        .setUserId(user)
        .setMetric(metric)
        .setQuantity(q)
        .setIdempotencyKey(key)
        .setMode(UsageMode.USAGE_MODE_ENFORCE);
  }

  private static RecordUsageResponse record(RecordUsageRequest.Builder r) {
    return client.stub().recordUsage(r.build());
  }

  @Test
  void sixtyFourConcurrentRecordsAcceptExactlyTheAllowanceAndTheCounterIsTheSumOfItsRecords()
      throws Exception {
    String user = proUser();
    ExecutorService pool = Executors.newFixedThreadPool(64);
    List<Future<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      String key = "c-" + i;
      calls.add(
          pool.submit(
              () -> {
                try {
                  return record(usage(user, "api_calls", 1, key)).getAllowed();
                } catch (StatusRuntimeException e) {
                  assertThat(reasonOf(e)).isEqualTo("LIMIT_REACHED");
                  return false;
                }
              }));
    }
    int accepted = 0;
    for (Future<Boolean> f : calls) {
      accepted += f.get() ? 1 : 0;
    }
    pool.shutdown();
    assertThat(accepted).isEqualTo(10);
    assertThat(
            server.queryLong(
                "SELECT SUM(quantity) FROM usage_records WHERE user_id = ? AND metric = 'api_calls'",
                user))
        .isEqualTo(10);
    assertThat(
            server.queryLong(
                "SELECT used FROM usage_counters WHERE user_id = ? AND metric = 'api_calls'", user))
        .isEqualTo(10);
    var list =
        client
            .stub()
            .listUsage(
                ListUsageRequest.newBuilder().setUserId(user).setMetric("api_calls").build());
    assertThat(list.getUsed()).isEqualTo(10);
    assertThat(list.getRemaining()).isZero();
    assertThat(list.getRecordsList()).hasSize(10);
    assertThat(list.getRecordsList().stream().map(UsageRecord::getId).toList())
        .isSortedAccordingTo((a, b) -> Long.compare(b, a));
  }

  @Test
  void aKeysFirstAnswerIsItsAnswerAndAnotherRequestUnderItIsRefused() {
    String user = proUser();
    RecordUsageResponse first = record(usage(user, "api_calls", 4, "k1"));
    assertThat(first.getReplayed()).isFalse();
    RecordUsageResponse again = record(usage(user, "api_calls", 4, "k1"));
    assertThat(again.getReplayed()).isTrue();
    assertThat(again.getUsed()).isEqualTo(4);
    assertThat(reasonOf(statusOf(() -> record(usage(user, "api_calls", 5, "k1")))))
        .isEqualTo("IDEMPOTENCY_KEY_REUSED");
    // A refusal is the key's outcome too, even once the user could afford it.
    record(usage(user, "api_calls", 6, "k2"));
    assertThat(reasonOf(statusOf(() -> record(usage(user, "api_calls", 1, "k3")))))
        .isEqualTo("LIMIT_REACHED");
    client.grantCredits(user, 100, "top-up", "test");
    assertThat(reasonOf(statusOf(() -> record(usage(user, "api_calls", 1, "k3")))))
        .isEqualTo("LIMIT_REACHED");
    assertThat(record(usage(user, "api_calls", 1, "k4")).getCreditsDebited()).isEqualTo(2);
  }

  @Test
  void overageIsPaidInCreditsInTheSameTransactionNeverBelowZero() {
    String user = proUser();
    client.grantCredits(user, 5, "seed", "test");
    record(usage(user, "api_calls", 10, "o1"));
    RecordUsageResponse paid = record(usage(user, "api_calls", 2, "o2"));
    assertThat(paid.getOverage()).isEqualTo(2);
    assertThat(paid.getCreditsDebited()).isEqualTo(4);
    assertThat(client.getEntitlement(user).getCreditBalance()).isEqualTo(1);
    assertThat(reasonOf(statusOf(() -> record(usage(user, "api_calls", 2, "o3")))))
        .isEqualTo("LIMIT_REACHED");
    RecordUsageResponse recorded =
        record(usage(user, "api_calls", 2, "o4").setMode(UsageMode.USAGE_MODE_RECORD));
    assertThat(recorded.getAllowed()).isTrue();
    assertThat(recorded.getOverage()).isEqualTo(2);
    assertThat(recorded.getCreditsDebited()).isEqualTo(1);
    assertThat(recorded.getUsed()).isEqualTo(14);
    assertThat(client.getEntitlement(user).getCreditBalance()).isZero();
    // One ledger row per paying record, linked to it.
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM credit_ledger l JOIN usage_records u"
                    + " ON u.ledger_txn_id = l.transaction_id WHERE u.user_id = ?",
                user))
        .isEqualTo(2);
  }

  @Test
  void aRunningAllowanceGoesUpAndDownButNotBelowZero() {
    String user = proUser();
    assertThat(record(usage(user, "seats", 3, "s1")).getUsed()).isEqualTo(3);
    assertThat(reasonOf(statusOf(() -> record(usage(user, "seats", 1, "s2")))))
        .isEqualTo("LIMIT_REACHED");
    RecordUsageResponse freed = record(usage(user, "seats", -1, "s3"));
    assertThat(freed.getUsed()).isEqualTo(2);
    assertThat(freed.hasResetsAt()).isFalse();
    assertThat(reasonOf(statusOf(() -> record(usage(user, "seats", -5, "s4")))))
        .isEqualTo("BELOW_ZERO");
  }

  @Test
  void aMetricOutsideTheUsersPlanIsNotInPlan() {
    String user = TestServer.uniqueUser("free_");
    assertThat(reasonOf(statusOf(() -> record(usage(user, "api_calls", 1, "n1")))))
        .isEqualTo("NOT_IN_PLAN");
    assertThat(record(usage(user, "exports", 1, "n2")).getLimit()).isEqualTo(2);
  }

  @Test
  void badInputIsInvalidArgumentNamingTheField() {
    StatusRuntimeException unknown = statusOf(() -> record(usage("u", "calls", 1, "b1")));
    assertThat(unknown.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(unknown.getStatus().getDescription()).contains("api_calls").contains("seats");
    assertThat(fieldViolations(unknown)).contains("metric");
    assertThat(fieldViolations(statusOf(() -> record(usage("u", "api_calls", 0, "b2")))))
        .contains("quantity");
    assertThat(
            fieldViolations(statusOf(() -> record(usage("u", "api_calls", 1_000_000_001L, "b3")))))
        .contains("quantity");
    assertThat(fieldViolations(statusOf(() -> record(usage("u", "api_calls", -1, "b4")))))
        .contains("quantity");
    assertThat(fieldViolations(statusOf(() -> record(usage("u", "api_calls", 1, "")))))
        .contains("idempotency_key");
    assertThat(
            fieldViolations(statusOf(() -> record(usage("u".repeat(300), "api_calls", 1, "b5")))))
        .contains("user_id");
    assertThat(
            fieldViolations(
                statusOf(
                    () ->
                        record(
                            usage("u", "api_calls", 1, "b6")
                                .setMode(UsageMode.USAGE_MODE_UNSPECIFIED)))))
        .contains("mode");
  }

  @Test
  void aRenewalDeliveredByTheEmulatorStartsANewPeriod() throws Exception {
    String user = proUser();
    RecordUsageResponse full = record(usage(user, "api_calls", 10, "p1"));
    long resetsAt = full.getResetsAt().getSeconds();
    assertThat(resetsAt).isEqualTo(client.getEntitlement(user).getCurrentPeriodEnd().getSeconds());
    assertThat(reasonOf(statusOf(() -> record(usage(user, "api_calls", 1, "p2")))))
        .isEqualTo("LIMIT_REACHED");

    List<SubscriptionChange> seen = new CopyOnWriteArrayList<>();
    try (ChangeSubscription sub = client.subscribe(null, List.of(user), List.of(), seen::add)) {
      AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 31);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  seen.stream()
                      .anyMatch(c -> c.getKind() == ChangeKind.CHANGE_KIND_USAGE_PERIOD_RESET));
    }
    // The reset follows the renewal's own change, once.
    List<ChangeKind> kinds = seen.stream().map(SubscriptionChange::getKind).toList();
    assertThat(kinds).containsOnlyOnce(ChangeKind.CHANGE_KIND_USAGE_PERIOD_RESET);
    assertThat(kinds.indexOf(ChangeKind.CHANGE_KIND_USAGE_PERIOD_RESET))
        .isGreaterThan(kinds.indexOf(ChangeKind.CHANGE_KIND_SUBSCRIPTION_UPDATED));
    assertThat(client.getEntitlement(user).getCurrentPeriodEnd().getSeconds())
        .isGreaterThan(resetsAt);
    // Answered from memory: the new period's counter is empty.
    var check = client.checkUsage(user, "api_calls", 1);
    assertThat(check.getUsed()).isZero();
    assertThat(check.getAllowed()).isTrue();
    RecordUsageResponse next = record(usage(user, "api_calls", 1, "p3"));
    assertThat(next.getUsed()).isEqualTo(1);
    assertThat(next.getResetsAt().getSeconds()).isEqualTo(resetsAt + 30 * 86_400L);
  }
}
