package dev.billing.domain.checkout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.billing.client.BillingClient;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CheckoutStatus;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.proto.v1.CreatePortalSessionRequest;
import dev.billing.proto.v1.ListCreditPackagesRequest;
import dev.billing.proto.v1.ListPlansRequest;
import dev.billing.proto.v1.Money;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.testing.GrpcErrors;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The purchase loop through the real stripe-java HTTP path against the local Stripe emulator: the
 * service creates sessions at "Stripe", a script pays on the hosted page with test cards, and the
 * emulator's signed webhooks change entitlements, credits and payments.
 */
class CheckoutEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    client = server.client();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String user() {
    return TestServer.uniqueUser("co_");
  }

  private static CreateCheckoutRequest.Builder subscription(String user, String plan) {
    return CreateCheckoutRequest.newBuilder()
        .setUserId(user)
        .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
        .setPlan(plan)
        .setSuccessUrl("http://localhost:3000/billing/done?session={CHECKOUT_SESSION_ID}")
        .setCancelUrl("http://localhost:3000/billing")
        .setIdempotencyKey("key-" + UUID.randomUUID());
  }

  private static CreateCheckoutRequest.Builder credits(String user) {
    return CreateCheckoutRequest.newBuilder()
        .setUserId(user)
        .setMode(CheckoutMode.CHECKOUT_MODE_CREDITS)
        .setIdempotencyKey("key-" + UUID.randomUUID());
  }

  private static JsonObject json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  @Test
  void aSubscriptionCheckoutWithATrialStartsATrialingEntitlement() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(subscription(user, "studio").setTrialDays(14).build());
    assertThat(co.getSessionId()).startsWith("cs_test_");
    assertThat(co.getUrl()).endsWith("/checkout/" + co.getSessionId());
    assertThat(co.getStatus()).isEqualTo(CheckoutStatus.CHECKOUT_STATUS_OPEN);
    assertThat(co.getAmount().getAmountMinor()).isZero();
    assertThat(co.getExpiresAt().getSeconds()).isGreaterThan(System.currentTimeMillis() / 1000);

    HttpResponse<String> paid = server.pay(co.getUrl(), "4242424242424242", null);
    assertThat(paid.statusCode()).isEqualTo(200);
    assertThat(json(paid).get("status").getAsString()).isEqualTo("succeeded");

    await().atMost(WAIT).until(() -> client.getEntitlement(user).getTier().equals("studio"));
    var e = client.getEntitlement(user);
    assertThat(e.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);
    assertThat(e.getTrialEnd().getSeconds())
        .isGreaterThan(System.currentTimeMillis() / 1000 + 13 * 86400);
    assertThat(e.getFeaturesList()).contains("api_access", "white_label");
    // The customer was created once and remembered; the session is marked complete.
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers WHERE user_id = ?", user))
        .isEqualTo(1);
    await()
        .atMost(WAIT)
        .until(
            () ->
                "complete"
                    .equals(
                        server.queryString(
                            "SELECT status FROM checkout_sessions WHERE session_id = ?",
                            co.getSessionId())));
  }

  @Test
  void aPaidSubscriptionWithoutTrialIsActive() {
    String user = user();
    CreateCheckoutResponse co = client.createCheckout(subscription(user, "pro").build());
    assertThat(co.getAmount().getAmountMinor()).isEqualTo(1900);
    assertThat(server.pay(co.getUrl(), "4242 4242 4242 4242", null).statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getTier().equals("pro"));
    assertThat(client.getEntitlement(user).getStatus())
        .isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
  }

  @Test
  void aCreditPurchaseAddsTheCreditsOnce() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(credits(user).setCreditPackage("credits_1000").build());
    assertThat(co.getPaymentId()).startsWith("pay_");
    assertThat(co.getAmount())
        .isEqualTo(Money.newBuilder().setAmountMinor(1000).setCurrency("usd").build());
    assertThat(server.queryString("SELECT status FROM payments WHERE id = ?", co.getPaymentId()))
        .isEqualTo("pending");

    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getCreditBalance() == 1000);
    // Both checkout.session.completed and payment_intent.succeeded arrive; the credits land once.
    await()
        .atMost(WAIT)
        .until(
            () ->
                server.queryLong(
                        "SELECT COUNT(*) FROM stripe_events WHERE type IN ('checkout.session.completed','payment_intent.succeeded')"
                            + " AND CONVERT(UNCOMPRESS(payload_z) USING utf8mb4) LIKE ?",
                        "%" + co.getPaymentId() + "%")
                    == 2);
    assertThat(server.queryLong("SELECT COUNT(*) FROM credit_ledger WHERE user_id = ?", user))
        .isEqualTo(1);
    assertThat(server.queryString("SELECT status FROM payments WHERE id = ?", co.getPaymentId()))
        .isEqualTo("succeeded");
    assertThat(
            server.queryString(
                "SELECT payment_intent_id FROM payments WHERE id = ?", co.getPaymentId()))
        .startsWith("pi_");
    assertThat(client.getEntitlement(user).getCreditBalance()).isEqualTo(1000);
  }

  @Test
  void aCustomAmountBuysThatManyCredits() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(
            credits(user)
                .setAmount(Money.newBuilder().setAmountMinor(2500).setCurrency("usd"))
                .build());
    server.pay(co.getUrl(), "4242424242424242", null);
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getCreditBalance() == 2500);
  }

  @Test
  void aDeclinedCardGrantsNothingAndRecordsAFailedPayment() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(credits(user).setCreditPackage("credits_500").build());
    HttpResponse<String> declined = server.pay(co.getUrl(), "4000000000009995", null);
    assertThat(declined.statusCode()).isEqualTo(402);
    assertThat(json(declined).get("decline_code").getAsString()).isEqualTo("insufficient_funds");
    await()
        .atMost(WAIT)
        .until(
            () ->
                "failed"
                    .equals(
                        server.queryString(
                            "SELECT status FROM payments WHERE id = ?", co.getPaymentId())));
    assertThat(
            server.queryString("SELECT failure_code FROM payments WHERE id = ?", co.getPaymentId()))
        .isEqualTo("insufficient_funds");
    assertThat(client.getEntitlement(user).getCreditBalance()).isZero();

    // The session stays open: paying again with a good card succeeds.
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getCreditBalance() == 500);
  }

  @Test
  void aDeclinedSubscriptionLeavesTheUserFreeWithAFailedPayment() {
    String user = user();
    CreateCheckoutResponse co = client.createCheckout(subscription(user, "pro").build());
    HttpResponse<String> expired = server.pay(co.getUrl(), "4000000000000069", null);
    assertThat(expired.statusCode()).isEqualTo(402);
    assertThat(json(expired).get("decline_code").getAsString()).isEqualTo("expired_card");
    await()
        .atMost(WAIT)
        .until(
            () ->
                server.queryLong(
                        "SELECT COUNT(*) FROM payments WHERE user_id = ? AND status = 'failed' AND failure_code = 'expired_card'",
                        user)
                    == 1);
    var e = client.getEntitlement(user);
    assertThat(e.getTier()).isEqualTo("free");
    assertThat(e.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_NONE);
  }

  @Test
  void threeDSecureCardsAskForAuthenticationFirst() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(credits(user).setCreditPackage("credits_500").build());
    HttpResponse<String> challenge = server.pay(co.getUrl(), "4000002500003155", null);
    assertThat(challenge.statusCode()).isEqualTo(202);
    assertThat(json(challenge).get("status").getAsString()).isEqualTo("requires_action");
    assertThat(server.pay(co.getUrl(), "4000002500003155", "complete").statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getCreditBalance() == 500);
  }

  @Test
  void couponPlusPromotionCodesIsInvalid() {
    StatusRuntimeException e =
        GrpcErrors.statusOf(
            () ->
                client.createCheckout(
                    subscription(user(), "pro")
                        .setCoupon("FIRST20")
                        .setAllowPromotionCodes(true)
                        .build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(GrpcErrors.fieldViolations(e)).contains("coupon");
  }

  @Test
  void aForeignSuccessUrlIsInvalid() {
    StatusRuntimeException e =
        GrpcErrors.statusOf(
            () ->
                client.createCheckout(
                    subscription(user(), "pro")
                        .setSuccessUrl("https://evil.example/steal")
                        .build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(GrpcErrors.fieldViolations(e)).containsExactly("success_url");
    // Same host, different port: still foreign.
    StatusRuntimeException port =
        GrpcErrors.statusOf(
            () ->
                client.createCheckout(
                    subscription(user(), "pro").setCancelUrl("http://localhost:3001/x").build()));
    assertThat(GrpcErrors.fieldViolations(port)).containsExactly("cancel_url");
  }

  @Test
  void badRequestsAreInvalidArgumentsWithFieldDetails() {
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(
                    () -> client.createCheckout(subscription(user(), "free").build()))))
        .contains("plan");
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(
                    () -> client.createCheckout(subscription(user(), "platinum").build()))))
        .contains("plan");
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(
                    () ->
                        client.createCheckout(
                            subscription(user(), "pro").setTrialDays(-1).build()))))
        .contains("trial_days");
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(() -> client.createCheckout(credits(user()).build()))))
        .contains("credit_package");
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(
                    () ->
                        client.createCheckout(
                            credits(user())
                                .setAmount(Money.newBuilder().setAmountMinor(10).setCurrency("usd"))
                                .build()))))
        .contains("amount.amount_minor");
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(
                    () ->
                        client.createCheckout(
                            credits(user())
                                .setAmount(
                                    Money.newBuilder().setAmountMinor(5000).setCurrency("eur"))
                                .build()))))
        .contains("amount.currency");
    assertThat(
            GrpcErrors.fieldViolations(
                GrpcErrors.statusOf(
                    () ->
                        client.createCheckout(
                            CreateCheckoutRequest.newBuilder()
                                .setUserId(user())
                                .setIdempotencyKey("k")
                                .build()))))
        .contains("mode");
  }

  @Test
  void theSameIdempotencyKeyReturnsTheSameSession() {
    String user = user();
    CreateCheckoutRequest request = credits(user).setCreditPackage("credits_1000").build();
    CreateCheckoutResponse first = client.createCheckout(request);
    CreateCheckoutResponse second = client.createCheckout(request);
    assertThat(second.getSessionId()).isEqualTo(first.getSessionId());
    assertThat(second.getPaymentId()).isEqualTo(first.getPaymentId());
    assertThat(server.queryLong("SELECT COUNT(*) FROM payments WHERE user_id = ?", user))
        .isEqualTo(1);

    StatusRuntimeException reused =
        GrpcErrors.statusOf(
            () ->
                client.createCheckout(
                    request.toBuilder().setCreditPackage("credits_5000").build()));
    assertThat(reused.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
  }

  @Test
  void anExpiredSessionMarksThePaymentExpired() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(credits(user).setCreditPackage("credits_500").build());
    HttpResponse<String> expired =
        server.stripeApi("POST", "/v1/checkout/sessions/" + co.getSessionId() + "/expire", "");
    assertThat(expired.statusCode()).isEqualTo(200);
    await()
        .atMost(WAIT)
        .until(
            () ->
                "expired"
                    .equals(
                        server.queryString(
                            "SELECT status FROM payments WHERE id = ?", co.getPaymentId())));
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(409);
  }

  @Test
  void thePortalNeedsAStripeCustomer() {
    String user = user();
    StatusRuntimeException none =
        GrpcErrors.statusOf(
            () ->
                client
                    .stub()
                    .createPortalSession(
                        CreatePortalSessionRequest.newBuilder().setUserId(user).build()));
    assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);

    client.createCheckout(subscription(user, "pro").build());
    String url =
        client
            .stub()
            .createPortalSession(
                CreatePortalSessionRequest.newBuilder()
                    .setUserId(user)
                    .setReturnUrl("http://localhost:3000/account")
                    .build())
            .getUrl();
    assertThat(url).contains("/portal/bps_");
    assertThat(
            server
                .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build())
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void theCatalogIsPublic() {
    var plans = client.stub().listPlans(ListPlansRequest.getDefaultInstance()).getPlansList();
    assertThat(plans).extracting(p -> p.getName()).containsExactly("free", "pro", "studio");
    assertThat(plans.get(1).getLimitsMap()).containsEntry("monthly_limit", 100L);
    var packages =
        client
            .stub()
            .listCreditPackages(ListCreditPackagesRequest.getDefaultInstance())
            .getCreditPackagesList();
    assertThat(packages)
        .extracting(p -> p.getId())
        .containsExactly("credits_500", "credits_1000", "credits_5000");
  }

  @Test
  void theEmulatorListsEventsLikeStripe() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(credits(user).setCreditPackage("credits_500").build());
    server.pay(co.getUrl(), "4242424242424242", null);
    JsonObject list =
        json(server.stripeApi("GET", "/v1/events?type=checkout.session.completed&limit=3", null));
    assertThat(list.get("object").getAsString()).isEqualTo("list");
    assertThat(list.getAsJsonArray("data")).isNotEmpty();
    assertThat(list.getAsJsonArray("data").get(0).getAsJsonObject().get("type").getAsString())
        .isEqualTo("checkout.session.completed");
    assertThat(server.stripeApi("GET", "/v1/events", null).statusCode()).isEqualTo(200);
    assertThat(
            server
                .send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(server.emulator().apiBase() + "/v1/events"))
                        .build())
                .statusCode())
        .isEqualTo(401);
  }

  @Test
  void aCustomerThatNoLongerExistsAtStripeIsReplaced() {
    String user = user();
    // A webhook taught us a customer that this Stripe account does not have.
    server.postSigned(
        dev.billing.testing.StripeFixtures.subscriptionEvent(
            "evt_ghost_" + user,
            "customer.subscription.deleted",
            System.currentTimeMillis() / 1000,
            dev.billing.testing.StripeFixtures.Sub.of(
                "sub_ghost_" + user, "cus_ghost_" + user, user, "price_pro", "canceled")));
    assertThat(
            server.queryString("SELECT stripe_customer_id FROM customers WHERE user_id = ?", user))
        .isEqualTo("cus_ghost_" + user);
    CreateCheckoutResponse co =
        client.createCheckout(credits(user).setCreditPackage("credits_500").build());
    assertThat(co.getUrl()).contains("/checkout/cs_test_");
    assertThat(
            server.queryString("SELECT stripe_customer_id FROM customers WHERE user_id = ?", user))
        .startsWith("cus_")
        .isNotEqualTo("cus_ghost_" + user);
  }
}
