package dev.billing.domain.subscription;

import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.StripeCommand.InvoiceSettled;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.StripeStatus;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.UnitOfWork;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies Stripe subscription and invoice state. Stripe does not deliver events in order and stamps
 * many of them with the same second, so a snapshot replaces the stored one only if it is newer: a
 * later event {@code created}; in the same second a later lifecycle stage; then a later period end.
 * A canceled subscription never comes back. Two snapshots that still tie but differ are settled by
 * re-reading the subscription from Stripe off the webhook path ({@code needs_refresh}).
 *
 * <p>All methods run inside the caller's transaction and lock the user first (see {@link
 * EntitlementService#lock}).
 */
public final class SubscriptionService {
  private static final Logger log = LoggerFactory.getLogger(SubscriptionService.class);
  private static final int INVOICE_FAILED_RANK = 1;
  private static final int INVOICE_PAID_RANK = 2;

  private final Catalog catalog;
  private final EntitlementService entitlements;
  private final AuditLog audit;
  private final CustomerService customers;

  public SubscriptionService(
      Catalog catalog, EntitlementService entitlements, AuditLog audit, CustomerService customers) {
    this.customers = customers;
    this.catalog = catalog;
    this.entitlements = entitlements;
    this.audit = audit;
  }

  /**
   * Stores a subscription as of a Stripe event (or as just read from Stripe) and recomputes its
   * user's entitlement.
   *
   * @param deleted true for customer.subscription.deleted (over, whatever the payload's status)
   * @param authoritative true for a snapshot read from Stripe: it settles ties instead of raising
   *     one
   */
  public void apply(
      UnitOfWork uow,
      SubscriptionSnapshot snap,
      long eventCreated,
      boolean deleted,
      boolean authoritative,
      Cause cause) {
    if (snap.id() == null) {
      throw new IllegalArgumentException("subscription object without an id");
    }
    Locked locked = lockFor(uow, snap.metadataUserId(), snap.customerId(), snap.id());
    SubscriptionRow existing = locked.subscription();
    String userId = locked.userId();

    StripeStatus status = deleted ? StripeStatus.CANCELED : StripeStatus.fromStripe(snap.status());
    if (status == null) {
      log.warn(
          "subscription {} has unknown status '{}'; treating it as no access",
          snap.id(),
          snap.status());
      status = StripeStatus.NONE;
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
            cause.stripeEventId(),
            existing != null && existing.invoiceFailed(),
            existing == null ? 0 : existing.invoiceStateCreated(),
            existing == null ? 0 : existing.invoiceStateRank(),
            false);
    if (existing != null && !authoritative) {
      Order order = compare(row, existing);
      if (order == Order.OLDER) {
        log.debug(
            "ignoring stale snapshot of {} (event {}, stored {})",
            snap.id(),
            eventCreated,
            existing.stateCreated());
        return;
      }
      if (order == Order.TIE) {
        log.info("snapshot of {} ties with the stored one; re-reading it from Stripe", snap.id());
        store(uow).setNeedsRefresh(snap.id(), true);
        forget(uow, snap.id(), null);
        return;
      }
    }
    upsert(uow, existing, row);
    String before = existing == null ? null : describe(existing);
    String after = describe(row);
    if (!Objects.equals(before, after)) {
      audit.record(
          uow, userId, cause, "subscription", snap.id(), "subscription.updated", before, after);
    }
    recompute(uow, locked, snap.id(), snap.customerId(), cause);
  }

  /** A user's stored subscriptions. */
  public List<SubscriptionRow> ofUser(UnitOfWork uow, String userId) {
    return store(uow).findByUser(userId);
  }

  /**
   * checkout.session.completed for a subscription: remembers the subscription as a placeholder
   * (active, or trialing when nothing was paid) so the user is upgraded even if the subscription
   * events are late or lost. Any real subscription snapshot replaces the placeholder.
   */
  public void applyCheckout(UnitOfWork uow, CheckoutCompleted session, Cause cause) {
    String subscriptionId = session.subscriptionId();
    if (subscriptionId == null) {
      return;
    }
    String userId = session.userId();
    String customer = session.customerId();
    Locked locked = lockFor(uow, userId, customer, subscriptionId);
    if (locked.subscription() != null || locked.userId() == null) {
      return;
    }
    Plan plan = catalog.plan(String.valueOf(session.planName())).orElse(catalog.free());
    String status =
        "no_payment_required".equals(session.paymentStatus())
            ? StripeStatus.TRIALING.stripeName()
            : StripeStatus.ACTIVE.stripeName();
    SubscriptionRow placeholder =
        SubscriptionRow.placeholder(
            subscriptionId,
            locked.userId(),
            customer,
            status,
            plan.priceId(),
            plan.name(),
            cause.stripeEventId());
    if (insertPlaceholder(uow, placeholder)) {
      audit.record(
          uow,
          locked.userId(),
          cause,
          "subscription",
          subscriptionId,
          "subscription.checkout_completed",
          null,
          describe(placeholder));
      recompute(uow, locked, subscriptionId, customer, cause);
    }
  }

  /**
   * invoice.paid / invoice.payment_failed: a failed invoice flags a payment problem (the stream
   * announces it) until a later invoice is paid. Ordered by event time like snapshots.
   */
  public void applyInvoice(UnitOfWork uow, InvoiceSettled invoice, long eventCreated, Cause cause) {
    boolean paid = invoice.paid();
    String subscriptionId = invoice.subscriptionId();
    if (subscriptionId == null) {
      return; // a one-off invoice: nothing to do with entitlements
    }
    String userId = invoice.subscriptionUserId();
    String customer = invoice.customerId();
    Locked locked = lockFor(uow, userId, customer, subscriptionId);
    SubscriptionRow existing = locked.subscription();
    if (existing == null) {
      // The invoice came before any subscription event: keep its outcome on a placeholder.
      insertPlaceholder(
          uow,
          SubscriptionRow.placeholder(
              subscriptionId,
              locked.userId(),
              customer,
              StripeStatus.INCOMPLETE.stripeName(),
              null,
              Catalog.FREE,
              cause.stripeEventId()));
      existing = lockedSubscription(uow, subscriptionId);
    }
    int rank = paid ? INVOICE_PAID_RANK : INVOICE_FAILED_RANK;
    boolean newer =
        eventCreated > existing.invoiceStateCreated()
            || (eventCreated == existing.invoiceStateCreated()
                && rank >= existing.invoiceStateRank());
    if (!newer) {
      return;
    }
    // Held back like the upserts: it goes with the commit, after them (a held placeholder or
    // upsert of this subscription is written first), or before any other statement on the table.
    prefetched(uow)
        .invoiceStates
        .put(subscriptionId, new InvoiceState(subscriptionId, !paid, eventCreated, rank));
    // The stored row is now exactly this: the user's subscriptions need no second read.
    remember(uow, existing, existing.withInvoiceState(!paid, eventCreated, rank));
    if (existing.invoiceFailed() != !paid) {
      audit.record(
          uow,
          locked.userId(),
          cause,
          "subscription",
          subscriptionId,
          paid ? "invoice.paid" : "invoice.payment_failed",
          "invoice_failed=" + existing.invoiceFailed(),
          "invoice_failed=" + !paid);
    }
    recompute(uow, locked, subscriptionId, customer, cause);
  }

  /**
   * Re-evaluates a user's entitlement now (for time-based changes such as a grace period ending).
   */
  public void reevaluate(UnitOfWork uow, String userId, Cause cause) {
    EntitlementRow row = entitlements.lock(uow, userId);
    entitlements.recompute(uow, row, subscriptionsOf(uow, userId), cause);
  }

  private void recompute(
      UnitOfWork uow, Locked locked, String subscriptionId, String customer, Cause cause) {
    if (locked.userId() == null) {
      log.warn(
          "subscription {} (customer {}) has no user: no metadata.user_id and no known customer;"
              + " stored, entitlement unchanged",
          subscriptionId,
          customer);
      return;
    }
    entitlements.recompute(uow, locked.entitlement(), subscriptionsOf(uow, locked.userId()), cause);
  }

  /** The user (locked), their entitlement row, and the subscription row (locked, may be null). */
  private record Locked(String userId, EntitlementRow entitlement, SubscriptionRow subscription) {}

  /**
   * Finds the subscription's user (metadata, else the customer mapping, else the stored row) and
   * takes the locks in the usual order: the user, then the subscription.
   */
  private Locked lockFor(
      UnitOfWork uow, String metadataUserId, String customerId, String subscriptionId) {
    Prefetched prefetched = prefetched(uow);
    String userId = metadataUserId;
    if (userId == null && customerId != null) {
      userId = customers.userOf(uow, customerId);
    }
    EntitlementRow entitlement = null;
    if (userId != null) {
      entitlement = entitlements.lock(uow, userId);
      customers.remember(uow, userId, customerId);
    }
    SubscriptionRow existing = lockedSubscription(uow, subscriptionId);
    if (userId == null && existing != null && existing.userId() != null) {
      userId = existing.userId();
      entitlement = entitlements.lock(uow, userId);
    }
    return new Locked(userId, entitlement, existing);
  }

  /**
   * Locks, up front and in one round trip (the statements recorded in {@code reads}), what a group
   * of events for these users will touch: their entitlement rows (in key order), all their
   * subscriptions and the named subscriptions (noting those that do not exist yet), and whether
   * each user has a Stripe customer. The events' own statements then find these in the transaction
   * instead of reading them one by one. Run what it returns once the batch has been sent.
   */
  public Runnable prefetch(
      UnitOfWork uow,
      ReadBatch reads,
      Collection<String> userIds,
      Collection<String> subscriptionIds) {
    Prefetched p = prefetched(uow);
    List<String> users =
        userIds.stream()
            .filter(u -> u != null && !p.byUser.containsKey(u))
            .distinct()
            .sorted()
            .toList();
    List<String> ids =
        subscriptionIds.stream()
            .filter(id -> id != null && !p.byId.containsKey(id) && !p.absent.contains(id))
            .distinct()
            .sorted()
            .toList();
    if (users.isEmpty() && ids.isEmpty()) {
      return () -> {};
    }
    // The lock order: users, then subscriptions.
    Runnable locked =
        users.isEmpty()
            ? () -> {}
            : entitlements.lockAll(uow, reads, users, (u, c) -> customers.known(uow, u, c));
    Supplier<List<SubscriptionRow>> rows =
        reads.rows(SubscriptionStore.class, s -> s.lockByUsersOrIds(users, ids));
    return () -> {
      locked.run();
      users.forEach(u -> p.byUser.put(u, new TreeMap<>()));
      Set<String> missing = new HashSet<>(ids);
      for (SubscriptionRow r : rows.get()) {
        TreeMap<String, SubscriptionRow> list =
            r.userId() == null ? null : p.byUser.get(r.userId());
        if (list != null) {
          list.put(r.stripeSubscriptionId(), r);
        }
        p.byId.put(r.stripeSubscriptionId(), r);
        missing.remove(r.stripeSubscriptionId());
      }
      p.absent.addAll(missing);
    };
  }

  /**
   * The subscriptions of prefetched users as they stand in this transaction; every write here
   * updates or drops the affected entries, so a read never sees a stale row.
   */
  private static final class Prefetched {
    /** Locked subscriptions (those of the users in {@link #byUser}, and others named), by id. */
    final Map<String, SubscriptionRow> byId = new HashMap<>();

    /** Subscriptions known not to be stored (yet): no statement is needed to find that out. */
    final Set<String> absent = new HashSet<>();

    /** Complete subscription lists (sorted by id), for prefetched users. */
    final Map<String, TreeMap<String, SubscriptionRow>> byUser = new HashMap<>();

    /**
     * Placeholders held back to be inserted together: subscriptions the prefetch found absent, of
     * prefetched users. Should one exist by the time they are written (stored meanwhile by an event
     * that did not name its user, so took no user lock), the write fails and the group is redone
     * one event at a time, where each placeholder is inserted at once.
     */
    final HeldWrites<SubscriptionRow> placeholders;

    /** Upserts held back to be written together (rows of prefetched users only). */
    final HeldWrites<SubscriptionRow> unwritten;

    /**
     * Invoice outcomes held back, by subscription: registered last, so written after the rows above
     * (an update of a row not inserted yet would change nothing).
     */
    final HeldWrites<InvoiceState> invoiceStates;

    Prefetched(UnitOfWork uow) {
      // Registered first, so written first: an upsert of the same subscription replaces the held
      // placeholder anyway (see upsert). Each must add its row: one stored meanwhile fails the
      // statement (see insertNewPlaceholder).
      placeholders =
          HeldWrites.rows(uow, SubscriptionStore.class, SubscriptionStore::insertNewPlaceholder);
      unwritten = HeldWrites.rows(uow, SubscriptionStore.class, SubscriptionStore::upsert);
      invoiceStates =
          HeldWrites.rows(uow, SubscriptionStore.class, (store, state) -> state.write(store));
    }
  }

  /** A subscription's invoice outcome, to be written. */
  private record InvoiceState(String id, boolean failed, long created, int rank) {
    void write(SubscriptionStore store) {
      store.updateInvoiceState(id, failed, created, rank);
    }
  }

  private static Prefetched prefetched(UnitOfWork uow) {
    return uow.attachment(Prefetched.class, () -> new Prefetched(uow));
  }

  private static SubscriptionStore store(UnitOfWork uow) {
    return uow.store(SubscriptionStore.class);
  }

  /**
   * Stores a subscription's new state. A row of a prefetched user (whose subscriptions this
   * transaction holds) is written with the group's other rows when the transaction flushes.
   */
  private static void upsert(UnitOfWork uow, SubscriptionRow previous, SubscriptionRow row) {
    Prefetched p = prefetched(uow);
    boolean sameUser = previous == null || Objects.equals(previous.userId(), row.userId());
    if (sameUser && row.userId() != null && p.byUser.containsKey(row.userId())) {
      p.placeholders.remove(row.stripeSubscriptionId()); // the upsert inserts it
      p.unwritten.put(row.stripeSubscriptionId(), row);
    } else {
      store(uow).upsert(row);
    }
    p.absent.remove(row.stripeSubscriptionId());
    remember(uow, previous, row);
  }

  /** The subscription, locked: from the prefetch when it holds it, else from the database. */
  private static SubscriptionRow lockedSubscription(UnitOfWork uow, String id) {
    Prefetched p = prefetched(uow);
    SubscriptionRow row = p.byId.get(id);
    if (row != null || p.absent.contains(id)) {
      return row;
    }
    return store(uow).findForUpdate(id);
  }

  private static List<SubscriptionRow> subscriptionsOf(UnitOfWork uow, String userId) {
    TreeMap<String, SubscriptionRow> rows = prefetched(uow).byUser.get(userId);
    return rows != null ? new ArrayList<>(rows.values()) : store(uow).findByUser(userId);
  }

  /**
   * Inserts a placeholder unless the subscription exists; true when it was added. One the prefetch
   * found absent, of a prefetched user, is held back and inserted with the group's others.
   */
  private static boolean insertPlaceholder(UnitOfWork uow, SubscriptionRow placeholder) {
    Prefetched p = prefetched(uow);
    String id = placeholder.stripeSubscriptionId();
    boolean knownAbsent = p.absent.remove(id);
    TreeMap<String, SubscriptionRow> list =
        placeholder.userId() == null ? null : p.byUser.get(placeholder.userId());
    boolean added;
    if (knownAbsent && list != null) {
      p.placeholders.put(id, placeholder);
      added = true;
    } else {
      added = store(uow).insertPlaceholder(placeholder) > 0;
    }
    if (added && list != null) {
      // The new row is exactly the placeholder (the columns it leaves out default to its values).
      list.put(id, placeholder);
      p.byId.put(id, placeholder);
    } else {
      forget(uow, id, placeholder.userId());
    }
    return added;
  }

  /** After an upsert: the stored row is now exactly {@code row}. */
  private static void remember(UnitOfWork uow, SubscriptionRow previous, SubscriptionRow row) {
    Prefetched p = prefetched(uow);
    String id = row.stripeSubscriptionId();
    if (previous != null && !Objects.equals(previous.userId(), row.userId())) {
      forget(uow, id, null);
    }
    TreeMap<String, SubscriptionRow> list =
        row.userId() == null ? null : p.byUser.get(row.userId());
    if (list != null) {
      list.put(id, row);
      p.byId.put(id, row);
    } else {
      p.byId.remove(id);
    }
  }

  /**
   * After any other write to a subscription (of {@code userId}, when it may be a new row): read it,
   * and its user's list, from the database from now on.
   */
  private static void forget(UnitOfWork uow, String id, String userId) {
    Prefetched p = prefetched(uow);
    p.byId.remove(id);
    if (userId != null) {
      p.byUser.remove(userId);
    }
    p.byUser.values().removeIf(rows -> rows.containsKey(id));
  }

  /** How a snapshot compares with the stored one. */
  enum Order {
    NEWER,
    OLDER,
    SAME,
    TIE
  }

  static Order compare(SubscriptionRow incoming, SubscriptionRow stored) {
    StripeStatus in = incoming.stripeStatus();
    if (stored.stripeStatus().isTerminal()
        && !in.isTerminal()
        && stored.stateRank() != SubscriptionRow.PLACEHOLDER_RANK) {
      return Order.OLDER;
    }
    if (incoming.stateCreated() != stored.stateCreated()) {
      return incoming.stateCreated() > stored.stateCreated() ? Order.NEWER : Order.OLDER;
    }
    if (incoming.stateRank() != stored.stateRank()) {
      return incoming.stateRank() > stored.stateRank() ? Order.NEWER : Order.OLDER;
    }
    long inEnd = incoming.currentPeriodEnd() == null ? 0 : incoming.currentPeriodEnd();
    long storedEnd = stored.currentPeriodEnd() == null ? 0 : stored.currentPeriodEnd();
    if (inEnd != storedEnd) {
      return inEnd > storedEnd ? Order.NEWER : Order.OLDER;
    }
    return describe(incoming).equals(describe(stored)) ? Order.SAME : Order.TIE;
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
