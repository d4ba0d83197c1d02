package dev.billing.domain.subscription;

import static dev.billing.testing.StripeFixtures.chargeObject;
import static dev.billing.testing.StripeFixtures.checkoutSessionObject;
import static dev.billing.testing.StripeFixtures.event;
import static dev.billing.testing.StripeFixtures.invoiceObject;
import static dev.billing.testing.StripeFixtures.subscriptionEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every lifecycle event type and its effect, with Stripe-shaped signed payloads on a real database.
 */
class SubscriptionLifecycleTest {
  private static final String V = "2026-07-29.dahlia";
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(TestDatabase.fresh(), Map.of("BILLING_PAST_DUE_GRACE", "2s"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String id(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 14);
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  private static void post(String payload) {
    assertThat(server.postSigned(payload).statusCode()).isEqualTo(200);
  }

  private static Entitlement entitlement(String user) {
    return server.server().entitlements().get(user).getEntitlement();
  }

  private static String kinds(String user) {
    return server.queryString(
        "SELECT GROUP_CONCAT(kind ORDER BY seq) FROM change_log WHERE user_id = ?", user);
  }

  @Test
  void aFailedInvoiceFlagsAPaymentProblemAndAPaidOneClearsIt() {
    String user = id("u_");
    Sub sub = Sub.of(id("sub_"), id("cus_"), user, "price_pro", "active");
    long t = now();
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t, sub));
    post(
        event(
            id("evt_"),
            "invoice.payment_failed",
            t + 1,
            invoiceObject(id("in_"), sub.id(), sub.customer(), user, 1900, false, null),
            V));
    Entitlement failed = entitlement(user);
    assertThat(failed.getTier()).isEqualTo("pro");
    assertThat(failed.getPaymentProblem()).isTrue();
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM payments WHERE user_id = ? AND status = 'failed'", user))
        .isEqualTo(1);

    post(
        subscriptionEvent(
            id("evt_"), "customer.subscription.updated", t + 1, sub.withStatus("past_due")));
    assertThat(entitlement(user).getStatus())
        .isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE);
    assertThat(entitlement(user).getTier()).isEqualTo("pro");

    post(
        event(
            id("evt_"),
            "invoice.paid",
            t + 2,
            invoiceObject(id("in_"), sub.id(), sub.customer(), user, 1900, true, null),
            V));
    post(subscriptionEvent(id("evt_"), "customer.subscription.updated", t + 2, sub));
    Entitlement recovered = entitlement(user);
    assertThat(recovered.getPaymentProblem()).isFalse();
    assertThat(recovered.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    assertThat(kinds(user))
        .isEqualTo(
            "CHANGE_KIND_SUBSCRIPTION_STARTED,CHANGE_KIND_PAYMENT_FAILED,CHANGE_KIND_SUBSCRIPTION_UPDATED,CHANGE_KIND_PAYMENT_RECOVERED");
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM payments WHERE user_id = ? AND status = 'succeeded' AND kind = 'subscription'",
                user))
        .isEqualTo(1);
  }

  @Test
  void anOlderFailedInvoiceArrivingLateDoesNotRaiseTheFlag() {
    String user = id("u_");
    Sub sub = Sub.of(id("sub_"), id("cus_"), user, "price_pro", "active");
    long t = now();
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t, sub));
    post(
        event(
            id("evt_"),
            "invoice.paid",
            t + 10,
            invoiceObject(id("in_"), sub.id(), sub.customer(), user, 1900, true, null),
            V));
    post(
        event(
            id("evt_"),
            "invoice.payment_failed",
            t + 5,
            invoiceObject(id("in_"), sub.id(), sub.customer(), user, 1900, false, null),
            V));
    assertThat(entitlement(user).getPaymentProblem()).isFalse();
  }

  @Test
  void pastDueKeepsTheTierForTheGracePeriodThenEndsIt() {
    String user = id("u_");
    Sub sub = Sub.of(id("sub_"), id("cus_"), user, "price_studio", "active");
    long t = now();
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t - 5, sub));
    post(
        subscriptionEvent(
            id("evt_"), "customer.subscription.updated", t, sub.withStatus("past_due")));
    assertThat(entitlement(user).getTier()).isEqualTo("studio");
    assertThat(entitlement(user).getPaymentProblem()).isTrue();
    // No event announces the end of the grace period (2 s here): the maintenance task does.
    await().atMost(Duration.ofSeconds(15)).until(() -> entitlement(user).getTier().equals("free"));
    assertThat(kinds(user)).endsWith("CHANGE_KIND_SUBSCRIPTION_ENDED");
  }

  @Test
  void planChangesAreUpgradesAndDowngradesAndPausedLosesAccess() {
    String user = id("u_");
    Sub sub = Sub.of(id("sub_"), id("cus_"), user, "price_pro", "active");
    long t = now();
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t, sub));
    post(
        subscriptionEvent(
            id("evt_"), "customer.subscription.updated", t + 1, sub.withPrice("price_studio")));
    assertThat(entitlement(user).getTier()).isEqualTo("studio");
    post(
        subscriptionEvent(
            id("evt_"),
            "customer.subscription.updated",
            t + 2,
            sub.withPrice("price_pro").withCancelAtPeriodEnd(true)));
    assertThat(entitlement(user).getTier()).isEqualTo("pro");
    assertThat(entitlement(user).getCancelAtPeriodEnd()).isTrue();
    post(
        subscriptionEvent(
            id("evt_"), "customer.subscription.paused", t + 3, sub.withStatus("paused")));
    assertThat(entitlement(user).getTier()).isEqualTo("free");
    assertThat(entitlement(user).getStatus())
        .isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_PAUSED);
    assertThat(kinds(user))
        .isEqualTo(
            "CHANGE_KIND_SUBSCRIPTION_STARTED,CHANGE_KIND_UPGRADED,CHANGE_KIND_DOWNGRADED,CHANGE_KIND_SUBSCRIPTION_ENDED");
  }

  @Test
  void theHighestTierWinsAcrossSubscriptions() {
    String user = id("u_");
    String customer = id("cus_");
    long t = now();
    Sub pro = Sub.of(id("sub_"), customer, user, "price_pro", "active");
    Sub studio =
        Sub.of(id("sub_"), customer, user, "price_studio", "trialing").withTrialEnd(t + 86400);
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t, pro));
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t, studio));
    assertThat(entitlement(user).getTier()).isEqualTo("studio");
    post(
        subscriptionEvent(
            id("evt_"), "customer.subscription.deleted", t + 1, studio.withStatus("canceled")));
    assertThat(entitlement(user).getTier()).isEqualTo("pro");
    assertThat(entitlement(user).getSubscriptionId()).isEqualTo(pro.id());
  }

  @Test
  void aCompletedSubscriptionCheckoutUpgradesEvenBeforeTheSubscriptionEvents() {
    String user = id("u_");
    String customer = id("cus_");
    String subId = id("sub_");
    long t = now();
    post(
        event(
            id("evt_"),
            "checkout.session.completed",
            t,
            checkoutSessionObject(
                id("cs_"), "subscription", customer, user, subId, null, 4900, "paid", "studio"),
            V));
    assertThat(entitlement(user).getTier()).isEqualTo("studio");
    assertThat(
            server.queryString(
                "SELECT user_id FROM customers WHERE stripe_customer_id = ?", customer))
        .isEqualTo(user);
    // The real subscription event (same second, any status) replaces the placeholder.
    Sub real = Sub.of(subId, customer, user, "price_studio", "trialing").withTrialEnd(t + 86400);
    post(subscriptionEvent(id("evt_"), "customer.subscription.created", t, real));
    assertThat(entitlement(user).getStatus())
        .isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);
    assertThat(entitlement(user).getTrialEnd().getSeconds()).isEqualTo(t + 86400);
  }

  @Test
  void refundsClawBackCreditsExactlyOnceIncludingPartialAndReorderedRefunds() {
    String user = id("u_");
    String payment = "pay_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    String intent = id("pi_");
    String charge = id("ch_");
    long t = now();
    String sessionId = id("cs_");
    server.pendingPurchase(payment, user, sessionId, 5000, 5000);
    var session =
        checkoutSessionObject(
            sessionId, "payment", id("cus_"), user, null, intent, 5000, "paid", null);
    session.getAsJsonObject("metadata").addProperty("payment_id", payment);
    session.getAsJsonObject("metadata").addProperty("credits", 5000);
    post(event(id("evt_"), "checkout.session.completed", t, session, V));
    assertThat(entitlement(user).getCreditBalance()).isEqualTo(5000);

    String partial2000 =
        event(id("evt_"), "charge.refunded", t + 2, chargeObject(charge, intent, 5000, 2000), V);
    String partial500 =
        event(id("evt_"), "charge.refunded", t + 1, chargeObject(charge, intent, 5000, 500), V);
    post(partial2000);
    post(partial500); // older, arrives late: already covered
    post(partial2000); // redelivery
    assertThat(entitlement(user).getCreditBalance()).isEqualTo(3000);
    assertThat(server.queryString("SELECT status FROM payments WHERE id = ?", payment))
        .isEqualTo("partially_refunded");

    server.server().credits().consume(user, 2500, "spend-1", null, Cause.api("test"));
    post(event(id("evt_"), "charge.refunded", t + 3, chargeObject(charge, intent, 5000, 5000), V));
    // 3000 more to claw back, but only 500 left: the balance stops at zero and the ledger says so.
    assertThat(entitlement(user).getCreditBalance()).isZero();
    assertThat(server.queryString("SELECT status FROM payments WHERE id = ?", payment))
        .isEqualTo("refunded");
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM credit_ledger WHERE user_id = ? AND kind = 'refund'", user))
        .isEqualTo(2);
    assertThat(server.queryLong("SELECT SUM(delta) FROM credit_ledger WHERE user_id = ?", user))
        .isZero();
  }

  @Test
  void everyChangeIsAuditedWithItsEvent() {
    String user = id("u_");
    Sub sub = Sub.of(id("sub_"), id("cus_"), user, "price_pro", "active");
    String evt = id("evt_");
    post(subscriptionEvent(evt, "customer.subscription.created", now(), sub));
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND stripe_event_id = ?",
                user,
                evt))
        .isEqualTo(2);
    assertThat(
            server.queryString(
                "SELECT new_value FROM audit_log WHERE user_id = ? AND entity_type = 'entitlement'",
                user))
        .contains("tier=pro");
    // The audit row links to the raw event stored in the inbox.
    assertThat(server.queryLong("SELECT COUNT(*) FROM stripe_events WHERE id = ?", evt))
        .isEqualTo(1);
  }
}
