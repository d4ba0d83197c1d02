package dev.billing.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.stripe.WebhookSigner;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The webhook endpoint refuses what Stripe would never send, and stores nothing harmful. */
class WebhookHardeningTest {
  private static final String OLD_SECRET = "whsec_old_rotating_secret";
  private static TestServer server;

  @BeforeAll
  static void start() {
    server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of("STRIPE_WEBHOOK_SECRET", OLD_SECRET + "," + StripeFixtures.WEBHOOK_SECRET));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  private static String payload(String eventId, String user) {
    return StripeFixtures.subscriptionEvent(
        eventId,
        "customer.subscription.created",
        now(),
        Sub.of("sub_" + eventId, "cus_" + eventId, user, "price_pro", "active"));
  }

  private static int post(String body, String contentType, String signature) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(server.url("/webhooks/stripe"))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (signature != null) {
      b.header("Stripe-Signature", signature);
    }
    return server.send(b.build()).statusCode();
  }

  private static long stored(String eventId) {
    return server.queryLong("SELECT COUNT(*) FROM stripe_events WHERE id = ?", eventId);
  }

  @Test
  void wrongMethodsContentTypesAndSizesAreRefused() {
    String body = payload("evt_h1", "h-user-1");
    String sig = WebhookSigner.header(body, StripeFixtures.WEBHOOK_SECRET, now());
    assertThat(
            server
                .send(
                    HttpRequest.newBuilder(server.url("/webhooks/stripe"))
                        .PUT(HttpRequest.BodyPublishers.ofString(body))
                        .build())
                .statusCode())
        .isEqualTo(405);
    assertThat(post(body, "text/plain", sig)).isEqualTo(415);
    assertThat(post(body, null, sig)).isEqualTo(415);
    assertThat(server.statusForAnnouncedBody(2 * 1024 * 1024)).isEqualTo(413);
    assertThat(stored("evt_h1")).isZero();
    assertThat(post(body, "application/json; charset=utf-8", sig)).isEqualTo(200);
  }

  @Test
  void garbledExpiredAndFutureSignaturesAreRefused() {
    String body = payload("evt_h2", "h-user-2");
    long t = now();
    for (String bad :
        new String[] {
          "",
          "t=",
          "v1=abc",
          "t=notanumber,v1=" + WebhookSigner.signature(body, StripeFixtures.WEBHOOK_SECRET, t),
          "t=" + t + ",v1=" + "0".repeat(64),
          "t=" + t + ",v0=" + WebhookSigner.signature(body, StripeFixtures.WEBHOOK_SECRET, t),
          WebhookSigner.header(body, StripeFixtures.WEBHOOK_SECRET, t - 301),
          WebhookSigner.header(body, StripeFixtures.WEBHOOK_SECRET, t + 3600),
          "\\u0000\\u0001garbage,,,,=,=",
        }) {
      assertThat(post(body, "application/json", bad)).as(bad).isEqualTo(400);
    }
    assertThat(stored("evt_h2")).isZero();
  }

  @Test
  void severalSignaturesAndBothSecretsOfARotationAreAccepted() {
    String body = payload("evt_h3", "h-user-3");
    long t = now();
    String several =
        "t="
            + t
            + ",v1="
            + "f".repeat(64)
            + ",v1="
            + WebhookSigner.signature(body, StripeFixtures.WEBHOOK_SECRET, t);
    assertThat(post(body, "application/json", several)).isEqualTo(200);
    String other = payload("evt_h4", "h-user-4");
    assertThat(post(other, "application/json", WebhookSigner.header(other, OLD_SECRET, t)))
        .isEqualTo(200);
    assertThat(server.server().entitlements().get("h-user-4").getEntitlement().getTier())
        .isEqualTo("pro");
  }

  @Test
  void oversizedMetadataAndUnknownCustomersAreStoredWithoutHarm() {
    String longUser = "u".repeat(500);
    String body = payload("evt_h5", longUser);
    assertThat(server.postSigned(body).statusCode()).isEqualTo(200);
    assertThat(server.queryString("SELECT status FROM stripe_events WHERE id = 'evt_h5'"))
        .isEqualTo("processed");
    assertThat(
            server.queryLong("SELECT COUNT(*) FROM entitlements WHERE CHAR_LENGTH(user_id) > 128"))
        .isZero();
    // No user anywhere: stored, acknowledged, no entitlement created.
    var unknown =
        StripeFixtures.subscriptionEvent(
            "evt_h6",
            "customer.subscription.created",
            now(),
            Sub.of("sub_h6", "cus_nobody", null, "price_pro", "active"));
    assertThat(server.postSigned(unknown).statusCode()).isEqualTo(200);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM subscriptions WHERE stripe_subscription_id = 'sub_h6' AND user_id IS NULL"))
        .isEqualTo(1);
    // An unknown event type is stored and acknowledged.
    var object = new com.google.gson.JsonObject();
    object.addProperty("id", "acct_1");
    assertThat(
            server
                .postSigned(
                    StripeFixtures.event(
                        "evt_h7", "account.updated", now(), object, "2026-07-29.dahlia"))
                .statusCode())
        .isEqualTo(200);
    assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void healthAndMetricsOnlyAnswerGet() {
    assertThat(
            server
                .send(
                    HttpRequest.newBuilder(URI.create(server.url("/healthz").toString()))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build())
                .statusCode())
        .isEqualTo(405);
  }
}
