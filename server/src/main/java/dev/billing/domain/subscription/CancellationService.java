package dev.billing.domain.subscription;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import java.util.List;

/** Cancels subscriptions through Stripe; the resulting state arrives, as always, by webhook. */
public final class CancellationService {
  private final Transactions tx;
  private final StripeGateway stripe;
  private final AuditLog audit;

  private final EntitlementService entitlements;

  public CancellationService(
      Transactions tx, StripeGateway stripe, AuditLog audit, EntitlementService entitlements) {
    this.entitlements = entitlements;
    this.tx = tx;
    this.stripe = stripe;
    this.audit = audit;
  }

  /**
   * Cancels {@code subscriptionId}, or (when null) the subscription that decides the user's tier.
   * Returns the id of the subscription Stripe was asked to cancel.
   */
  public String cancel(
      String userId,
      String subscriptionId,
      boolean atPeriodEnd,
      String idempotencyKey,
      Cause cause) {
    List<SubscriptionRow> mine = tx.read(s -> s.store(SubscriptionStore.class).findByUser(userId));
    String target = subscriptionId;
    if (target == null) {
      target = entitlements.find(userId).subscriptionId();
      if (target == null) {
        target =
            mine.stream()
                .filter(
                    s ->
                        !s.stripeStatus().isTerminal()
                            && s.stateRank() != SubscriptionRow.PLACEHOLDER_RANK)
                .map(SubscriptionRow::stripeSubscriptionId)
                .findFirst()
                .orElse(null);
      }
    }
    String chosen = target;
    SubscriptionRow row =
        mine.stream().filter(s -> s.stripeSubscriptionId().equals(chosen)).findFirst().orElse(null);
    if (row == null) {
      throw new BillingException.NotFound(
          "SUBSCRIPTION_NOT_FOUND",
          subscriptionId == null
              ? "user " + userId + " has no subscription"
              : "user " + userId + " has no subscription " + subscriptionId);
    }
    // The key's first outcome is its outcome: a retry after the cancellation took effect answers
    // the same subscription, not ALREADY_CANCELED.
    return Idempotency.once(
        tx,
        "subscription.cancel",
        userId,
        idempotencyKey,
        Idempotency.fingerprint(subscriptionId, atPeriodEnd),
        () -> {
          if (row.stripeStatus().isTerminal()) {
            throw new BillingException.FailedPrecondition(
                "ALREADY_CANCELED", "subscription " + chosen + " is already " + row.status());
          }
          stripe.cancelSubscription(chosen, atPeriodEnd, "cancel:" + chosen + ":" + idempotencyKey);
          return chosen;
        },
        (uow, id) ->
            audit.record(
                uow,
                userId,
                cause,
                "subscription",
                chosen,
                "subscription.cancel_requested",
                row.status(),
                atPeriodEnd ? "cancel_at_period_end" : "cancel_now"));
  }
}
