package dev.billing.domain.entitlement;

import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * The entitlement rules, as pure functions: active and trialing grant the plan's tier; past_due
 * keeps it during the grace period, flagged; every other status is free. With several subscriptions
 * the highest tier wins.
 */
public final class EntitlementCalculator {
  private final Catalog catalog;
  private final Duration pastDueGrace;

  public EntitlementCalculator(Catalog catalog, Duration pastDueGrace) {
    this.catalog = catalog;
    this.pastDueGrace = pastDueGrace;
  }

  public boolean grantsAccess(SubscriptionState s, long nowEpochSeconds) {
    StripeStatus status = s.stripeStatus();
    if (status.grantsAccess()) {
      return true;
    }
    return status == StripeStatus.PAST_DUE
        && s.pastDueSince() != null
        && nowEpochSeconds < s.pastDueSince() + pastDueGrace.toSeconds();
  }

  public EntitlementDecision decide(
      List<? extends SubscriptionState> subscriptions, long nowEpochSeconds) {
    boolean paymentProblem = subscriptions.stream().anyMatch(SubscriptionState::hasPaymentProblem);
    SubscriptionState best =
        subscriptions.stream()
            .filter(s -> grantsAccess(s, nowEpochSeconds))
            .max(
                Comparator.comparingInt(
                        (SubscriptionState s) -> catalog.planOrFree(s.plan()).rank())
                    .thenComparing(s -> s.currentPeriodEnd() == null ? 0L : s.currentPeriodEnd()))
            .orElse(null);
    if (best != null) {
      Plan plan = catalog.planOrFree(best.plan());
      return new EntitlementDecision(
          plan.name(),
          best.stripeStatus(),
          best.stripeSubscriptionId(),
          best.currentPeriodEnd(),
          best.stripeStatus() == StripeStatus.TRIALING ? best.trialEnd() : null,
          best.cancelAtPeriodEnd(),
          paymentProblem);
    }
    // No access: report the most recent subscription's status so the user sees why.
    StripeStatus status =
        subscriptions.stream()
            .max(Comparator.comparingLong(SubscriptionState::stateCreated))
            .map(SubscriptionState::stripeStatus)
            .orElse(StripeStatus.NONE);
    return new EntitlementDecision(Catalog.FREE, status, null, null, null, false, paymentProblem);
  }
}
