package dev.billing.hardening;

import static dev.billing.testing.GrpcErrors.codeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.stripe.WebhookSigner;
import dev.billing.testing.FaultProxy;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A database that is frozen or killed gets fast, honest answers (503 for webhooks, UNAVAILABLE for
 * RPCs that need it, readiness 503, cached reads still served), and everything resumes by itself
 * when it returns, nothing lost. Before the fix deliveries hung 10–21 s behind the database and a
 * cache miss ended in DEADLINE_EXCEEDED.
 */
class DatabaseOutageTest {
  /** The bound a delivery's answer must come within (1 s) plus slack for a shared machine. */
  private static final Duration FAST = Duration.ofMillis(2_500);

  private FaultProxy proxy;
  private TestServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    var db = TestDatabase.fresh();
    proxy = FaultProxy.in(db);
    server = TestServer.start(proxy.through(db), Map.of());
  }

  @AfterEach
  void stop() {
    server.close();
    proxy.close();
  }

  private static String subscriptionCreated(String n) {
    return StripeFixtures.subscriptionEvent(
        "evt_out_" + n,
        "customer.subscription.created",
        Instant.now().getEpochSecond(),
        Sub.of("sub_out_" + n, "cus_out_" + n, "out-" + n, "price_pro", "active"));
  }

  private CompletableFuture<HttpResponse<String>> deliver(String payload) {
    return http.sendAsync(
        HttpRequest.newBuilder(server.url("/webhooks/stripe"))
            .header("Content-Type", "application/json")
            .header(
                "Stripe-Signature",
                WebhookSigner.header(
                    payload, StripeFixtures.WEBHOOK_SECRET, Instant.now().getEpochSecond()))
            .POST(HttpRequest.BodyPublishers.ofString(payload))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int status(String path) {
    return server.get(path).statusCode();
  }

  private void outageAnswersFastAndRecovers(Runnable fault) throws Exception {
    assertThat(deliver(subscriptionCreated("cached")).get().statusCode()).isEqualTo(200);
    assertThat(server.client().getEntitlement("out-cached").getTier()).isEqualTo("pro");

    fault.run();
    List<String> payloads = new ArrayList<>();
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    long started = System.nanoTime();
    for (int i = 0; i < 40; i++) {
      payloads.add(subscriptionCreated("o" + i));
      answers.add(deliver(payloads.get(i)));
    }
    for (var answer : answers) {
      assertThat(answer.get(FAST.toMillis(), TimeUnit.MILLISECONDS).statusCode()).isEqualTo(503);
    }
    long slowestMs = (System.nanoTime() - started) / 1_000_000;
    System.out.println("40 deliveries during the outage answered 503 within " + slowestMs + " ms");
    assertThat(Duration.ofMillis(slowestMs)).isLessThan(FAST);

    // Readiness says so once the probe notices (within its interval and timeout), liveness does
    // not; a cached entitlement is still served; a miss is UNAVAILABLE within its deadline, not
    // DEADLINE_EXCEEDED.
    await().atMost(FAST).until(() -> status("/healthz") == 503);
    assertThat(status("/readyz")).isEqualTo(503);
    assertThat(status("/livez")).isEqualTo(200);
    assertThat(server.client().getEntitlement("out-cached").getTier()).isEqualTo("pro");
    assertThat(
            codeOf(
                () ->
                    server
                        .client()
                        .stub()
                        .withDeadlineAfter(3, TimeUnit.SECONDS)
                        .getEntitlement(
                            GetEntitlementRequest.newBuilder().setUserId("out-miss").build())))
        .isEqualTo(Status.Code.UNAVAILABLE);
    long after = System.nanoTime();
    assertThat(deliver(payloads.get(0)).get(FAST.toMillis(), TimeUnit.MILLISECONDS).statusCode())
        .isEqualTo(503);
    assertThat(Duration.ofNanos(System.nanoTime() - after)).isLessThan(FAST);

    proxy.restore();
    await().atMost(Duration.ofSeconds(20)).until(() -> status("/healthz") == 200);
    // Stripe retries every refused delivery; each is stored once and takes effect.
    for (String payload : payloads) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> deliver(payload).get().statusCode() == 200);
    }
    for (int i = 0; i < payloads.size(); i++) {
      assertThat(server.client().getEntitlement("out-o" + i).getTier()).isEqualTo("pro");
    }
    assertThat(server.queryLong("SELECT COUNT(*) FROM stripe_events WHERE id LIKE 'evt_out_o%'"))
        .isEqualTo(payloads.size());
  }

  @Test
  void readinessAnswersAtOnceWhenEveryPoolConnectionIsBusy() throws Exception {
    // Heavy load holds every pool connection; the database itself is fine. Before, /healthz took a
    // pool connection on a worker thread: it waited out the pool's timeout and answered 503.
    List<java.sql.Connection> held = new ArrayList<>();
    try {
      for (int i = 0; i < 16; i++) {
        held.add(server.server().database().dataSource().getConnection());
      }
      for (int i = 0; i < 20; i++) {
        long t = System.nanoTime();
        assertThat(status("/healthz")).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - t)).isLessThan(Duration.ofMillis(500));
      }
      assertThat(status("/livez")).isEqualTo(200);
    } finally {
      for (var c : held) {
        c.close();
      }
    }
  }

  @Test
  void aFrozenDatabaseGetsFastAnswersAndEverythingResumes() throws Exception {
    outageAnswersFastAndRecovers(proxy::freeze);
  }

  @Test
  void aKilledDatabaseGetsFastAnswersAndEverythingResumes() throws Exception {
    outageAnswersFastAndRecovers(proxy::kill);
  }
}
