package dev.billing.stripe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonParser;
import dev.billing.client.BillingClient;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.stripe.emulator.AdvanceClockCommand;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stripe's test clocks in the emulator: with STRIPE_TEST_CLOCKS each new customer gets a clock, and
 * advancing it renews subscriptions as Stripe would (new period, customer.subscription.updated,
 * invoice.paid), delivered to the service like any webhook.
 */
class TestClockRenewalTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
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

  private static String subscribe(String user, int trialDays) {
    var co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
                .setPlan("pro")
                .setTrialDays(trialDays)
                .setIdempotencyKey("clock-" + user)
                .build());
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    return co.getSessionId();
  }

  private static long invoicesPaid(String user) {
    return server.queryLong(
        "SELECT COUNT(*) FROM payments WHERE user_id = ? AND kind = 'subscription'"
            + " AND status = 'succeeded'",
        user);
  }

  @Test
  void advancingTheClockPastThePeriodEndRenewsAndBillsAgain() throws Exception {
    String user = TestServer.uniqueUser("clk_");
    subscribe(user, 0);
    await()
        .atMost(WAIT)
        .until(
            () ->
                client.getEntitlement(user).getStatus()
                        == SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE
                    && invoicesPaid(user) == 1);
    long firstPeriodEnd = client.getEntitlement(user).getCurrentPeriodEnd().getSeconds();

    var advanced = AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 31);
    assertThat(advanced.steps()).isEqualTo(1);
    await()
        .atMost(WAIT)
        .until(
            () -> client.getEntitlement(user).getCurrentPeriodEnd().getSeconds() > firstPeriodEnd);
    assertThat(client.getEntitlement(user).getCurrentPeriodEnd().getSeconds())
        .isEqualTo(firstPeriodEnd + 30 * 86_400L);
    await().atMost(WAIT).until(() -> invoicesPaid(user) == 2);
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("pro");
  }

  @Test
  void aTrialEndsActiveAndPaidWhenItsClockPassesTheTrialEnd() throws Exception {
    String user = TestServer.uniqueUser("clt_");
    subscribe(user, 7);
    await()
        .atMost(WAIT)
        .until(
            () ->
                client.getEntitlement(user).getStatus()
                    == SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 8);
    await()
        .atMost(WAIT)
        .until(
            () ->
                client.getEntitlement(user).getStatus()
                    == SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    await().atMost(WAIT).until(() -> invoicesPaid(user) == 1);
  }

  @Test
  void aClockCannotGoBackOrJumpTooFar() {
    var created =
        JsonParser.parseString(
                server
                    .stripeApi("POST", "/v1/test_helpers/test_clocks", "frozen_time=1800000000")
                    .body())
            .getAsJsonObject();
    String id = created.get("id").getAsString();
    assertThat(created.get("status").getAsString()).isEqualTo("ready");
    var back =
        server.stripeApi(
            "POST", "/v1/test_helpers/test_clocks/" + id + "/advance", "frozen_time=1700000000");
    assertThat(back.statusCode()).isEqualTo(400);
    assertThat(back.body()).contains("invalid_request_error");
    var far =
        server.stripeApi(
            "POST", "/v1/test_helpers/test_clocks/" + id + "/advance", "frozen_time=1900000000");
    assertThat(far.statusCode()).isEqualTo(400);
    var ok =
        server.stripeApi(
            "POST", "/v1/test_helpers/test_clocks/" + id + "/advance", "frozen_time=1800086400");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("\"frozen_time\":1800086400");
  }
}
