package dev.billing.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.billing.config.Catalog;
import dev.billing.domain.command.StripeCommand;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.inbox.InboundEvent;
import dev.billing.persistence.DatabaseHealth;
import dev.billing.stripe.SignatureVerifier;
import dev.billing.stripe.StripeEventParser;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The start-up warm-up runs its events through the whole write path and leaves nothing behind: no
 * row in any table it wrote, no change-stream sequence number used; the service then works as
 * usual, its first change numbered 1.
 */
class WarmupTest {
  private static final List<String> TABLES =
      List.of(
          "stripe_events",
          "subscriptions",
          "customers",
          "entitlements",
          "payments",
          "checkout_sessions",
          "audit_log",
          "change_log");

  @Test
  void grpcAnswersNotServingWhileTheWarmUpRuns() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    CompletableFuture<TestServer> starting =
        CompletableFuture.supplyAsync(
            () ->
                TestServer.start(
                    TestDatabase.fresh(),
                    Map.of(
                        "BILLING_WARMUP_EVENTS",
                        "2000",
                        "BILLING_GRPC_PORT",
                        String.valueOf(port))));
    // The port opens before the warm-up (starting gRPC afterwards would throw compiled code away).
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> accepts(port));
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      HealthCheckRequest billing =
          HealthCheckRequest.newBuilder().setService("billing.v1.BillingService").build();
      // Until the warm-up is done the service says it is not serving yet.
      assertThat(health.withDeadlineAfter(10, TimeUnit.SECONDS).check(billing).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
      assertThat(starting).isNotDone();
      try (TestServer server = starting.get(120, TimeUnit.SECONDS)) {
        assertThat(server.metric("billing_warmup_events_total")).isGreaterThanOrEqualTo(2000.0);
        assertThat(health.check(billing).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      }
    } finally {
      channel.shutdownNow();
      if (!starting.isDone()) {
        starting.thenAccept(TestServer::close);
      }
    }
  }

  private static boolean accepts(int port) {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void warmUpEventsAreAppliedAndRolledBack() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    try (TestServer server =
        TestServer.start(TestDatabase.fresh(), Map.of("BILLING_WARMUP_EVENTS", "700"))) {
      // It stops after the window under way (a checkout and 16 lives: 133 events).
      assertThat(server.metric("billing_warmup_events_total")).isBetween(700.0, 700.0 + 132);
      // Every event found what it refers to in its window (earlier groups' rolled-back writes
      // included): nothing to warn about.
      assertThat(logged.list)
          .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .extracting(ILoggingEvent::getFormattedMessage)
          .noneMatch(m -> m.contains("warmup"));
      // Every delivery went through the warm-up's endpoint and was answered 200.
      assertThat(logged.list)
          .filteredOn(e -> e.getLoggerName().equals(WebhookWarmup.class.getName()))
          .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .isEmpty();
      for (String table : TABLES) {
        assertThat(server.queryLong("SELECT COUNT(*) FROM " + table)).as(table).isZero();
      }
      assertThat(server.queryLong("SELECT last_seq FROM change_seq")).isZero();
      // The warm-up built the snapshots a commit builds, and kept none.
      String metrics = server.get("/metrics").body();
      assertThat(metrics).contains("cache_size{cache=\"entitlements\"} 0.0");
      // ... nor counted its lookups as the cache's misses.
      assertThat(metrics).contains("cache_gets_total{cache=\"entitlements\",result=\"miss\"} 0.0");

      String user = server.subscribedUser("pro", "warm_");
      assertThat(server.client().getEntitlement(user).getTier()).isEqualTo("pro");
      assertThat(server.queryLong("SELECT MIN(seq) FROM change_log")).isEqualTo(1);
    } finally {
      root.detachAppender(logged);
    }
  }

  @Test
  void aRefusedWarmUpDeliveryStopsTheWarmUpAndSaysWhy() {
    List<String> logged =
        warmUpBeside(
            "whsec_not_the_servers",
            warmup -> assertThat(warmup.run(100, Duration.ofMinutes(1))).isZero());
    assertThat(logged)
        .anyMatch(m -> m.startsWith("warm-up stopped after 0 events") && m.contains("HTTP 400"));
  }

  @Test
  void theWarmUpStopsWhenItsTimeIsUp() {
    int[] ran = {0};
    List<String> logged =
        warmUpBeside(
            "whsec_server",
            // One window under way when the time is up (16 lives and a checkout, 133
            // events), not the thousand asked for (about eight windows).
            warmup -> ran[0] = warmup.run(1_000, Duration.ofMillis(1)));
    assertThat(ran[0]).isBetween(1, 200);
    assertThat(logged)
        .contains("warm-up stopped after " + ran[0] + " events: its time (PT0.001S) was up");
  }

  /**
   * Runs {@code body} with a warm-up that signs with {@code secret}, beside a server whose handler
   * accepts {@code whsec_server}; checks the warm-up stored nothing and returns what it logged.
   */
  private static List<String> warmUpBeside(
      String secret, java.util.function.Consumer<WebhookWarmup> body) {
    Logger warmupLog = (Logger) LoggerFactory.getLogger(WebhookWarmup.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    warmupLog.addAppender(logged);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    DatabaseHealth health = TestDatabase.unprobedHealth();
    try (TestServer server =
        TestServer.start(TestDatabase.fresh(), Map.of("BILLING_WARMUP_EVENTS", "0"))) {
      WebhookHttpHandler handler =
          new WebhookHttpHandler(
              new SignatureVerifier(
                  List.of("whsec_server"), Duration.ofMinutes(5), Clock.systemUTC()),
              server.server().webhooks());
      WebhookWarmup warmup =
          new WebhookWarmup(
              handler,
              h -> new HttpServer("127.0.0.1", 0, h, health, registry),
              server.server().webhooks(),
              Catalog.defaults("price_pro", "price_studio"),
              secret,
              Clock.systemUTC(),
              registry,
              SimpleMeterRegistry::new);
      body.accept(warmup);
      assertThat(server.queryLong("SELECT COUNT(*) FROM stripe_events")).isZero();
      return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    } finally {
      warmupLog.detachAppender(logged);
    }
  }

  @Test
  void everyWarmUpEventIsOneTheWritersApply() {
    WebhookWarmup warmup = eventsOnly();
    List<InboundEvent> events =
        warmup.lifeOfASubscription("t", 1).stream().map(StripeEventParser::parse).toList();
    assertThat(events)
        .extracting(InboundEvent::type)
        .containsExactly(
            "checkout.session.completed",
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "invoice.payment_failed",
            "customer.subscription.updated",
            "invoice.paid",
            "customer.subscription.deleted");
    assertThat(events)
        .allSatisfy(e -> assertThat(e.command()).isNotInstanceOf(StripeCommand.Ignored.class));
    // This life changes one thing at a time: the trial ends alone, then (after a plan change) it
    // is set to cancel at the period's end, updated with nothing the service keeps, and set back.
    List<SubscriptionSnapshot> snapshots =
        events.stream()
            .map(InboundEvent::command)
            .filter(StripeCommand.SubscriptionChanged.class::isInstance)
            .map(c -> ((StripeCommand.SubscriptionChanged) c).snapshot())
            .toList();
    assertThat(snapshots.get(0).status()).isEqualTo("trialing");
    assertThat(snapshots.get(1))
        .usingRecursiveComparison()
        .ignoringFields("status", "trialEnd")
        .isEqualTo(snapshots.get(0));
    assertThat(snapshots.get(1).status()).isEqualTo("active");
    assertThat(snapshots.subList(3, 6))
        .extracting(SubscriptionSnapshot::cancelAtPeriodEnd)
        .containsExactly(true, true, false);
    assertThat(snapshots.get(4)).isEqualTo(snapshots.get(3));
    assertThat(snapshots.get(5))
        .usingRecursiveComparison()
        .ignoringFields("cancelAtPeriodEnd")
        .isEqualTo(snapshots.get(2));
    // ... and is deleted while set to cancel at the period's end.
    assertThat(snapshots.getLast().status()).isEqualTo("canceled");
    assertThat(snapshots.getLast().cancelAtPeriodEnd()).isTrue();

    // The other lives: out of order, a free trial, an event delivered twice.
    List<InboundEvent> outOfOrder =
        warmup.lifeOfASubscription("t", 2).stream().map(StripeEventParser::parse).toList();
    assertThat(outOfOrder)
        .extracting(InboundEvent::type)
        .startsWith(
            "invoice.payment_failed",
            "customer.subscription.created",
            "checkout.session.completed");
    List<InboundEvent> trial =
        warmup.lifeOfASubscription("t", 3).stream().map(StripeEventParser::parse).toList();
    assertThat(trial.get(1).created()).isEqualTo(trial.get(2).created());
    List<InboundEvent> twice =
        warmup.lifeOfASubscription("t", 4).stream().map(StripeEventParser::parse).toList();
    assertThat(twice).hasSize(8);
    assertThat(twice.stream().map(InboundEvent::id).distinct()).hasSize(7);
    // Every other four lives recover into a renewed period and change plan again.
    List<InboundEvent> recovers =
        warmup.lifeOfASubscription("t", 5).stream().map(StripeEventParser::parse).toList();
    assertThat(recovers)
        .extracting(InboundEvent::type)
        .containsExactly(
            "checkout.session.completed",
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "invoice.payment_failed",
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.updated");
    for (List<InboundEvent> life : List.of(outOfOrder, trial, twice, recovers)) {
      assertThat(life)
          .allSatisfy(e -> assertThat(e.command()).isNotInstanceOf(StripeCommand.Ignored.class));
    }
  }

  @Test
  void usersTwoByTwoHaveIdsThatCollideInTheirHashes() {
    WebhookWarmup warmup = eventsOnly();
    // Users 2k and 2k + 1: every id of the one differs from the same id of the other, with the
    // same String.hashCode (map keys that share a hash, as structured real ids often do).
    List<InboundEvent> even =
        warmup.lifeOfASubscription("t", 4).stream().map(StripeEventParser::parse).toList();
    List<InboundEvent> odd =
        warmup.lifeOfASubscription("t", 5).stream().map(StripeEventParser::parse).toList();
    CheckoutCompleted a = (CheckoutCompleted) even.getFirst().command();
    CheckoutCompleted b = (CheckoutCompleted) odd.getFirst().command();
    for (String[] pair :
        List.of(
            new String[] {a.userId(), b.userId()},
            new String[] {a.customerId(), b.customerId()},
            new String[] {a.subscriptionId(), b.subscriptionId()},
            new String[] {even.getFirst().id(), odd.getFirst().id()})) {
      assertThat(pair[0]).isNotEqualTo(pair[1]);
      assertThat(pair[0].hashCode()).isEqualTo(pair[1].hashCode());
    }
    // Users of different pairs are unrelated: their ids are distinct and so are their hashes.
    Set<Integer> hashes = new HashSet<>();
    Set<String> users = new HashSet<>();
    for (int n = 0; n < 400; n += 4) { // lives that start with their checkout
      String user =
          ((CheckoutCompleted)
                  StripeEventParser.parse(warmup.lifeOfASubscription("t", n).getFirst()).command())
              .userId();
      users.add(user);
      hashes.add(user.hashCode());
    }
    assertThat(users).hasSize(100);
    assertThat(hashes).hasSize(100);
  }

  /** A warm-up whose events are read, not sent (no handler, listener or processor). */
  private static WebhookWarmup eventsOnly() {
    return new WebhookWarmup(
        null,
        null,
        null,
        Catalog.defaults("price_pro", "price_studio"),
        "whsec_x",
        Clock.systemUTC(),
        new SimpleMeterRegistry(),
        SimpleMeterRegistry::new);
  }
}
