package dev.billing.domain.subscription;

import static dev.billing.testing.GrpcErrors.fieldViolations;
import static dev.billing.testing.GrpcErrors.reasonOf;
import static dev.billing.testing.GrpcErrors.statusOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.billing.client.BillingClient;
import dev.billing.proto.v1.ChangePlanRequest;
import dev.billing.proto.v1.ChangePlanResponse;
import dev.billing.proto.v1.ChangeTiming;
import dev.billing.proto.v1.InvoiceLine;
import dev.billing.proto.v1.PreviewPlanChangeRequest;
import dev.billing.proto.v1.PreviewPlanChangeResponse;
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
 * Plan changes through BillingClient against the emulator: an upgrade now is prorated, charged to
 * the saved card and applied when Stripe's event arrives, for exactly what the preview said; a
 * declined card keeps the old plan (Stripe's pending update); bad requests say why.
 */
class PlanChangeTest {
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() {
    // Test clocks: each customer's time stands still, so a period's proration is exact.
    server = TestServer.start(TestDatabase.fresh(), Map.of("STRIPE_TEST_CLOCKS", "true"));
    client = server.client();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject stripe(String path) {
    var r = server.stripeApi("GET", path, null);
    assertThat(r.statusCode()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  @Test
  void anUpgradeNowIsProratedChargedAndAppliedForWhatThePreviewSaid() {
    String user = server.subscribedUser("pro", "pc_");
    PreviewPlanChangeResponse preview = client.previewPlanChange(user, "studio", true);
    // At the start of the period: a credit for all of pro's month, a charge for all of studio's.
    assertThat(preview.getLinesList()).hasSize(2).allMatch(InvoiceLine::getProration);
    assertThat(preview.getLinesList().stream().map(l -> l.getAmount().getAmountMinor()))
        .containsExactly(-1900L, 4900L);
    assertThat(preview.getLinesList().get(0).getDescription()).contains("Unused time on pro");
    assertThat(preview.getAmountDueNow().getAmountMinor()).isEqualTo(3000);
    assertThat(preview.getAmountDueNow().getCurrency()).isEqualTo("usd");
    assertThat(preview.getNextInvoiceAmount().getAmountMinor()).isEqualTo(4900);
    // Nothing changed.
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("pro");

    ChangePlanResponse changed = client.changePlan(user, "studio", "up-1");
    assertThat(changed.getReplayed()).isFalse();
    assertThat(changed.getAmountCharged()).isEqualTo(preview.getAmountDueNow());
    JsonObject invoice = stripe("/v1/invoices/" + changed.getInvoiceId());
    assertThat(invoice.get("status").getAsString()).isEqualTo("paid");
    assertThat(invoice.get("amount_paid").getAsLong()).isEqualTo(3000);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.getEntitlement(user).getTier().equals("studio"));

    ChangePlanResponse again = client.changePlan(user, "studio", "up-1");
    assertThat(again.getReplayed()).isTrue();
    assertThat(again.getInvoiceId()).isEqualTo(changed.getInvoiceId());
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action = 'plan.changed'",
                user))
        .isEqualTo(1);
  }

  @Test
  void aDeclinedCardKeepsTheOldPlanAndSaysWhy() {
    // Stripe's 4000 0000 0000 0341: attaches and pays the checkout, declines every later charge.
    String user = server.subscribedUser("pro", "pcd_", "4000000000000341");
    String subscription = client.getEntitlement(user).getSubscriptionId();
    var refused = statusOf(() -> client.changePlan(user, "studio", "up-d"));
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(reasonOf(refused)).isEqualTo("PAYMENT_FAILED");
    assertThat(refused.getStatus().getDescription()).contains("generic_decline").contains("pro");
    JsonObject sub = stripe("/v1/subscriptions/" + subscription);
    assertThat(sub.getAsJsonObject("pending_update").get("expires_at").getAsLong()).isPositive();
    assertThat(sub.toString()).contains("price_pro");
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("pro");
    // The key's first outcome is its outcome.
    assertThat(reasonOf(statusOf(() -> client.changePlan(user, "studio", "up-d"))))
        .isEqualTo("PAYMENT_FAILED");

    // The customer saves a good card and pays the open invoice: Stripe applies the update.
    var setup = client.createSetupIntent(user, "fix-card");
    assertThat(
            server
                .stripeApi(
                    "POST",
                    "/v1/setup_intents/" + setup.getSetupIntentId() + "/confirm",
                    "payment_method=pm_card_visa")
                .statusCode())
        .isEqualTo(200);
    client.setDefaultPaymentMethod(user, client.listPaymentMethods(user).get(0).getId());
    String invoice = sub.get("latest_invoice").getAsString();
    assertThat(server.stripeApi("POST", "/v1/invoices/" + invoice + "/pay", "").statusCode())
        .isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.getEntitlement(user).getTier().equals("studio"));
    assertThat(stripe("/v1/subscriptions/" + subscription).get("pending_update").isJsonNull())
        .isTrue();
  }

  @Test
  void aPendingUpdateNobodyPaysExpiresAfter23Hours() throws Exception {
    String user = server.subscribedUser("pro", "pcx_", "4000000000000341");
    String subscription = client.getEntitlement(user).getSubscriptionId();
    assertThat(reasonOf(statusOf(() -> client.changePlan(user, "studio", "up-x"))))
        .isEqualTo("PAYMENT_FAILED");
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 1);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> stripe("/v1/subscriptions/" + subscription).get("pending_update").isJsonNull());
    JsonObject sub = stripe("/v1/subscriptions/" + subscription);
    assertThat(
            stripe("/v1/invoices/" + sub.get("latest_invoice").getAsString())
                .get("status")
                .getAsString())
        .isEqualTo("void");
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("pro");
  }

  @Test
  void aChangeAtPeriodEndIsPreviewedAsTheNextInvoice() {
    String user = server.subscribedUser("studio", "pce_");
    PreviewPlanChangeResponse preview = client.previewPlanChange(user, "pro", false);
    assertThat(preview.getAmountDueNow().getAmountMinor()).isZero();
    assertThat(preview.getNextInvoiceAmount().getAmountMinor()).isEqualTo(1900);
    assertThat(preview.getEffectiveAt())
        .isEqualTo(client.getEntitlement(user).getCurrentPeriodEnd());
  }

  @Test
  void aDowngradeAtPeriodEndIsPendingUntilTheRenewalAppliesIt() throws Exception {
    String user = server.subscribedUser("studio", "pcp_");
    var before = client.getEntitlement(user);
    ChangePlanResponse scheduled = client.changePlanAtPeriodEnd(user, "pro", "down-1");
    assertThat(scheduled.getEffectiveAt()).isEqualTo(before.getCurrentPeriodEnd());
    assertThat(scheduled.getAmountCharged().getAmountMinor()).isZero();
    var pending = client.getEntitlement(user);
    assertThat(pending.getTier()).isEqualTo("studio");
    assertThat(pending.getPendingPlanChange().getPlan()).isEqualTo("pro");
    assertThat(pending.getPendingPlanChange().getEffectiveAt())
        .isEqualTo(before.getCurrentPeriodEnd());
    assertThat(client.changePlanAtPeriodEnd(user, "pro", "down-1").getReplayed()).isTrue();

    // The test clock passes the period end: Stripe's schedule moves the price at the renewal.
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 31);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              var renewed = client.getEntitlement(user);
              assertThat(renewed.getTier()).isEqualTo("pro");
              assertThat(renewed.hasPendingPlanChange()).isFalse();
            });
    JsonObject sub = stripe("/v1/subscriptions/" + before.getSubscriptionId());
    JsonObject invoice = stripe("/v1/invoices/" + sub.get("latest_invoice").getAsString());
    assertThat(invoice.get("amount_due").getAsLong()).isEqualTo(1900);
  }

  @Test
  void aPendingChangeCanBeWithdrawn() throws Exception {
    String user = server.subscribedUser("studio", "pcw_");
    client.changePlanAtPeriodEnd(user, "pro", "down-w");
    assertThat(client.getEntitlement(user).hasPendingPlanChange()).isTrue();
    var cancelled = client.cancelPendingPlanChange(user);
    assertThat(cancelled.getCancelled().getPlan()).isEqualTo("pro");
    assertThat(client.getEntitlement(user).hasPendingPlanChange()).isFalse();
    assertThat(reasonOf(statusOf(() -> client.cancelPendingPlanChange(user))))
        .isEqualTo("NO_PENDING_CHANGE");
    String subscription = client.getEntitlement(user).getSubscriptionId();
    assertThat(stripe("/v1/subscriptions/" + subscription).get("schedule").isJsonNull()).isTrue();
    // The renewal keeps studio.
    long periodEnd = client.getEntitlement(user).getCurrentPeriodEnd().getSeconds();
    AdvanceClockCommand.advance(server.emulator().apiBase(), "sk_test_x", user, 31);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.getEntitlement(user).getCurrentPeriodEnd().getSeconds() > periodEnd);
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("studio");
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action LIKE 'plan_change.%'",
                user))
        .isEqualTo(2);
  }

  @Test
  void badRequestsSayWhy() {
    String user = server.subscribedUser("pro", "pcb_");
    assertThat(fieldViolations(statusOf(() -> client.changePlan(user, "platinum", "b1"))))
        .contains("plan");
    assertThat(fieldViolations(statusOf(() -> client.changePlan(user, "free", "b2"))))
        .contains("plan");
    assertThat(reasonOf(statusOf(() -> client.changePlan(user, "pro", "b3"))))
        .isEqualTo("SAME_PLAN");
    assertThat(reasonOf(statusOf(() -> client.changePlan("never-paid", "pro", "b4"))))
        .isEqualTo("NO_SUBSCRIPTION");
    assertThat(reasonOf(statusOf(() -> client.previewPlanChange("never-paid", "pro", true))))
        .isEqualTo("NO_SUBSCRIPTION");
    assertThat(
            fieldViolations(
                statusOf(
                    () ->
                        client
                            .stub()
                            .previewPlanChange(
                                PreviewPlanChangeRequest.newBuilder()
                                    .setUserId(user)
                                    .setPlan("studio")
                                    .build()))))
        .contains("timing");
    assertThat(
            fieldViolations(
                statusOf(
                    () ->
                        client
                            .stub()
                            .changePlan(
                                ChangePlanRequest.newBuilder()
                                    .setUserId(user)
                                    .setPlan("studio")
                                    .setTiming(ChangeTiming.CHANGE_TIMING_NOW)
                                    .build()))))
        .contains("idempotency_key");
  }
}
