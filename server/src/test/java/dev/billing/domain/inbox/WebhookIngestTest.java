package dev.billing.domain.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.stripe.WebhookSigner;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestServer;
import dev.billing.transport.http.WebhookHttpHandler;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The webhook endpoint against a real server and database, with signed Stripe-shaped payloads. */
class WebhookIngestTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String unique(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 14);
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  private long events(String id) {
    return server.queryLong("SELECT COUNT(*) FROM stripe_events WHERE id = ?", id);
  }

  private Entitlement entitlement(String user) {
    return server.server().entitlements().get(user).getEntitlement();
  }

  @Test
  void subscriptionCreatedGrantsThePlan() {
    String user = unique("u_");
    Sub sub =
        Sub.of(unique("sub_"), unique("cus_"), user, "price_pro", "active")
            .withPeriodEnd(now() + 30 * 86400);
    String evt = unique("evt_");
    HttpResponse<String> r =
        server.postSigned(
            StripeFixtures.subscriptionEvent(evt, "customer.subscription.created", now(), sub));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("applied");

    Entitlement e = entitlement(user);
    assertThat(e.getTier()).isEqualTo("pro");
    assertThat(e.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    assertThat(e.getFeaturesList()).containsExactly("advanced_analytics", "priority_support");
    assertThat(e.getLimitsMap()).containsEntry("monthly_limit", 100L);
    assertThat(e.getCurrentPeriodEnd().getSeconds()).isEqualTo(sub.periodEnd());
    assertThat(e.getVersion()).isEqualTo(1);
    assertThat(server.queryString("SELECT status FROM stripe_events WHERE id = ?", evt))
        .isEqualTo("processed");
    assertThat(
            server.queryString(
                "SELECT user_id FROM customers WHERE stripe_customer_id = ?", sub.customer()))
        .isEqualTo(user);
    assertThat(server.queryLong("SELECT COUNT(*) FROM audit_log WHERE stripe_event_id = ?", evt))
        .isEqualTo(2);
  }

  /**
   * The inbox keeps the payload verbatim, compressed in MySQL's COMPRESS() format: SQL reads it
   * back with UNCOMPRESS(), the service (the retry worker, the console) through the store, and a
   * row stored before the compression keeps its text.
   */
  @Test
  void thePayloadIsStoredCompressedAndReadBackVerbatim() {
    String user = unique("u_");
    Sub sub = Sub.of(unique("sub_"), unique("cus_"), user, "price_pro", "active");
    String evt = unique("evt_");
    String payload =
        StripeFixtures.subscriptionEvent(evt, "customer.subscription.created", now(), sub);
    assertThat(server.postSigned(payload).body()).contains("applied");

    assertThat(server.queryString("SELECT payload FROM stripe_events WHERE id = ?", evt)).isNull();
    assertThat(server.queryLong("SELECT LENGTH(payload_z) FROM stripe_events WHERE id = ?", evt))
        .isLessThan(payload.length() * 3L / 4);
    assertThat(
            server.queryString(
                "SELECT CONVERT(UNCOMPRESS(payload_z) USING utf8mb4) FROM stripe_events"
                    + " WHERE id = ?",
                evt))
        .isEqualTo(payload);
    WebhookProcessor inbox = server.server().webhooks();
    assertThat(inbox.event(evt).payload()).isEqualTo(payload);

    String old = unique("evt_old_");
    server.execute(
        "INSERT INTO stripe_events (id, type, created, payload, status, attempts)"
            + " VALUES (?, 'customer.created', 1, '{\"id\":\"x\"}', 'processed', 1)",
        old);
    assertThat(inbox.event(old).payload()).isEqualTo("{\"id\":\"x\"}");
  }

  @Test
  void theSameEventTwiceHasOneEffect() {
    String user = unique("u_");
    Sub sub =
        Sub.of(unique("sub_"), unique("cus_"), user, "price_studio", "trialing")
            .withTrialEnd(now() + 7 * 86400);
    String payload =
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.created", now(), sub);
    assertThat(server.postSigned(payload).body()).contains("applied");
    HttpResponse<String> again = server.postSigned(payload);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.body()).contains("duplicate");

    assertThat(server.queryLong("SELECT COUNT(*) FROM change_log WHERE user_id = ?", user))
        .isEqualTo(1);
    Entitlement e = entitlement(user);
    assertThat(e.getVersion()).isEqualTo(1);
    assertThat(e.getTier()).isEqualTo("studio");
    assertThat(e.getTrialEnd().getSeconds()).isEqualTo(sub.trialEnd());
  }

  @Test
  void badOrMissingSignaturesAre400AndStoreNothing() {
    String evt = unique("evt_");
    String payload =
        StripeFixtures.subscriptionEvent(
            evt,
            "customer.subscription.created",
            now(),
            Sub.of(unique("sub_"), unique("cus_"), unique("u_"), "price_pro", "active"));
    long t = now();
    assertThat(server.post(payload, null).statusCode()).isEqualTo(400);
    assertThat(server.post(payload, "garbage").statusCode()).isEqualTo(400);
    assertThat(server.post(payload, WebhookSigner.header(payload, "whsec_wrong", t)).statusCode())
        .isEqualTo(400);
    // Signed correctly, but ten minutes ago: outside the 300 s tolerance.
    assertThat(
            server
                .post(
                    payload, WebhookSigner.header(payload, StripeFixtures.WEBHOOK_SECRET, t - 600))
                .statusCode())
        .isEqualTo(400);
    // Signed, then tampered with.
    String tampered = payload.replace("price_pro", "price_studio");
    assertThat(
            server
                .post(tampered, WebhookSigner.header(payload, StripeFixtures.WEBHOOK_SECRET, t))
                .statusCode())
        .isEqualTo(400);
    assertThat(events(evt)).isZero();
  }

  @Test
  void anOldEventIsStillAccepted() {
    // Stripe retries for three days: event.created may be old; only the signature time matters.
    String user = unique("u_");
    Sub sub = Sub.of(unique("sub_"), unique("cus_"), user, "price_pro", "active");
    String evt = unique("evt_");
    assertThat(
            server
                .postSigned(
                    StripeFixtures.subscriptionEvent(
                        evt, "customer.subscription.created", now() - 2 * 86400, sub))
                .statusCode())
        .isEqualTo(200);
    assertThat(entitlement(user).getTier()).isEqualTo("pro");
  }

  @Test
  void aStaleUpdateArrivingLateDoesNotOverwriteNewerState() {
    String user = unique("u_");
    Sub sub = Sub.of(unique("sub_"), unique("cus_"), user, "price_pro", "active");
    long t = now();
    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.deleted", t, sub.withStatus("canceled")));
    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.updated", t - 5, sub));
    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.created", t - 10, sub));
    assertThat(entitlement(user).getTier()).isEqualTo("free");
    assertThat(entitlement(user).getStatus())
        .isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
  }

  @Test
  void deletedMeansFreeAndLegacyPayloadsAreRead() {
    String user = unique("u_");
    Sub sub =
        Sub.of(unique("sub_"), unique("cus_"), user, "price_studio", "active")
            .withPeriodEnd(now() + 86400)
            .legacy();
    long t = now();
    server.postSigned(
        StripeFixtures.subscriptionEvent(unique("evt_"), "customer.subscription.created", t, sub));
    Entitlement e = entitlement(user);
    assertThat(e.getTier()).isEqualTo("studio");
    assertThat(e.getCurrentPeriodEnd().getSeconds()).isEqualTo(sub.periodEnd());

    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.deleted", t + 1, sub.withStatus("canceled")));
    assertThat(entitlement(user).getTier()).isEqualTo("free");
    assertThat(entitlement(user).getVersion()).isEqualTo(2);
  }

  @Test
  void theUserIsFoundThroughTheStoredCustomerWhenMetadataIsMissing() {
    String user = unique("u_");
    String customer = unique("cus_");
    Sub first = Sub.of(unique("sub_"), customer, user, "price_pro", "active");
    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.created", now(), first));
    Sub second = Sub.of(unique("sub_"), customer, null, "price_studio", "active");
    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"), "customer.subscription.created", now(), second));
    assertThat(entitlement(user).getTier()).isEqualTo("studio");
  }

  @Test
  void unknownPricesAreFreeAndOtherEventTypesAreStoredAndAcknowledged() {
    String user = unique("u_");
    server.postSigned(
        StripeFixtures.subscriptionEvent(
            unique("evt_"),
            "customer.subscription.created",
            now(),
            Sub.of(unique("sub_"), unique("cus_"), user, "price_unknown", "active")));
    assertThat(entitlement(user).getTier()).isEqualTo("free");

    String evt = unique("evt_");
    var object = new com.google.gson.JsonObject();
    object.addProperty("id", "prod_1");
    object.addProperty("object", "product");
    HttpResponse<String> r =
        server.postSigned(
            StripeFixtures.event(evt, "product.created", now(), object, "2026-07-29.dahlia"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(server.queryString("SELECT status FROM stripe_events WHERE id = ?", evt))
        .isEqualTo("processed");
  }

  @Test
  void invalidJsonUnderAValidSignatureIs400() {
    String payload = "{\"id\": \"evt_broken\", ";
    assertThat(server.postSigned(payload).statusCode()).isEqualTo(400);
    String noObject =
        "{\"id\":\"evt_noobj\",\"type\":\"customer.subscription.created\",\"created\":1}";
    assertThat(server.postSigned(noObject).statusCode()).isEqualTo(400);
    assertThat(events("evt_noobj")).isZero();
  }

  @Test
  void aFailingEventIsStoredRetriedAndDeadLettered() {
    // A subscription object without an id cannot be applied: it is stored pending, retried, then
    // dead.
    String evt = unique("evt_");
    var object =
        StripeFixtures.subscriptionObject(
            Sub.of("sub_placeholder", unique("cus_"), unique("u_"), "price_pro", "active"));
    object.remove("id");
    HttpResponse<String> r =
        server.postSigned(
            StripeFixtures.event(
                evt, "customer.subscription.updated", now(), object, "2026-07-29.dahlia"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("stored_for_retry");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                "dead"
                    .equals(
                        server.queryString("SELECT status FROM stripe_events WHERE id = ?", evt)));
    assertThat(server.queryLong("SELECT attempts FROM stripe_events WHERE id = ?", evt))
        .isEqualTo(8);
    assertThat(server.queryString("SELECT last_error FROM stripe_events WHERE id = ?", evt))
        .contains("without an id");
  }

  @Test
  void onlyPostIsAllowedAndHugeBodiesAreRefused() {
    var get =
        server.send(
            java.net.http.HttpRequest.newBuilder(server.url("/webhooks/stripe")).GET().build());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(server.statusForAnnouncedBody(WebhookHttpHandler.MAX_BODY_BYTES + 10))
        .isEqualTo(413);
  }
}
