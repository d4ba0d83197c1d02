package dev.billing.domain.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.billing.client.BillingClient;
import dev.billing.proto.v1.ListMeterEventsRequest;
import dev.billing.proto.v1.MeterEvent;
import dev.billing.stripe.emulator.AdvanceClockCommand;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Usage of a metric with a Stripe meter is reported from the outbox, off the RecordUsage path:
 * exactly the recorded units reach the (emulated) meter, also across an outage of Stripe's API and
 * a resend of an event Stripe already counted; a record too old for Stripe becomes a dead letter an
 * admin can list; the renewal invoice bills the period's metered sum.
 */
class MeterReportingTest {
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() throws Exception {
    Path catalog = Files.createTempFile("meter-catalog", ".json");
    Files.writeString(
        catalog,
        """
        {"plans": [{"name": "free", "rank": 0},
          {"name": "pro", "price_id": "price_pro", "rank": 1, "amount": 1900,
           "limits": {"api_calls": {"limit": 1000, "meter_event_name": "api_requests",
                                    "meter_unit_amount": 5}}}]}
        """);
    server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of(
                "BILLING_CATALOG",
                catalog.toString(),
                "STRIPE_TEST_CLOCKS",
                "true",
                "BILLING_METER_REPORT_INTERVAL",
                "100ms"));
    client = server.client();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String proUser() {
    return server.subscribedUser("pro", "mtr_");
  }

  private static long pending(String user) {
    return server.queryLong(
        "SELECT COUNT(*) FROM meter_outbox WHERE user_id = ? AND status = 'pending'", user);
  }

  @Test
  void recordedUsageReachesTheMeterExactlyOnceThroughAnOutageAndAResend() throws Exception {
    String user = proUser();
    String customer =
        server.queryString("SELECT stripe_customer_id FROM customers WHERE user_id = ?", user);
    for (int q = 2; q <= 4; q++) {
      client.recordUsage(user, "api_calls", q, "a" + q, false);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> server.emulator().meterTotal(customer, "api_requests") == 9);
    await().atMost(Duration.ofSeconds(10)).until(() -> pending(user) == 0);

    // Stripe's API goes down: RecordUsage still answers at once, the reporter retries.
    server.emulator().setApiDown(true);
    try {
      for (int q = 5; q <= 6; q++) {
        assertThat(client.recordUsage(user, "api_calls", q, "b" + q, false).getAllowed()).isTrue();
      }
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  server.queryLong(
                          "SELECT COUNT(*) FROM meter_outbox WHERE user_id = ?"
                              + " AND status = 'pending' AND attempts > 0 AND last_error IS NOT NULL",
                          user)
                      == 2);
      assertThat(server.metric("billing_meter_events_total{outcome=\"retry\"}")).isPositive();
      assertThat(server.emulator().meterTotal(customer, "api_requests")).isEqualTo(9);
      // As if a replica crashed after Stripe counted an event but before it was marked sent.
      assertThat(
              server.execute(
                  "UPDATE meter_outbox SET status = 'pending', next_attempt_ms = 0"
                      + " WHERE user_id = ? AND value = 3",
                  user))
          .isEqualTo(1);
    } finally {
      server.emulator().setApiDown(false);
    }
    // Back up: retried with backoff (up to 4 s by the fourth attempt).
    await().atMost(Duration.ofSeconds(40)).until(() -> pending(user) == 0);
    long recorded =
        server.queryLong("SELECT SUM(quantity) FROM usage_records WHERE user_id = ?", user);
    assertThat(recorded).isEqualTo(20);
    assertThat(server.emulator().meterTotal(customer, "api_requests")).isEqualTo(recorded);
    assertThat(server.metric("billing_meter_events_total{outcome=\"duplicate\"}")).isPositive();
    assertThat(
            server.queryLong(
                "SELECT COUNT(DISTINCT identifier) FROM meter_outbox WHERE user_id = ?", user))
        .isEqualTo(5);

    // The renewal invoice bills the period's metered sum: 20 units at 5.
    String subscription = client.getEntitlement(user).getSubscriptionId();
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 31);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              JsonObject sub = json("/v1/subscriptions/" + subscription);
              JsonObject invoice = json("/v1/invoices/" + sub.get("latest_invoice").getAsString());
              assertThat(invoice.get("billing_reason").getAsString())
                  .isEqualTo("subscription_cycle");
              assertThat(invoice.get("amount_due").getAsLong()).isEqualTo(1900 + 20 * 5);
              assertThat(invoice.getAsJsonObject("lines").getAsJsonArray("data").toString())
                  .contains("api_requests");
            });
  }

  @Test
  void aRecordTooOldForStripeIsADeadLetterAnAdminCanList() {
    String user = proUser();
    String customer =
        server.queryString("SELECT stripe_customer_id FROM customers WHERE user_id = ?", user);
    server.emulator().setApiDown(true);
    try {
      client.recordUsage(user, "api_calls", 7, "old", false);
      // It waited past Stripe's 35 days (as in an outage nobody looked at).
      assertThat(
              server.execute(
                  "UPDATE meter_outbox SET event_ts = event_ts - 40 * 86400, next_attempt_ms = 0"
                      + " WHERE user_id = ?",
                  user))
          .isEqualTo(1);
    } finally {
      server.emulator().setApiDown(false);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client
                    .stub()
                    .listMeterEvents(ListMeterEventsRequest.newBuilder().setStatus("dead").build())
                    .getEventsList()
                    .stream()
                    .anyMatch(e -> e.getUserId().equals(user)));
    MeterEvent dead =
        client
            .stub()
            .listMeterEvents(ListMeterEventsRequest.getDefaultInstance())
            .getEventsList()
            .stream()
            .filter(e -> e.getUserId().equals(user))
            .findFirst()
            .orElseThrow();
    assertThat(dead.getValue()).isEqualTo(7);
    assertThat(dead.getEventName()).isEqualTo("api_requests");
    assertThat(dead.getLastError()).contains("35 days");
    assertThat(server.emulator().meterTotal(customer, "api_requests")).isZero();
  }

  private static JsonObject json(String path) {
    var r = server.stripeApi("GET", path, null);
    assertThat(r.statusCode()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }
}
