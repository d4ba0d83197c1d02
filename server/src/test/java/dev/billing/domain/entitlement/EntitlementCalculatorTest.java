package dev.billing.domain.entitlement;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.config.Catalog;
import dev.billing.domain.subscription.SubscriptionRow;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntitlementCalculatorTest {
  private static final long NOW = 1_800_000_000L;
  private final Catalog catalog = Catalog.defaults("price_pro", "price_studio");
  private final EntitlementCalculator calc = new EntitlementCalculator(catalog, Duration.ofDays(3));

  private static SubscriptionRow sub(
      String id, String plan, StripeStatus status, Long pastDueSince) {
    return new SubscriptionRow(
        id,
        "u1",
        "cus_1",
        status.stripeName(),
        "price_" + plan,
        plan,
        NOW + 86400,
        NOW + 3600,
        false,
        pastDueSince,
        NOW - 100,
        status.lifecycle(),
        "evt_1",
        false,
        0,
        0,
        false);
  }

  @Test
  void noSubscriptionsIsFree() {
    EntitlementDecision d = calc.decide(List.of(), NOW);
    assertThat(d.tier()).isEqualTo("free");
    assertThat(d.status()).isEqualTo(StripeStatus.NONE);
    assertThat(d.paymentProblem()).isFalse();
  }

  @Test
  void activeAndTrialingGrantThePlan() {
    assertThat(calc.decide(List.of(sub("sub_1", "pro", StripeStatus.ACTIVE, null)), NOW).tier())
        .isEqualTo("pro");
    EntitlementDecision trial =
        calc.decide(List.of(sub("sub_1", "studio", StripeStatus.TRIALING, null)), NOW);
    assertThat(trial.tier()).isEqualTo("studio");
    assertThat(trial.trialEnd()).isEqualTo(NOW + 3600);
  }

  @Test
  void pastDueKeepsTheTierDuringGraceThenLosesIt() {
    SubscriptionRow pastDue = sub("sub_1", "pro", StripeStatus.PAST_DUE, NOW - 86400);
    EntitlementDecision inGrace = calc.decide(List.of(pastDue), NOW);
    assertThat(inGrace.tier()).isEqualTo("pro");
    assertThat(inGrace.paymentProblem()).isTrue();

    EntitlementDecision after = calc.decide(List.of(pastDue), NOW + 3 * 86400);
    assertThat(after.tier()).isEqualTo("free");
    assertThat(after.status()).isEqualTo(StripeStatus.PAST_DUE);
    assertThat(after.paymentProblem()).isTrue();
  }

  @Test
  void everyOtherStatusIsFree() {
    for (StripeStatus s :
        List.of(
            StripeStatus.CANCELED,
            StripeStatus.UNPAID,
            StripeStatus.INCOMPLETE,
            StripeStatus.INCOMPLETE_EXPIRED,
            StripeStatus.PAUSED)) {
      assertThat(calc.decide(List.of(sub("sub_1", "studio", s, null)), NOW).tier())
          .as(s.name())
          .isEqualTo("free");
    }
  }

  @Test
  void highestTierWinsAcrossSubscriptions() {
    EntitlementDecision d =
        calc.decide(
            List.of(
                sub("sub_a", "pro", StripeStatus.ACTIVE, null),
                sub("sub_b", "studio", StripeStatus.ACTIVE, null),
                sub("sub_c", "studio", StripeStatus.CANCELED, null)),
            NOW);
    assertThat(d.tier()).isEqualTo("studio");
    assertThat(d.subscriptionId()).isEqualTo("sub_b");
  }

  @Test
  void aFailedInvoiceFlagsAPaymentProblemWithoutTakingTheTier() {
    SubscriptionRow active = sub("sub_1", "pro", StripeStatus.ACTIVE, null);
    SubscriptionRow failed =
        new SubscriptionRow(
            active.stripeSubscriptionId(),
            active.userId(),
            active.stripeCustomerId(),
            active.status(),
            active.priceId(),
            active.plan(),
            active.currentPeriodEnd(),
            active.trialEnd(),
            false,
            null,
            active.stateCreated(),
            active.stateRank(),
            "evt_2",
            true,
            NOW,
            1,
            false);
    EntitlementDecision d = calc.decide(List.of(failed), NOW);
    assertThat(d.tier()).isEqualTo("pro");
    assertThat(d.paymentProblem()).isTrue();
  }

  @Test
  void unknownPlanNameIsFree() {
    assertThat(calc.decide(List.of(sub("sub_1", "gold", StripeStatus.ACTIVE, null)), NOW).tier())
        .isEqualTo("free");
  }
}
