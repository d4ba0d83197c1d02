package dev.billing.domain.usage;

import static dev.billing.testing.GrpcErrors.fieldViolations;
import static dev.billing.testing.GrpcErrors.reasonOf;
import static dev.billing.testing.GrpcErrors.statusOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.client.ChangeSubscription;
import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.CheckUsageRequest;
import dev.billing.proto.v1.CheckUsageResponse;
import dev.billing.proto.v1.MetricUsage;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.proto.v1.UsageReason;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * CheckUsage and the usage in GetEntitlement, answered from each replica's memory: two replicas on
 * one database never accept more than the allowance together, and both report the exact count; the
 * stream carries the 80% and 100% crossings (not one change per record).
 */
class UsageCheckTest {
  private static TestServer a;
  private static TestServer b;
  private static BillingClient clientA;
  private static BillingClient clientB;

  @BeforeAll
  static void start() throws Exception {
    Path catalog = Files.createTempFile("usage-check-catalog", ".json");
    Files.writeString(
        catalog,
        """
        {"plans": [{"name": "free", "rank": 0,
           "limits": {"api_calls": 100,
                      "renders": {"limit": 5, "overage_credits": 10},
                      "seats": {"limit": 2, "reset": "never"}}},
          {"name": "pro", "price_id": "price_pro", "rank": 1, "amount": 1900,
           "limits": {"api_calls": 1000, "exports": 3}},
          {"name": "studio", "price_id": "price_studio", "rank": 2, "amount": 4900,
           "limits": {"api_calls": 2000, "exports": 10}}]}
        """);
    DatabaseConfig db = TestDatabase.fresh();
    Map<String, String> env = Map.of("BILLING_CATALOG", catalog.toString());
    a = TestServer.start(db, env);
    b = TestServer.start(db, env);
    clientA = a.client();
    clientB = b.client();
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  private static String user() {
    return TestServer.uniqueUser("chk_");
  }

  private static boolean record(
      BillingClient client, String user, String metric, long q, String key) {
    try {
      return client.recordUsage(user, metric, q, key, true).getAllowed();
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(reasonOf(e)).isEqualTo("LIMIT_REACHED");
      return false;
    }
  }

  @Test
  void sixtyFourConcurrentRecordsOverTwoReplicasAcceptExactlyTheAllowanceAndBothCountIt()
      throws Exception {
    String user = user();
    ExecutorService pool = Executors.newFixedThreadPool(64);
    List<Future<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      BillingClient client = i % 2 == 0 ? clientA : clientB;
      String key = "k-" + i;
      // 2 units each: 128 asked for, 100 allowed.
      calls.add(pool.submit(() -> record(client, user, "api_calls", 2, key)));
    }
    int accepted = 0;
    for (Future<Boolean> f : calls) {
      accepted += f.get() ? 1 : 0;
    }
    pool.shutdown();
    assertThat(accepted).isEqualTo(50);
    assertThat(
            a.queryLong(
                "SELECT SUM(quantity) FROM usage_records WHERE user_id = ? AND metric = 'api_calls'",
                user))
        .isEqualTo(100);
    // Retries of accepted keys on the other replica count nothing twice.
    for (int i = 0; i < 64; i++) {
      record(i % 2 == 0 ? clientB : clientA, user, "api_calls", 2, "k-" + i);
    }
    assertThat(
            a.queryLong(
                "SELECT used FROM usage_counters WHERE user_id = ? AND metric = 'api_calls'", user))
        .isEqualTo(100);
    // Each replica answers from memory, and both count every committed record.
    for (BillingClient client : List.of(clientA, clientB)) {
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                CheckUsageResponse r = client.checkUsage(user, "api_calls", 1);
                assertThat(r.getUsed()).isEqualTo(100);
                assertThat(r.getRemaining()).isZero();
                assertThat(r.getAllowed()).isFalse();
                assertThat(r.getReason()).isEqualTo(UsageReason.USAGE_REASON_LIMIT_REACHED);
              });
    }
    assertThat(a.server().entitlements().snapshotIfCached(user)).isNotNull();
    assertThat(b.server().entitlements().snapshotIfCached(user)).isNotNull();
  }

  @Test
  void aRecordOnOneReplicaReachesTheOtherReplicasCachedSnapshot() {
    String user = user();
    // B holds the user's snapshot before the record, so only the change can move it.
    assertThat(clientB.checkUsage(user, "api_calls", 1).getUsed()).isZero();
    assertThat(b.server().entitlements().snapshotIfCached(user)).isNotNull();
    assertThat(record(clientA, user, "api_calls", 7, "r1")).isTrue();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> clientB.checkUsage(user, "api_calls", 1).getUsed() == 7);
    MetricUsage calls =
        clientB.getEntitlement(user).getUsageList().stream()
            .filter(u -> u.getMetric().equals("api_calls"))
            .findFirst()
            .orElseThrow();
    assertThat(calls.getUsed()).isEqualTo(7);
    assertThat(calls.getLimit()).isEqualTo(100);
    assertThat(calls.getRemaining()).isEqualTo(93);
    assertThat(calls.hasResetsAt()).isTrue();
  }

  @Test
  void checkUsageSaysWhyNot() {
    String user = user();
    // Every metric of the plan is in the entitlement, sorted.
    assertThat(clientA.getEntitlement(user).getUsageList().stream().map(MetricUsage::getMetric))
        .containsExactly("api_calls", "renders", "seats");
    assertThat(clientA.checkUsage(user, "renders", 5).getAllowed()).isTrue();
    // Past the allowance with an overage price: the credit balance decides.
    CheckUsageResponse over = clientA.checkUsage(user, "renders", 6);
    assertThat(over.getAllowed()).isFalse();
    assertThat(over.getReason()).isEqualTo(UsageReason.USAGE_REASON_INSUFFICIENT_CREDITS);
    a.server().credits().grant(user, 10, "g-" + user, null, Cause.api("test"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> clientA.checkUsage(user, "renders", 6).getAllowed());
    // A running allowance: in use now, never resets.
    assertThat(record(clientA, user, "seats", 2, "s1")).isTrue();
    CheckUsageResponse seats = clientA.checkUsage(user, "seats", 1);
    assertThat(seats.getAllowed()).isFalse();
    assertThat(seats.getReason()).isEqualTo(UsageReason.USAGE_REASON_LIMIT_REACHED);
    assertThat(seats.hasResetsAt()).isFalse();
    assertThat(clientA.checkUsage(user, "seats", -1).getAllowed()).isTrue();
    // A metric of the catalog outside the user's plan.
    CheckUsageResponse exports = clientA.checkUsage(user, "exports", 1);
    assertThat(exports.getAllowed()).isFalse();
    assertThat(exports.getReason()).isEqualTo(UsageReason.USAGE_REASON_NOT_IN_PLAN);
    // Quantity 0 means 1.
    assertThat(clientA.checkUsage(user, "api_calls", 0).getRemaining()).isEqualTo(100);
  }

  private static void post(String eventId, String type, long created, Sub sub) {
    assertThat(
            a.postSigned(StripeFixtures.subscriptionEvent(eventId, type, created, sub))
                .statusCode())
        .isEqualTo(200);
  }

  /**
   * A plan change within a period takes the new plan's allowance at once; what was recorded in the
   * period stays counted against it, up and down.
   */
  @Test
  void aPlanChangeTakesTheNewAllowanceAndKeepsThePeriodsUsage() {
    String user = user();
    long now = Instant.now().getEpochSecond();
    Sub pro = Sub.of("sub_" + user, "cus_" + user, user, "price_pro", "active");
    post("evt_" + user + "_1", "customer.subscription.created", now, pro);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> clientA.getEntitlement(user).getTier().equals("pro"));
    assertThat(record(clientA, user, "api_calls", 900, "p1")).isTrue();
    assertThat(clientA.checkUsage(user, "api_calls", 200).getAllowed()).isFalse();

    post(
        "evt_" + user + "_2",
        "customer.subscription.updated",
        now + 1,
        pro.withPrice("price_studio"));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              CheckUsageResponse up = clientA.checkUsage(user, "api_calls", 200);
              assertThat(up.getLimit()).isEqualTo(2000);
              assertThat(up.getUsed()).isEqualTo(900);
              assertThat(up.getAllowed()).isTrue();
            });

    post("evt_" + user + "_3", "customer.subscription.updated", now + 2, pro);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> clientA.checkUsage(user, "api_calls", 1).getLimit() == 1000);
    assertThat(record(clientA, user, "api_calls", 200, "p2")).isFalse();
    assertThat(record(clientA, user, "api_calls", 100, "p3")).isTrue();
    CheckUsageResponse full = clientA.checkUsage(user, "api_calls", 1);
    assertThat(full.getUsed()).isEqualTo(1000);
    assertThat(full.getAllowed()).isFalse();
  }

  @Test
  void badInputIsInvalidArgumentNamingTheField() {
    assertThat(
            fieldViolations(
                statusOf(
                    () ->
                        clientA
                            .stub()
                            .checkUsage(
                                CheckUsageRequest.newBuilder()
                                    .setUserId("u")
                                    .setMetric("nope")
                                    .build()))))
        .contains("metric");
    assertThat(
            fieldViolations(statusOf(() -> clientA.checkUsage("u", "api_calls", 1_000_000_001L))))
        .contains("quantity");
    assertThat(fieldViolations(statusOf(() -> clientA.checkUsage("u", "api_calls", -1))))
        .contains("quantity");
    assertThat(fieldViolations(statusOf(() -> clientA.checkUsage("x".repeat(256), "seats", 1))))
        .contains("user_id");
  }

  @Test
  void theStreamCarriesTheThresholdCrossingsNotEveryRecord() {
    String user = user();
    List<SubscriptionChange> seen = new CopyOnWriteArrayList<>();
    try (ChangeSubscription sub = clientB.subscribe(null, List.of(user), List.of(), seen::add)) {
      for (int i = 1; i <= 100; i++) {
        assertThat(record(clientA, user, "api_calls", 1, "t" + i)).isTrue();
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  seen.stream()
                      .anyMatch(c -> c.getKind() == ChangeKind.CHANGE_KIND_USAGE_LIMIT_REACHED));
    }
    // In order, and nothing for the 98 records that crossed nothing.
    assertThat(seen.stream().map(SubscriptionChange::getKind))
        .containsExactly(
            ChangeKind.CHANGE_KIND_USAGE_THRESHOLD_REACHED,
            ChangeKind.CHANGE_KIND_USAGE_LIMIT_REACHED);
    SubscriptionChange threshold = seen.get(0);
    assertThat(threshold.getUsageMetric()).isEqualTo("api_calls");
    assertThat(threshold.getEntitlement().getUsage(0).getUsed()).isEqualTo(80);
    assertThat(seen.get(1).getEntitlement().getUsage(0).getRemaining()).isZero();
    assertThat(seen.get(1).getSeq()).isGreaterThan(threshold.getSeq());
  }
}
