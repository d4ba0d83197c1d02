package dev.billing.domain.checkout;

import static dev.billing.testing.GrpcErrors.fieldViolations;
import static dev.billing.testing.GrpcErrors.statusOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.PaymentMethod;
import dev.billing.stripe.emulator.AdvanceClockCommand;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Payments a product drives from its own form, through BillingClient against the emulator (the
 * emulator's confirm endpoints stand in for Stripe.js): a PaymentIntent for credits, credited once;
 * a declined one; a Checkout Session read back; cards saved with a SetupIntent, listed, made the
 * default, charged off-session at renewal, detached; another user's card refused.
 */
class DirectPaymentsTest {
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

  /** What the product's page does with Stripe.js: confirm the intent with a card. */
  private static int confirm(String path, String paymentMethod) {
    return server.stripeApi("POST", path, "payment_method=" + paymentMethod).statusCode();
  }

  private static long balance(String user) {
    return client.getEntitlement(user).getCreditBalance();
  }

  @Test
  void aPaymentIntentForCreditsIsCreditedOnceWhenStripeSaysItIsPaid() {
    String user = TestServer.uniqueUser("pi_");
    var created = client.createPaymentIntent(user, "credits_1000", "buy-1");
    assertThat(created.getClientSecret()).startsWith(created.getPaymentIntentId() + "_secret_");
    // The same key answers the same intent and records nothing twice.
    var again = client.createPaymentIntent(user, "credits_1000", "buy-1");
    assertThat(again.getPaymentIntentId()).isEqualTo(created.getPaymentIntentId());
    assertThat(again.getClientSecret()).isEqualTo(created.getClientSecret());
    assertThat(server.queryLong("SELECT COUNT(*) FROM payments WHERE user_id = ?", user))
        .isEqualTo(1);

    assertThat(
            confirm(
                "/v1/payment_intents/" + created.getPaymentIntentId() + "/confirm", "pm_card_visa"))
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(20)).until(() -> balance(user) == 1000);
    assertThat(
            server.queryString("SELECT status FROM payments WHERE id = ?", created.getPaymentId()))
        .isEqualTo("succeeded");
    // A second, declined purchase fails with the decline code and credits nothing.
    var declined = client.createPaymentIntent(user, "credits_500", "buy-2");
    assertThat(
            confirm(
                "/v1/payment_intents/" + declined.getPaymentIntentId() + "/confirm",
                "pm_card_visa_chargeDeclinedInsufficientFunds"))
        .isEqualTo(402);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                "failed"
                    .equals(
                        server.queryString(
                            "SELECT status FROM payments WHERE id = ?", declined.getPaymentId())));
    assertThat(
            server.queryString(
                "SELECT failure_code FROM payments WHERE id = ?", declined.getPaymentId()))
        .isEqualTo("insufficient_funds");
    assertThat(balance(user)).isEqualTo(1000);
    // Exactly once, also when Stripe delivers the success again.
    var events =
        com.google.gson.JsonParser.parseString(
                server.stripeApi("GET", "/v1/events?limit=100", null).body())
            .getAsJsonObject()
            .getAsJsonArray("data");
    String succeeded = null;
    for (var e : events) {
      var o = e.getAsJsonObject();
      if (o.get("type").getAsString().equals("payment_intent.succeeded")
          && o.toString().contains(created.getPaymentIntentId())) {
        succeeded = o.toString();
      }
    }
    assertThat(succeeded).isNotNull();
    assertThat(server.postSigned(succeeded).statusCode()).isEqualTo(200);
    assertThat(balance(user)).isEqualTo(1000);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM credit_ledger WHERE user_id = ? AND delta > 0", user))
        .isEqualTo(1);
  }

  @Test
  void aCheckoutSessionIsReadBackAndOnlyOurs() {
    String user = TestServer.uniqueUser("cs_");
    var co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_CREDITS)
                .setCreditPackage("credits_500")
                .setIdempotencyKey("co-" + user)
                .build());
    var open = client.getCheckoutSession(co.getSessionId());
    assertThat(open.getStatus()).isEqualTo("open");
    assertThat(open.getPaymentStatus()).isEqualTo("unpaid");
    assertThat(open.getMode()).isEqualTo("payment");
    assertThat(open.getUserId()).isEqualTo(user);
    assertThat(open.getAmount().getAmountMinor()).isEqualTo(500);
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    var paid = client.getCheckoutSession(co.getSessionId());
    assertThat(paid.getStatus()).isEqualTo("complete");
    assertThat(paid.getPaymentStatus()).isEqualTo("paid");
    assertThat(statusOf(() -> client.getCheckoutSession("cs_not_ours_123")).getStatus().getCode())
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(fieldViolations(statusOf(() -> client.getCheckoutSession("nope"))))
        .contains("session_id");
  }

  @Test
  void savedCardsAreListedMadeDefaultChargedAtRenewalAndDetached() throws Exception {
    // Checkout with a card that declines later charges, then a good card saved with a
    // SetupIntent and made the default: the renewal charges the new default.
    String user = server.subscribedUser("pro", "pm_", "4000000000000341");
    var setup = client.createSetupIntent(user, "save-1");
    assertThat(setup.getClientSecret()).startsWith(setup.getSetupIntentId() + "_secret_");
    assertThat(
            confirm("/v1/setup_intents/" + setup.getSetupIntentId() + "/confirm", "pm_card_visa"))
        .isEqualTo(200);
    var cards = client.listPaymentMethods(user);
    assertThat(cards).hasSize(2);
    PaymentMethod saved = cards.get(0);
    assertThat(saved.getLast4()).isEqualTo("4242");
    assertThat(saved.getDefault()).isFalse();
    assertThat(cards.get(1).getLast4()).isEqualTo("0341");
    assertThat(cards.get(1).getDefault()).isTrue();

    client.setDefaultPaymentMethod(user, saved.getId());
    assertThat(client.listPaymentMethods(user).get(0).getDefault()).isTrue();
    long periodEnd = client.getEntitlement(user).getCurrentPeriodEnd().getSeconds();
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 31);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.getEntitlement(user).getCurrentPeriodEnd().getSeconds() > periodEnd);
    var renewed = client.getEntitlement(user);
    assertThat(renewed.getTier()).isEqualTo("pro");
    assertThat(renewed.getPaymentProblem()).isFalse();

    // Another user's card is not this user's to use or remove.
    String other = server.subscribedUser("pro", "pmo_");
    String foreign = client.listPaymentMethods(other).get(0).getId();
    assertThat(fieldViolations(statusOf(() -> client.setDefaultPaymentMethod(user, foreign))))
        .contains("payment_method_id");
    assertThat(fieldViolations(statusOf(() -> client.detachPaymentMethod(user, foreign))))
        .contains("payment_method_id");

    client.detachPaymentMethod(user, cards.get(1).getId());
    assertThat(client.listPaymentMethods(user))
        .extracting(PaymentMethod::getLast4)
        .containsExactly("4242");
    // Stripe's events about it are in the user's history.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                server.queryLong(
                        "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action IN"
                            + " ('stripe.setup_intent.succeeded', 'stripe.payment_method.attached',"
                            + " 'stripe.customer.updated')",
                        user)
                    >= 3);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action IN"
                    + " ('payment_method.default_set', 'payment_method.detached')",
                user))
        .isEqualTo(2);
  }
}
