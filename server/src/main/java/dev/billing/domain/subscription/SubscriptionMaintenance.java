package dev.billing.domain.subscription;

import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import dev.billing.util.PeriodicTask;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background work on subscriptions, off the webhook path, safe on every replica at once (each step
 * is an idempotent transaction under the user's lock):
 *
 * <ul>
 *   <li>ends the grace period of past_due subscriptions (no event announces it);
 *   <li>settles snapshots that tied with the stored one by reading the subscription from Stripe;
 *   <li>confirms placeholders (a subscription known only from its checkout) that no subscription
 *       event followed: Stripe's copy replaces them, and one Stripe does not have ends.
 * </ul>
 */
public final class SubscriptionMaintenance implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SubscriptionMaintenance.class);
  private static final Cause CAUSE = Cause.api("billing-maintenance");

  private final Transactions tx;
  private final SubscriptionService subscriptions;
  private final StripeGateway stripe;
  private final Duration grace;
  private final Duration confirmAfter;
  private final Clock clock;
  private PeriodicTask task;

  public SubscriptionMaintenance(
      Transactions tx,
      SubscriptionService subscriptions,
      StripeGateway stripe,
      Duration grace,
      Duration confirmAfter,
      Clock clock) {
    this.confirmAfter = confirmAfter;
    this.tx = tx;
    this.subscriptions = subscriptions;
    this.stripe = stripe;
    this.grace = grace;
    this.clock = clock;
  }

  public void start(Duration every) {
    task =
        PeriodicTask.every(
            every,
            "subscription-maintenance",
            () -> {
              endExpiredGracePeriods();
              refreshTies();
              confirmPlaceholders();
            });
  }

  /** Recomputes users whose past_due grace period is over; returns how many. */
  public int endExpiredGracePeriods() {
    long cutoff = clock.instant().getEpochSecond() - grace.toSeconds();
    List<String> users =
        tx.read(s -> s.store(SubscriptionStore.class).findUsersWithExpiredGrace(cutoff, 100));
    for (String user : users) {
      tx.execute(
          uow -> {
            subscriptions.reevaluate(uow, user, CAUSE);
            return null;
          });
    }
    return users.size();
  }

  /** Reads tied subscriptions from Stripe and stores what Stripe says; returns how many. */
  public int refreshTies() {
    List<String> ids = tx.read(s -> s.store(SubscriptionStore.class).findNeedingRefresh(20));
    int done = 0;
    for (String id : ids) {
      try {
        SubscriptionSnapshot snap = stripe.retrieveSubscription(id);
        long now = clock.instant().getEpochSecond();
        tx.execute(
            uow -> {
              subscriptions.apply(uow, snap, now, "canceled".equals(snap.status()), true, CAUSE);
              return null;
            });
        done++;
      } catch (BillingException.NotFound | BillingException.InvalidArgument e) {
        log.warn(
            "subscription {} cannot be read from Stripe ({}); keeping the stored state",
            id,
            e.getMessage());
        tx.execute(
            uow -> {
              uow.store(SubscriptionStore.class).setNeedsRefresh(id, false);
              return null;
            });
      }
    }
    return done;
  }

  /**
   * Reads from Stripe the placeholders no subscription event has followed within {@code
   * confirmAfter}: Stripe's copy replaces a placeholder; one Stripe does not know ends
   * (incomplete_expired), so a lost or forged checkout does not grant a tier forever. Returns how
   * many were settled.
   */
  public int confirmPlaceholders() {
    List<SubscriptionRow> waiting =
        tx.read(
            s ->
                s.store(SubscriptionStore.class)
                    .findUnconfirmedPlaceholders(confirmAfter.toSeconds(), 20));
    int done = 0;
    for (SubscriptionRow row : waiting) {
      SubscriptionSnapshot snap;
      try {
        snap = stripe.retrieveSubscription(row.stripeSubscriptionId());
      } catch (BillingException.NotFound | BillingException.InvalidArgument e) {
        log.warn(
            "subscription {} of user {} is known only from its checkout and Stripe does not have"
                + " it ({}); ending it",
            row.stripeSubscriptionId(),
            row.userId(),
            e.getMessage());
        snap =
            new SubscriptionSnapshot(
                row.stripeSubscriptionId(),
                row.stripeCustomerId(),
                "incomplete_expired",
                row.priceId(),
                null,
                null,
                false,
                row.userId());
      }
      SubscriptionSnapshot settled = snap;
      long now = clock.instant().getEpochSecond();
      tx.execute(
          uow -> {
            subscriptions.apply(
                uow, settled, now, "canceled".equals(settled.status()), true, CAUSE);
            return null;
          });
      done++;
    }
    return done;
  }

  @Override
  public void close() {
    if (task != null) {
      task.close();
    }
  }
}
