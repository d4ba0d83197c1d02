package dev.billing.subscription;

import dev.billing.audit.AuditLog;
import dev.billing.audit.Cause;
import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.customer.CustomerMapper;
import dev.billing.db.UnitOfWork;
import dev.billing.entitlement.EntitlementRow;
import dev.billing.entitlement.EntitlementService;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies Stripe subscription snapshots. Stripe does not deliver events in order and stamps many of
 * them with the same second, so a snapshot replaces the stored one only if it is newer: a later
 * event {@code created}, or the same second and a later lifecycle stage. A canceled subscription
 * never comes back.
 */
public final class SubscriptionService {
  private static final Logger log = LoggerFactory.getLogger(SubscriptionService.class);

  private final Catalog catalog;
  private final EntitlementService entitlements;
  private final AuditLog audit;

  public SubscriptionService(Catalog catalog, EntitlementService entitlements, AuditLog audit) {
    this.catalog = catalog;
    this.entitlements = entitlements;
    this.audit = audit;
  }

  /**
   * Stores a subscription as of a Stripe event and recomputes its user's entitlement, inside the
   * caller's transaction.
   *
   * @param deleted true for customer.subscription.deleted (the subscription is over, whatever the
   *     payload's status says)
   */
  public void apply(
      UnitOfWork uow, SubscriptionSnapshot snap, long eventCreated, boolean deleted, Cause cause) {
    if (snap.id() == null) {
      throw new IllegalArgumentException("subscription object without an id");
    }
    CustomerMapper customers = uow.mapper(CustomerMapper.class);
    String userId = snap.metadataUserId();
    if (userId == null && snap.customerId() != null) {
      userId = customers.findUserByCustomer(snap.customerId());
    }
    SubscriptionMapper subscriptions = uow.mapper(SubscriptionMapper.class);
    EntitlementRow locked = null;
    if (userId != null) {
      // Lock order: the user first, then the subscription (see EntitlementService.lock).
      locked = entitlements.lock(uow, userId);
      if (snap.customerId() != null) {
        customers.insertIfAbsent(userId, snap.customerId());
      }
    }
    SubscriptionRow existing = subscriptions.findForUpdate(snap.id());
    if (userId == null && existing != null && existing.userId() != null) {
      userId = existing.userId();
      // Take the locks in the usual order: release nothing, just lock the user now.
      locked = entitlements.lock(uow, userId);
    }

    StripeStatus status = deleted ? StripeStatus.CANCELED : StripeStatus.fromStripe(snap.status());
    if (status == null) {
      log.warn(
          "subscription {} has unknown status '{}'; treating it as no access",
          snap.id(),
          snap.status());
      status = StripeStatus.NONE;
    }
    if (existing != null && !supersedes(eventCreated, status, existing)) {
      log.debug(
          "ignoring stale snapshot of {} (event created {}, stored {})",
          snap.id(),
          eventCreated,
          existing.stateCreated());
      return;
    }
    Plan plan =
        catalog
            .planForPrice(snap.priceId())
            .orElseGet(
                () -> {
                  log.warn(
                      "subscription {} has price {} which is not in the catalog; treating it as free",
                      snap.id(),
                      snap.priceId());
                  return catalog.free();
                });
    Long pastDueSince = null;
    if (status == StripeStatus.PAST_DUE) {
      pastDueSince =
          existing != null && existing.pastDueSince() != null
              ? existing.pastDueSince()
              : eventCreated;
    }
    SubscriptionRow row =
        new SubscriptionRow(
            snap.id(),
            userId,
            snap.customerId() != null
                ? snap.customerId()
                : existing != null ? existing.stripeCustomerId() : null,
            status.stripeName(),
            snap.priceId(),
            plan.name(),
            snap.currentPeriodEnd(),
            snap.trialEnd(),
            snap.cancelAtPeriodEnd() && !deleted,
            pastDueSince,
            eventCreated,
            status.lifecycle(),
            cause.stripeEventId());
    subscriptions.upsert(row);
    String before = existing == null ? null : describe(existing);
    String after = describe(row);
    if (!Objects.equals(before, after)) {
      audit.record(
          uow, userId, cause, "subscription", snap.id(), "subscription.updated", before, after);
    }
    if (userId == null) {
      log.warn(
          "subscription {} (customer {}) has no user: no metadata.user_id and no known customer;"
              + " stored, entitlement unchanged",
          snap.id(),
          snap.customerId());
      return;
    }
    entitlements.recompute(uow, locked, subscriptions.findByUser(userId), cause);
  }

  static boolean supersedes(long eventCreated, StripeStatus status, SubscriptionRow stored) {
    StripeStatus storedStatus = stored.stripeStatus();
    if (storedStatus.isTerminal() && !status.isTerminal()) {
      return false;
    }
    if (eventCreated != stored.stateCreated()) {
      return eventCreated > stored.stateCreated();
    }
    return status.lifecycle() >= stored.stateRank();
  }

  private static String describe(SubscriptionRow r) {
    return "status="
        + r.status()
        + " plan="
        + r.plan()
        + " price="
        + r.priceId()
        + " period_end="
        + r.currentPeriodEnd()
        + " trial_end="
        + r.trialEnd()
        + " cancel_at_period_end="
        + r.cancelAtPeriodEnd();
  }
}
