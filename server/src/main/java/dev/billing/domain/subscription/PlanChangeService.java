package dev.billing.domain.subscription;

import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.StripeStatus;
import dev.billing.domain.gateway.InvoicePreview;
import dev.billing.domain.gateway.PriceChange;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import java.time.Clock;

/**
 * Plan changes of a subscribed user. A change now is prorated to the second and invoiced at once;
 * Stripe applies it only when that invoice is paid (a declined card leaves the old plan, as
 * Stripe's pending update). The tier never moves here: it follows Stripe's {@code
 * customer.subscription.updated} event like every other change.
 */
public final class PlanChangeService {
  static final String OPERATION = "plan_change";

  private final Transactions tx;
  private final Catalog catalog;
  private final EntitlementService entitlements;
  private final StripeGateway stripe;
  private final AuditLog audit;
  private final Clock clock;

  public PlanChangeService(
      Transactions tx,
      Catalog catalog,
      EntitlementService entitlements,
      StripeGateway stripe,
      AuditLog audit,
      Clock clock) {
    this.tx = tx;
    this.catalog = catalog;
    this.entitlements = entitlements;
    this.stripe = stripe;
    this.audit = audit;
    this.clock = clock;
  }

  /** When a change takes effect. */
  public enum Timing {
    NOW,
    PERIOD_END
  }

  /** A preview: what is due now, what the next invoice will be, and when the plan applies. */
  public record Preview(
      long amountDueNow,
      long nextInvoiceAmount,
      String currency,
      java.util.List<InvoicePreview.Line> lines,
      long effectiveAt) {}

  /** A change made now. */
  public record Result(
      String subscriptionId,
      String invoiceId,
      long amountCharged,
      String currency,
      long effectiveAt,
      boolean replayed) {}

  /** The user's subscription and the plan to move to, checked. */
  private record Move(EntitlementRow user, Plan from, Plan to) {}

  private Move move(String userId, String planName) {
    Plan to = catalog.plan(planName).filter(p -> !p.isFree()).orElse(null);
    if (to == null) {
      throw BillingException.InvalidArgument.of(
          "plan",
          "must be a paid plan of the catalog ("
              + String.join(
                  ", ", catalog.plans().stream().filter(p -> !p.isFree()).map(Plan::name).toList())
              + "); to move to free, cancel the subscription");
    }
    EntitlementRow user = entitlements.find(userId);
    StripeStatus status = StripeStatus.parseStored(user.status());
    if (user.subscriptionId() == null
        || (status != StripeStatus.ACTIVE && status != StripeStatus.TRIALING)) {
      throw new BillingException.FailedPrecondition(
          "NO_SUBSCRIPTION",
          "user "
              + userId
              + " has no active subscription to change (subscribe with CreateCheckout)");
    }
    Plan from = catalog.planOrFree(user.tier());
    if (from.name().equals(to.name())) {
      throw new BillingException.FailedPrecondition(
          "SAME_PLAN", "user " + userId + " is already on " + to.name());
    }
    return new Move(user, from, to);
  }

  /** What changing to {@code plan} would cost, from Stripe's invoice preview; nothing changes. */
  public Preview preview(String userId, String plan, Timing timing) {
    Move m = move(userId, plan);
    long now = clock.instant().getEpochSecond();
    InvoicePreview p =
        stripe.previewPriceChange(
            m.user().subscriptionId(), m.to().priceId(), timing == Timing.NOW);
    long periodEnd =
        m.user().currentPeriodEnd() == null ? p.periodEnd() : m.user().currentPeriodEnd();
    if (timing == Timing.NOW) {
      return new Preview(p.amountDue(), m.to().amountMinor(), p.currency(), p.lines(), now);
    }
    return new Preview(0, p.amountDue(), p.currency(), p.lines(), periodEnd);
  }

  /**
   * Runs a keyed plan change once (see {@link Idempotency#once}): a key seen before answers the
   * {@link Result} it first answered (replayed), or its refusal again.
   */
  private Result once(
      String userId,
      String key,
      String hash,
      java.util.function.Supplier<Result> change,
      java.util.function.BiConsumer<dev.billing.persistence.UnitOfWork, Result> onSuccess) {
    boolean[] ran = {false};
    String stored =
        Idempotency.once(
            tx,
            OPERATION,
            userId,
            key,
            hash,
            () -> {
              ran[0] = true;
              Result r = change.get();
              return String.join(
                  "|",
                  r.subscriptionId(),
                  r.invoiceId() == null ? "" : r.invoiceId(),
                  Long.toString(r.amountCharged()),
                  r.currency(),
                  Long.toString(r.effectiveAt()));
            },
            (uow, result) -> onSuccess.accept(uow, decode(result, false)));
    return decode(stored, !ran[0]);
  }

  private static Result decode(String stored, boolean replayed) {
    String[] f = stored.split("\\|", -1);
    return new Result(
        f[0],
        f[1].isEmpty() ? null : f[1],
        Long.parseLong(f[2]),
        f[3],
        Long.parseLong(f[4]),
        replayed);
  }

  /**
   * Changes the plan now, exactly once per key: a key seen before answers its first outcome (a
   * refusal thrown again); {@code PAYMENT_FAILED} when the card was declined (the old plan stays).
   */
  public Result changeNow(String userId, String plan, String idempotencyKey, Cause cause) {
    return once(
        userId,
        idempotencyKey,
        Idempotency.fingerprint(plan, "now"),
        () -> {
          Move m = move(userId, plan);
          long now = clock.instant().getEpochSecond();
          PriceChange c =
              stripe.changePrice(
                  m.user().subscriptionId(),
                  m.to().priceId(),
                  "plan_change:" + Idempotency.fingerprint(userId, idempotencyKey));
          if (!c.applied()) {
            throw new BillingException.FailedPrecondition(
                "PAYMENT_FAILED",
                "the proration invoice "
                    + c.invoiceId()
                    + " of "
                    + c.amountDue()
                    + " was not paid ("
                    + c.failure()
                    + "); "
                    + userId
                    + " stays on "
                    + m.from().name()
                    + " (Stripe keeps the change pending for 23 hours, until the invoice is"
                    + " paid)");
          }
          return new Result(
              m.user().subscriptionId(),
              c.invoiceId(),
              c.amountDue(),
              m.to().currency(),
              now,
              false);
        },
        (uow, r) ->
            audit.record(
                uow,
                userId,
                cause,
                "subscription",
                r.subscriptionId(),
                "plan.changed",
                null,
                "plan=" + plan + " timing=now invoice=" + r.invoiceId()));
  }

  /**
   * Schedules the change for the end of the current period (a downgrade at renewal), exactly once
   * per key: a Stripe subscription schedule moves the subscription to the new price at the
   * boundary, and the entitlement shows it as pending until Stripe's renewal event applies it.
   */
  public Result changeAtPeriodEnd(String userId, String plan, String idempotencyKey, Cause cause) {
    return once(
        userId,
        idempotencyKey,
        Idempotency.fingerprint(plan, "period_end"),
        () -> {
          Move m = move(userId, plan);
          if (m.user().cancelAtPeriodEnd()) {
            throw new BillingException.FailedPrecondition(
                "ENDS_AT_PERIOD_END",
                "the subscription of " + userId + " ends at the end of the period");
          }
          stripe.schedulePriceAtPeriodEnd(
              m.user().subscriptionId(),
              m.to().priceId(),
              "plan_change:" + Idempotency.fingerprint(userId, idempotencyKey));
          long effectiveAt = m.user().currentPeriodEnd() == null ? 0 : m.user().currentPeriodEnd();
          return new Result(
              m.user().subscriptionId(), null, 0, m.to().currency(), effectiveAt, false);
        },
        (uow, r) ->
            entitlements.pendingPlanChange(
                uow, entitlements.lock(uow, userId), plan, r.effectiveAt(), cause));
  }

  /** A withdrawn plan change. */
  public record Withdrawn(String plan, Long effectiveAt) {}

  /**
   * Withdraws the plan change scheduled for the end of the period: Stripe's schedule is released
   * (the subscription goes on at its current price) and the entitlement shows nothing pending.
   */
  public Withdrawn cancelPending(String userId, Cause cause) {
    EntitlementRow user = entitlements.find(userId);
    if (user.pendingPlan() == null) {
      throw new BillingException.FailedPrecondition(
          "NO_PENDING_CHANGE", "user " + userId + " has no plan change scheduled");
    }
    if (user.subscriptionId() != null) {
      stripe.releaseScheduleOf(
          user.subscriptionId(),
          "plan_change_cancel:" + Idempotency.fingerprint(userId, user.version()));
    }
    return tx.execute(
        uow -> {
          EntitlementRow locked = entitlements.lock(uow, userId);
          if (locked.pendingPlan() == null) {
            return new Withdrawn(user.pendingPlan(), user.pendingEffectiveAt());
          }
          entitlements.pendingPlanChange(uow, locked, null, null, cause);
          return new Withdrawn(locked.pendingPlan(), locked.pendingEffectiveAt());
        });
  }
}
