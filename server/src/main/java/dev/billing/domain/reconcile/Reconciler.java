package dev.billing.domain.reconcile;

import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.StripeCommand.PaymentIntentSettled;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.customer.CustomerLink;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.domain.inbox.InboundEvent;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.domain.payment.PaymentRow;
import dev.billing.domain.payment.PaymentService;
import dev.billing.domain.subscription.SubscriptionRow;
import dev.billing.domain.subscription.SubscriptionService;
import dev.billing.persistence.Transactions;
import dev.billing.util.PeriodicTask;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds out what this service missed. Stripe's events since a point in time that are not in the
 * inbox (our endpoint was down longer than Stripe retries, or a secret was rotated wrongly) go
 * through the normal inbox, so each takes effect exactly once; then every known customer's
 * subscriptions are compared with Stripe's, and a stored one that differs (or is missing) is
 * reported and, unless it is a dry run, replaced by Stripe's copy. Safe on every replica at once.
 */
public final class Reconciler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
  private static final Cause CAUSE = Cause.api("billing-reconcile");

  /** Stripe retries a delivery for up to three days; it keeps events for 30. */
  static final Duration RETRY_WINDOW = Duration.ofDays(3);

  static final Duration EVENT_RETENTION = Duration.ofDays(30);

  /** One difference. */
  public record Drift(
      String objectType,
      String objectId,
      String userId,
      String ours,
      String stripe,
      String action,
      boolean repaired) {}

  /** What a run found and did. */
  public record Report(
      long since,
      int eventsListed,
      int eventsIngested,
      int subscriptionsCompared,
      List<Drift> drift) {}

  private final Transactions tx;
  private final StripeGateway stripe;
  private final WebhookProcessor inbox;
  private final Function<String, InboundEvent> parser;
  private final CustomerService customers;
  private final SubscriptionService subscriptions;
  private final PaymentService payments;
  private final Clock clock;
  private final Counter runs;
  private final Counter found;
  private final Counter repaired;
  private PeriodicTask task;

  public Reconciler(
      Transactions tx,
      StripeGateway stripe,
      WebhookProcessor inbox,
      Function<String, InboundEvent> parser,
      CustomerService customers,
      SubscriptionService subscriptions,
      PaymentService payments,
      Clock clock,
      MeterRegistry meters) {
    this.payments = payments;
    this.tx = tx;
    this.stripe = stripe;
    this.inbox = inbox;
    this.parser = parser;
    this.customers = customers;
    this.subscriptions = subscriptions;
    this.clock = clock;
    this.runs = meters.counter("billing_reconcile_runs_total");
    this.found = meters.counter("billing_reconcile_drift_found_total");
    this.repaired = meters.counter("billing_reconcile_drift_repaired_total");
  }

  /** Runs in the background every {@code every} (zero: never). */
  public void start(Duration every) {
    if (!every.isZero() && !every.isNegative()) {
      task = PeriodicTask.every(every, "stripe-reconcile", () -> reconcile(null, false));
    }
  }

  /**
   * Reconciles with Stripe.
   *
   * @param since epoch seconds; null = {@link #RETRY_WINDOW} before the newest stored event (or
   *     before now), never older than Stripe keeps events
   * @param dryRun report only
   */
  public Report reconcile(Long since, boolean dryRun) {
    long now = clock.instant().getEpochSecond();
    long oldest = now - EVENT_RETENTION.toSeconds();
    long from;
    if (since == null) {
      Long newest = inbox.newestStoredCreated();
      from = Math.min(newest == null ? now : newest, now) - RETRY_WINDOW.toSeconds();
    } else {
      from = since;
    }
    from = Math.max(from, oldest);
    List<Drift> drift = new ArrayList<>();

    // 1. Events Stripe has that we never stored, oldest first, through the inbox.
    List<String> listed = stripe.listEvents(from);
    List<InboundEvent> events = new ArrayList<>(listed.size());
    for (String payload : listed) {
      events.add(parser.apply(payload));
    }
    Set<String> stored = new java.util.HashSet<>();
    for (int i = 0; i < events.size(); i += 500) {
      stored.addAll(
          inbox.stored(
              events.subList(i, Math.min(events.size(), i + 500)).stream()
                  .map(InboundEvent::id)
                  .toList()));
    }
    int ingested = 0;
    for (InboundEvent event : events.reversed()) {
      if (stored.contains(event.id())) {
        continue;
      }
      boolean done = false;
      if (!dryRun) {
        inbox.ingest(event);
        ingested++;
        done = true;
      }
      drift.add(
          new Drift(
              "event",
              event.id(),
              null,
              "missing",
              event.type() + " created " + event.created(),
              "store and apply it through the inbox",
              done));
    }

    // 2. Every known customer's subscriptions against Stripe's.
    int compared = 0;
    String after = "";
    for (List<CustomerLink> page = customers.page(after, 200);
        !page.isEmpty();
        page = customers.page(after, 200)) {
      for (CustomerLink link : page) {
        compared += compare(link, dryRun, now, drift);
        comparePayments(link, dryRun, drift);
      }
      after = page.getLast().userId();
    }
    runs.increment();
    long differences = drift.size();
    long fixed = drift.stream().filter(Drift::repaired).count();
    found.increment(differences);
    repaired.increment(fixed);
    if (differences > 0) {
      log.warn(
          "reconciliation since {}: {} differences with Stripe, {} repaired{}",
          from,
          differences,
          fixed,
          dryRun ? " (dry run)" : "");
    }
    return new Report(from, listed.size(), ingested, compared, List.copyOf(drift));
  }

  private int compare(CustomerLink link, boolean dryRun, long now, List<Drift> drift) {
    List<SubscriptionSnapshot> theirs = stripe.listSubscriptions(link.customerId());
    if (theirs.isEmpty()) {
      return 0;
    }
    Map<String, SubscriptionRow> ours = new HashMap<>();
    for (SubscriptionRow row : tx.execute(uow -> subscriptions.ofUser(uow, link.userId()))) {
      ours.put(row.stripeSubscriptionId(), row);
    }
    for (SubscriptionSnapshot snap : theirs) {
      SubscriptionRow mine = ours.get(snap.id());
      String stripeState = snap.status() + " " + snap.priceId();
      String ourState =
          mine == null
              ? "missing"
              : mine.status()
                  + " "
                  + mine.priceId()
                  + (mine.stateRank() == SubscriptionRow.PLACEHOLDER_RANK ? " (placeholder)" : "");
      if (mine != null
          && Objects.equals(mine.status(), snap.status())
          && Objects.equals(mine.priceId(), snap.priceId())
          && mine.stateRank() != SubscriptionRow.PLACEHOLDER_RANK) {
        continue;
      }
      boolean done = false;
      if (!dryRun) {
        SubscriptionSnapshot owned =
            snap.metadataUserId() != null ? snap : snap.withUser(link.userId());
        tx.execute(
            uow -> {
              subscriptions.apply(uow, owned, now, "canceled".equals(owned.status()), true, CAUSE);
              return null;
            });
        done = true;
      }
      drift.add(
          new Drift(
              "subscription",
              snap.id(),
              link.userId(),
              ourState,
              stripeState,
              "store Stripe's state",
              done));
    }
    return theirs.size();
  }

  /**
   * A payment Stripe says succeeded for a purchase this service started (its {@code
   * metadata.payment_id}) that is not settled here: settled now through the same rules as its
   * payment_intent.succeeded event (credited once, under the purchase's ledger key).
   */
  private void comparePayments(CustomerLink link, boolean dryRun, List<Drift> drift) {
    for (PaymentIntentSettled intent : stripe.listSucceededPaymentIntents(link.customerId())) {
      if (intent.paymentId() == null) {
        continue; // not a purchase of ours (a subscription's invoice payment, or foreign)
      }
      PaymentRow ours =
          tx.execute(uow -> payments.find(uow, intent.paymentId(), intent.intentId()));
      if (ours != null && ours.isSettledSuccessfully()) {
        continue;
      }
      boolean done = false;
      if (!dryRun && ours != null) {
        tx.execute(
            uow -> {
              payments.paymentIntentSettled(uow, intent, CAUSE);
              return null;
            });
        done = true;
      }
      drift.add(
          new Drift(
              "payment",
              intent.paymentId(),
              ours == null ? link.userId() : ours.userId(),
              ours == null ? "missing" : ours.status(),
              "succeeded " + intent.amountReceived() + " " + intent.currency(),
              ours == null
                  ? "none: no purchase of ours has this id"
                  : "settle it as its payment_intent.succeeded would",
              done));
    }
  }

  @Override
  public void close() {
    if (task != null) {
      task.close();
    }
  }
}
