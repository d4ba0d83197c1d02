package dev.billing.domain.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A delivery whose group cannot be written within {@code BILLING_WEBHOOK_STORE_WAIT} is answered
 * 503 at the end of that wait (Stripe retries it); the group, once it can, still stores the event,
 * and the retry finds it stored.
 */
class StoreWaitTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(TestDatabase.fresh(), Map.of("BILLING_WEBHOOK_STORE_WAIT", "1s"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aDeliveryNotStoredWithinTheWaitIsAnswered503AndStoredLater() throws Exception {
    String user = "u_" + UUID.randomUUID().toString().substring(0, 12);
    long now = Instant.now().getEpochSecond();
    Sub sub =
        Sub.of("sub_" + user, "cus_" + user, user, "price_pro", "active")
            .withPeriodEnd(now + 30 * 86400);
    String evt = "evt_" + user;
    String payload =
        StripeFixtures.subscriptionEvent(evt, "customer.subscription.created", now, sub);

    HttpResponse<String> answer;
    long waited;
    // Every group reserves change-log numbers from this row: while another transaction holds it,
    // no group can commit.
    try (Connection blocker = server.server().database().dataSource().getConnection()) {
      blocker.setAutoCommit(false);
      try (PreparedStatement ps =
              blocker.prepareStatement("SELECT last_seq FROM change_seq WHERE id = 1 FOR UPDATE");
          ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
      }
      long started = System.nanoTime();
      answer = server.postSigned(payload);
      waited = (System.nanoTime() - started) / 1_000_000;
      assertThat(server.queryLong("SELECT COUNT(*) FROM stripe_events WHERE id = ?", evt)).isZero();
      blocker.rollback();
    }

    assertThat(answer.statusCode()).isEqualTo(503);
    assertThat(answer.body()).contains("unavailable");
    // Answered at the end of the wait (checked every 50 ms for a 1 s wait), not at once and not
    // when the lock wait (5 s) ends.
    assertThat(waited).isBetween(1_000L, 4_000L);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(server.queryString("SELECT status FROM stripe_events WHERE id = ?", evt))
                    .isEqualTo("processed"));
    HttpResponse<String> retry = server.postSigned(payload);
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.body()).contains("duplicate");
    assertThat(server.queryLong("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", user))
        .isEqualTo(1);
  }

  @Test
  void theScanIsATwentiethOfTheWaitWithinBounds() {
    assertThat(WebhookProcessor.overdueScan(Duration.ofSeconds(5)))
        .isEqualTo(Duration.ofMillis(100));
    assertThat(WebhookProcessor.overdueScan(Duration.ofSeconds(1)))
        .isEqualTo(Duration.ofMillis(50));
    assertThat(WebhookProcessor.overdueScan(Duration.ofMillis(50)))
        .isEqualTo(Duration.ofMillis(10));
  }
}
