package dev.billing.domain.checkout;

import static dev.billing.testing.GrpcErrors.fieldViolations;
import static dev.billing.testing.GrpcErrors.reasonOf;
import static dev.billing.testing.GrpcErrors.statusOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonParser;
import dev.billing.client.BillingClient;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.stripe.emulator.AdvanceClockCommand;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Subscriptions created without Checkout ({@code default_incomplete}), through BillingClient
 * against the emulator: incomplete until the first payment is confirmed with the client secret
 * (also through 3-D Secure on the emulator's confirm page), then active; a trial starts at once; an
 * unpaid one expires after Stripe's 23 hours; a second live subscription is refused.
 */
class DirectSubscriptionTest {
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(TestDatabase.fresh(), Map.of("STRIPE_TEST_CLOCKS", "true"));
    client = server.client();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String intentOf(String clientSecret) {
    return clientSecret.replaceAll("_secret_.*$", "");
  }

  private static String status(String intentId) {
    return JsonParser.parseString(
            server.stripeApi("GET", "/v1/payment_intents/" + intentId, null).body())
        .getAsJsonObject()
        .get("status")
        .getAsString();
  }

  @Test
  void anIncompleteSubscriptionBecomesActiveWhenItsFirstPaymentIsConfirmed() {
    String user = TestServer.uniqueUser("ds_");
    var created = client.createSubscription(user, "pro", 0, null, "sub-1");
    assertThat(created.getStatus()).isEqualTo("incomplete");
    assertThat(created.getClientSecret()).contains("_secret_");
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("free");
    var again = client.createSubscription(user, "pro", 0, null, "sub-1");
    assertThat(again.getReplayed()).isTrue();
    assertThat(again.getSubscriptionId()).isEqualTo(created.getSubscriptionId());

    String pi = intentOf(created.getClientSecret());
    assertThat(
            server
                .stripeApi(
                    "POST", "/v1/payment_intents/" + pi + "/confirm", "payment_method=pm_card_visa")
                .statusCode())
        .isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              var e = client.getEntitlement(user);
              assertThat(e.getTier()).isEqualTo("pro");
              assertThat(e.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
              assertThat(e.getSubscriptionId()).isEqualTo(created.getSubscriptionId());
            });
    assertThat(
            reasonOf(statusOf(() -> client.createSubscription(user, "studio", 0, null, "sub-2"))))
        .isEqualTo("ALREADY_SUBSCRIBED");
  }

  @Test
  void threeDSecureOnTheConfirmPageCompletesTheFirstPayment() throws Exception {
    String user = TestServer.uniqueUser("ds3_");
    var created = client.createSubscription(user, "studio", 0, null, "sub-3ds");
    String pi = intentOf(created.getClientSecret());
    // The card asks for authentication: the payment waits.
    assertThat(
            server
                .stripeApi(
                    "POST",
                    "/v1/payment_intents/" + pi + "/confirm",
                    "payment_method=pm_card_threeDSecure2Required")
                .statusCode())
        .isEqualTo(200);
    assertThat(status(pi)).isEqualTo("requires_action");
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("free");
    // The customer passes 3-D Secure on the confirm page (what Stripe.js shows).
    var page =
        server.send(
            HttpRequest.newBuilder(
                    URI.create(server.emulator().confirmUrl(created.getClientSecret())))
                .GET()
                .build());
    assertThat(page.body()).contains("Authenticate");
    var done =
        server.send(
            HttpRequest.newBuilder(
                    URI.create(server.emulator().apiBase() + "/confirm/authenticate"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "client_secret="
                            + java.net.URLEncoder.encode(
                                created.getClientSecret(), java.nio.charset.StandardCharsets.UTF_8)
                            + "&result=complete"))
                .build());
    assertThat(done.body()).contains("Payment succeeded");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.getEntitlement(user).getTier().equals("studio"));
  }

  @Test
  void aTrialStartsAtOnceAndAnUnpaidSubscriptionExpiresAfter23Hours() throws Exception {
    String trial = TestServer.uniqueUser("dst_");
    var trialing = client.createSubscription(trial, "pro", 14, null, "sub-t");
    assertThat(trialing.getStatus()).isEqualTo("trialing");
    assertThat(trialing.getClientSecret()).isEmpty();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client.getEntitlement(trial).getStatus()
                    == SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);

    String unpaid = TestServer.uniqueUser("dsu_");
    var created = client.createSubscription(unpaid, "pro", 0, null, "sub-u");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client.getEntitlement(unpaid).getStatus()
                    == SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", unpaid, 1);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client.getEntitlement(unpaid).getStatus()
                    == SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE_EXPIRED);
    assertThat(client.getEntitlement(unpaid).getTier()).isEqualTo("free");
    assertThat(created.getSubscriptionId()).isNotEmpty();
  }

  @Test
  void badRequestsSayWhy() {
    assertThat(
            fieldViolations(statusOf(() -> client.createSubscription("u1", "gold", 0, null, "b1"))))
        .contains("plan");
    assertThat(
            fieldViolations(statusOf(() -> client.createSubscription("u1", "pro", -1, null, "b2"))))
        .contains("trial_days");
    assertThat(
            fieldViolations(
                statusOf(() -> client.createSubscription("u1", "pro", 0, "card_x", "b3"))))
        .contains("payment_method_id");
    String other = server.subscribedUser("pro", "dso_");
    String foreign = client.listPaymentMethods(other).get(0).getId();
    assertThat(
            fieldViolations(
                statusOf(
                    () ->
                        client.createSubscription(
                            TestServer.uniqueUser("dsf_"), "pro", 0, foreign, "b4"))))
        .contains("payment_method_id");
  }
}
