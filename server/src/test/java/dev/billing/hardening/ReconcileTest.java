package dev.billing.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.ReconcileDrift;
import dev.billing.proto.v1.ReconcileWithStripeRequest;
import dev.billing.proto.v1.ReconcileWithStripeResponse;
import dev.billing.testing.TestServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Events Stripe gave up delivering (the emulator drops them on purpose) are found and applied
 * exactly once by ReconcileWithStripe; a dry run reports without changing anything; a stored
 * subscription that drifted from Stripe's is reported and repaired.
 */
class ReconcileTest {
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

  private static ReconcileWithStripeResponse reconcile(boolean dryRun) {
    return client
        .stub()
        .reconcileWithStripe(ReconcileWithStripeRequest.newBuilder().setDryRun(dryRun).build());
  }

  @Test
  void missedEventsAreFoundAppliedOnceAndDriftIsRepaired() {
    String user = TestServer.uniqueUser("rec_");
    // Every event about this user is lost, from the customer's creation on.
    server.emulator().dropNextDeliveries(1_000);
    var co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
                .setPlan("pro")
                .setIdempotencyKey("rec-1")
                .build());
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    server.emulator().dropNextDeliveries(-1_000); // deliveries flow again (the pool above is spent)
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("free");
    assertThat(server.queryLong("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", user))
        .isZero();

    ReconcileWithStripeResponse dry = reconcile(true);
    assertThat(dry.getDryRun()).isTrue();
    assertThat(dry.getEventsIngested()).isZero();
    assertThat(dry.getDriftList())
        .filteredOn(d -> d.getObjectType().equals("event"))
        .isNotEmpty()
        .allMatch(d -> !d.getRepaired());
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("free");

    ReconcileWithStripeResponse run = reconcile(false);
    assertThat(run.getEventsIngested()).isPositive();
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("pro");
    long events = server.queryLong("SELECT COUNT(*) FROM stripe_events");

    // Nothing left to find: a second run changes nothing and stores nothing twice.
    ReconcileWithStripeResponse again = reconcile(false);
    assertThat(again.getEventsIngested()).isZero();
    assertThat(again.getDriftList()).isEmpty();
    assertThat(server.queryLong("SELECT COUNT(*) FROM stripe_events")).isEqualTo(events);

    // A stored subscription that differs from Stripe's is reported, then repaired.
    server.execute("UPDATE subscriptions SET status = 'past_due' WHERE user_id = ?", user);
    ReconcileWithStripeResponse drift = reconcile(false);
    assertThat(drift.getDriftList())
        .extracting(
            ReconcileDrift::getObjectType, ReconcileDrift::getUserId, ReconcileDrift::getRepaired)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("subscription", user, true));
    assertThat(drift.getDrift(0).getOurs()).startsWith("past_due");
    assertThat(drift.getDrift(0).getStripe()).startsWith("active");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                "active"
                    .equals(
                        server.queryString(
                            "SELECT status FROM subscriptions WHERE user_id = ?", user)));
    assertThat(server.metric("billing_reconcile_drift_repaired_total")).isPositive();
  }

  @Test
  void aPaidPurchaseWhoseEventsAreOutOfReachIsSettledOnceFromStripesPaymentIntents() {
    String user = TestServer.uniqueUser("recp_");
    var co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_CREDITS)
                .setCreditPackage("credits_1000")
                .setIdempotencyKey("recp-1")
                .build());
    server.emulator().dropNextDeliveries(1_000);
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    server.emulator().dropNextDeliveries(-1_000);
    assertThat(client.getEntitlement(user).getCreditBalance()).isZero();

    // Events older than `since` are not listed (as when they are past Stripe's 30 days): the
    // payment comparison finds the purchase Stripe says succeeded and settles it. `since` is the
    // second after the payment's events, once the clock has passed it.
    long paidAt = java.time.Instant.now().getEpochSecond();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> java.time.Instant.now().getEpochSecond() > paidAt);
    var sinceNow = com.google.protobuf.Timestamp.newBuilder().setSeconds(paidAt + 1).build();
    ReconcileWithStripeResponse dry =
        client
            .stub()
            .reconcileWithStripe(
                ReconcileWithStripeRequest.newBuilder().setSince(sinceNow).setDryRun(true).build());
    assertThat(dry.getDriftList())
        .extracting(
            ReconcileDrift::getObjectType, ReconcileDrift::getOurs, ReconcileDrift::getRepaired)
        .contains(org.assertj.core.groups.Tuple.tuple("payment", "pending", false));
    assertThat(client.getEntitlement(user).getCreditBalance()).isZero();

    ReconcileWithStripeResponse run =
        client
            .stub()
            .reconcileWithStripe(
                ReconcileWithStripeRequest.newBuilder().setSince(sinceNow).build());
    assertThat(run.getDriftList())
        .filteredOn(d -> d.getObjectType().equals("payment") && d.getUserId().equals(user))
        .singleElement()
        .extracting(ReconcileDrift::getRepaired)
        .isEqualTo(true);
    assertThat(client.getEntitlement(user).getCreditBalance()).isEqualTo(1000);

    // The missed events arriving after all (a full reconciliation) credit nothing twice.
    reconcile(false);
    assertThat(client.getEntitlement(user).getCreditBalance()).isEqualTo(1000);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM credit_ledger WHERE user_id = ? AND kind = 'purchase'", user))
        .isEqualTo(1);
  }
}
