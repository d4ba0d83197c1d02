package dev.billing.webhook;

import dev.billing.audit.Cause;
import dev.billing.db.UnitOfWork;
import dev.billing.subscription.SubscriptionService;
import dev.billing.subscription.SubscriptionSnapshot;

/**
 * Applies one event's effects inside the inbox transaction. Types without a handler are stored and
 * acknowledged, with no effect.
 */
public final class EventApplier {
  private final SubscriptionService subscriptions;

  public EventApplier(SubscriptionService subscriptions) {
    this.subscriptions = subscriptions;
  }

  public void apply(UnitOfWork uow, StripeEvent event) {
    Cause cause = Cause.stripe(event.id());
    switch (event.type()) {
      case "customer.subscription.created",
          "customer.subscription.updated",
          "customer.subscription.paused",
          "customer.subscription.resumed",
          "customer.subscription.trial_will_end" ->
          subscriptions.apply(
              uow, SubscriptionSnapshot.fromJson(event.object()), event.created(), false, cause);
      case "customer.subscription.deleted" ->
          subscriptions.apply(
              uow, SubscriptionSnapshot.fromJson(event.object()), event.created(), true, cause);
      default -> {
        // Stored for the record; nothing to change.
      }
    }
  }
}
