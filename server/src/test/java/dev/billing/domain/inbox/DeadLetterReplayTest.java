package dev.billing.domain.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.proto.v1.ListWebhookEventsRequest;
import dev.billing.proto.v1.ReplayWebhookEventRequest;
import dev.billing.proto.v1.WebhookEventStatus;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dead letters are visible through the API and can be replayed (admin). */
class DeadLetterReplayTest {
  @Test
  void aDeadLetterIsListedAndReplayedWithAFreshAttemptBudget() {
    try (TestServer server =
        TestServer.start(TestDatabase.fresh(), Map.of("BILLING_WEBHOOK_MAX_ATTEMPTS", "3"))) {
      var object =
          StripeFixtures.subscriptionObject(
              Sub.of("sub_dead", "cus_dead", "dead-user", "price_pro", "active"));
      object.remove("id"); // cannot be applied: fails on every attempt
      String payload =
          StripeFixtures.event(
              "evt_dead_1",
              "customer.subscription.updated",
              Instant.now().getEpochSecond(),
              object,
              "2026-07-29.dahlia");
      assertThat(server.postSigned(payload).statusCode()).isEqualTo(200);
      var stub = server.client().stub();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  stub.listWebhookEvents(
                              ListWebhookEventsRequest.newBuilder()
                                  .setStatus(WebhookEventStatus.WEBHOOK_EVENT_STATUS_DEAD)
                                  .build())
                          .getEventsCount()
                      == 1);
      var dead =
          stub.listWebhookEvents(
                  ListWebhookEventsRequest.newBuilder()
                      .setStatus(WebhookEventStatus.WEBHOOK_EVENT_STATUS_DEAD)
                      .build())
              .getEvents(0);
      assertThat(dead.getEventId()).isEqualTo("evt_dead_1");
      assertThat(dead.getAttempts()).isEqualTo(3);
      assertThat(dead.getLastError()).contains("without an id");
      assertThat(dead.getReceiveTime().getSeconds()).isPositive();

      var replayed =
          stub.replayWebhookEvent(
              ReplayWebhookEventRequest.newBuilder().setEventId("evt_dead_1").build());
      assertThat(replayed.getEvent().getStatus())
          .isEqualTo(WebhookEventStatus.WEBHOOK_EVENT_STATUS_PENDING);
      assertThat(replayed.getEvent().getAttempts()).isZero();
      // The worker takes it up again at once (and, still broken, dead-letters it again).
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  server.queryLong(
                          "SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_dead_1' AND status = 'dead' AND attempts = 3")
                      == 1);

      StatusRuntimeException notReplayable = null;
      server.postSigned(
          StripeFixtures.subscriptionEvent(
              "evt_fine_1",
              "customer.subscription.created",
              Instant.now().getEpochSecond(),
              Sub.of("sub_fine", "cus_fine", "fine-user", "price_pro", "active")));
      try {
        stub.replayWebhookEvent(
            ReplayWebhookEventRequest.newBuilder().setEventId("evt_fine_1").build());
      } catch (StatusRuntimeException e) {
        notReplayable = e;
      }
      assertThat(notReplayable).isNotNull();
      assertThat(notReplayable.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(
              stub.listWebhookEvents(
                      ListWebhookEventsRequest.newBuilder()
                          .setStatus(WebhookEventStatus.WEBHOOK_EVENT_STATUS_PROCESSED)
                          .setPageSize(1)
                          .build())
                  .getEventsCount())
          .isEqualTo(1);
    }
  }
}
