package dev.billing.domain.payment;

import dev.billing.config.Catalog;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.StripeCommand;
import dev.billing.domain.command.StripeCommand.ChargeRefunded;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.StripeCommand.CheckoutExpired;
import dev.billing.domain.command.StripeCommand.IntentOutcome;
import dev.billing.domain.command.StripeCommand.InvoiceSettled;
import dev.billing.domain.command.StripeCommand.PaymentIntentSettled;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.domain.payment.PaymentStore.Key;
import dev.billing.domain.referral.ReferralService;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.UnitOfWork;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Payments as Stripe reports them, inside the webhook transaction. A credit purchase is credited
 * exactly once, whichever of checkout.session.completed and payment_intent.succeeded arrives first
 * (the ledger key is the payment id); a refund claws back credits exactly once per refunded total
 * (the ledger key carries Stripe's cumulative {@code amount_refunded}, so redelivered or reordered
 * charge.refunded events never take twice). Lock order: the payment row, then the user.
 */
public final class PaymentService {
  private static final Logger log = LoggerFactory.getLogger(PaymentService.class);

  private final CreditService credits;
  private final ReferralService referrals;
  private final AuditLog audit;
  private final CustomerService customers;
  private final Set<String> currencies;
  private final long maxAmount;

  public PaymentService(
      CreditService credits,
      ReferralService referrals,
      AuditLog audit,
      CustomerService customers,
      Catalog catalog) {
    this.customers = customers;
    this.currencies = catalog.currencies();
    this.maxAmount = catalog.maxPaymentMinor();
    this.credits = credits;
    this.referrals = referrals;
    this.audit = audit;
    referrals.usePurchases((uow, userId) -> rows(uow).store().countPurchases(userId));
  }

  /** A deterministic payment id, so a retried request or event maps to the same payment. */
  public static String paymentId(String... parts) {
    return "pay_" + Idempotency.fingerprint((Object[]) parts).substring(0, 24);
  }

  /** The payment of ours behind a payment id or a payment intent, or null. */
  public PaymentRow find(UnitOfWork uow, String paymentId, String intentId) {
    return locate(rows(uow), paymentId, null, intentId);
  }

  /** A purchase this service started (a checkout it created): pending until Stripe reports it. */
  public void recordPending(UnitOfWork uow, PaymentRow payment) {
    rows(uow).insertIfAbsent(payment);
  }

  // ------------------------------------------------------------ credit purchases

  /**
   * checkout.session.completed in payment mode: the purchase is paid. Only a purchase this service
   * started (CreateCheckout recorded it) is credited, and only for what it sold.
   */
  public void checkoutCompleted(UnitOfWork uow, CheckoutCompleted session, Cause cause) {
    if (!paidPurchase(session)) {
      return;
    }
    String intentId = session.paymentIntentId();
    PaymentRow p =
        ourPurchase(
            uow,
            session.paymentId(),
            session.sessionId(),
            intentId,
            session.userId(),
            session.amountTotal(),
            session.currency(),
            "checkout session " + session.sessionId(),
            cause);
    if (p != null) {
      Long total = session.amountTotal();
      succeed(uow, p, total == null ? p.amount() : total, intentId, null, cause);
    }
  }

  /**
   * Whether a completed session is a paid purchase: the only kind whose completion touches payments
   * (a subscription's first invoice is settled by invoice.paid).
   */
  private static boolean paidPurchase(CheckoutCompleted session) {
    return "payment".equals(session.mode()) && "paid".equals(session.paymentStatus());
  }

  /**
   * Whether settling the intent reads payments: a failed or canceled one always does (its payment,
   * or a subscription's to record); a succeeded one only for a purchase of ours (with a payment
   * id).
   */
  private static boolean readsPayments(PaymentIntentSettled intent) {
    return intent.outcome() != IntentOutcome.SUCCEEDED || intent.paymentId() != null;
  }

  /**
   * payment_intent.succeeded, payment_failed or canceled; a subscription's succeeded intent settles
   * nothing here (its invoice.paid records the payment).
   */
  public void paymentIntentSettled(UnitOfWork uow, PaymentIntentSettled intent, Cause cause) {
    if (!readsPayments(intent)) {
      return;
    }
    switch (intent.outcome()) {
      case SUCCEEDED -> paymentIntentSucceeded(uow, intent, cause);
      case FAILED -> settleUnsuccessful(uow, intent, PaymentRow.FAILED, cause);
      case CANCELED -> settleUnsuccessful(uow, intent, PaymentRow.CANCELED, cause);
    }
  }

  /** payment_intent.succeeded of a purchase of ours (a payment id): completes it. */
  private void paymentIntentSucceeded(UnitOfWork uow, PaymentIntentSettled intent, Cause cause) {
    String intentId = intent.intentId();
    Long received = intent.amountReceived() != null ? intent.amountReceived() : intent.amount();
    PaymentRow p =
        ourPurchase(
            uow,
            intent.paymentId(),
            null,
            intentId,
            intent.userId(),
            received,
            intent.currency(),
            "payment intent " + intentId,
            cause);
    if (p != null) {
      succeed(
          uow,
          p,
          received == null ? p.amount() : received,
          intentId,
          intent.latestChargeId(),
          cause);
    }
  }

  /** checkout.session.expired: a pending purchase will never be paid. */
  public void checkoutExpired(UnitOfWork uow, CheckoutExpired session, Cause cause) {
    Rows payments = rows(uow);
    PaymentRow p = session.sessionId() == null ? null : payments.findBySession(session.sessionId());
    if (p == null) {
      return;
    }
    p = payments.lock(p.id());
    if (PaymentRow.PENDING.equals(p.status()) || PaymentRow.FAILED.equals(p.status())) {
      update(uow, p, p.withStatus(PaymentRow.EXPIRED, p.failureCode()), cause);
    }
  }

  // ------------------------------------------------------------ subscription invoices

  /**
   * invoice.paid or invoice.payment_failed of a subscription's invoice. A one-off invoice (no
   * subscription) is not a subscription payment: it is audited and ignored, and pays no referral
   * bonus.
   */
  public void invoiceSettled(UnitOfWork uow, InvoiceSettled invoice, Cause cause) {
    if (invoice.subscriptionId() == null) {
      ignore(
          uow,
          invoice.parentUserId() != null ? invoice.parentUserId() : invoice.declaredUserId(),
          invoice.invoiceId(),
          "invoice " + invoice.invoiceId() + " has no subscription (a one-off invoice)",
          cause);
      return;
    }
    Long amount = invoice.paid() ? invoice.amountPaid() : invoice.amountDue();
    if (amount != null && amount != 0) {
      String why = untrusted(amount, invoice.currency());
      if (why != null) {
        ignore(uow, invoice.parentUserId(), invoice.invoiceId(), "invoice: " + why, cause);
        return;
      }
    }
    if (invoice.paid()) {
      invoicePaid(uow, invoice, cause);
    } else {
      invoicePaymentFailed(uow, invoice, cause);
    }
  }

  /** invoice.paid: records the subscription payment (and may pay a referral bonus). */
  private void invoicePaid(UnitOfWork uow, InvoiceSettled invoice, Cause cause) {
    Long paid = invoice.amountPaid();
    if (paid == null || paid <= 0) {
      return; // a trial's $0 invoice is not a payment
    }
    PaymentRow p = findOrCreateInvoicePayment(uow, invoice, paid);
    if (p != null && !p.isSettledSuccessfully()) {
      PaymentRow done =
          p.withStatus(PaymentRow.SUCCEEDED, null).withAmounts(paid, p.amountRefunded());
      update(uow, p, done, cause);
      referrals.onPurchase(uow, p.userId(), paid, p.currency(), p.id(), cause);
    }
  }

  /** invoice.payment_failed: records the failed subscription payment. */
  private void invoicePaymentFailed(UnitOfWork uow, InvoiceSettled invoice, Cause cause) {
    Long due = invoice.amountDue();
    PaymentRow p = findOrCreateInvoicePayment(uow, invoice, due == null ? 0 : due);
    if (p != null && PaymentRow.PENDING.equals(p.status())) {
      update(
          uow,
          p,
          p.withStatus(
              PaymentRow.FAILED,
              p.failureCode() != null ? p.failureCode() : "invoice_payment_failed"),
          cause);
    }
  }

  private PaymentRow findOrCreateInvoicePayment(
      UnitOfWork uow, InvoiceSettled invoice, long amount) {
    Rows payments = rows(uow);
    String invoiceId = invoice.invoiceId();
    String intentId = invoice.paymentIntentId();
    String id = paymentId("invoice", invoiceId);
    PaymentRow p = lockExisting(payments, id, intentId);
    if (p == null) {
      String userId = invoice.parentUserId();
      if (userId == null) {
        userId = resolveUser(uow, invoice.declaredUserId(), invoice.customerId());
      }
      if (userId == null) {
        log.warn("invoice {} belongs to an unknown customer; no payment recorded", invoiceId);
        return null;
      }
      String currency = invoice.currency();
      PaymentRow created =
          PaymentRow.create(
              id,
              userId,
              PaymentRow.KIND_SUBSCRIPTION,
              PaymentRow.PENDING,
              amount,
              currency == null ? "usd" : currency,
              0,
              null,
              intentId,
              null,
              invoiceId,
              null,
              null);
      if (payments.insertIfAbsent(created) > 0) {
        p = created; // exactly what is stored (times aside), and locked by the insert
      } else { // stored meanwhile by a delivery that took no lock this one waited for
        p = lockExisting(payments, id, intentId);
      }
    }
    PaymentRow linked = p.withStripeIds(intentId, null, invoiceId);
    if (!linked.equals(p)) {
      payments.update(linked);
    }
    return linked;
  }

  /** The payment with this id, else the one of this payment intent, locked; or null. */
  private static PaymentRow lockExisting(Rows payments, String id, String intentId) {
    PaymentRow p = payments.lock(id);
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
      if (p != null) {
        p = payments.lock(p.id());
      }
    }
    return p;
  }

  // ------------------------------------------------------------ refunds

  /**
   * charge.refunded: records Stripe's cumulative refunded amount and claws back the matching share
   * of the purchased credits (never below a zero balance).
   */
  public void chargeRefunded(UnitOfWork uow, ChargeRefunded charge, Cause cause) {
    Rows payments = rows(uow);
    String chargeId = charge.chargeId();
    String intentId = charge.paymentIntentId();
    PaymentRow p = chargeId == null ? null : payments.findByCharge(chargeId);
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
    if (p == null && charge.paymentId() != null) {
      p = payments.find(charge.paymentId());
    }
    if (p == null) {
      log.warn("charge {} was refunded but no payment of ours matches it", chargeId);
      return;
    }
    p = payments.lock(p.id());
    Long refundedTotal = charge.amountRefunded();
    if (refundedTotal == null || refundedTotal <= p.amountRefunded()) {
      return; // already recorded (a redelivery, or an older partial refund arriving late)
    }
    long total = Math.min(refundedTotal, p.amount());
    String status = total >= p.amount() ? PaymentRow.REFUNDED : PaymentRow.PARTIALLY_REFUNDED;
    PaymentRow updated =
        p.withAmounts(p.amount(), total)
            .withStatus(status, p.failureCode())
            .withStripeIds(intentId, chargeId, null);
    update(uow, p, updated, cause);
    if (PaymentRow.KIND_CREDITS.equals(p.kind()) && p.credits() > 0 && p.amount() > 0) {
      long clawedBefore = p.credits() * p.amountRefunded() / p.amount();
      long clawedAfter = p.credits() * total / p.amount();
      if (clawedAfter > clawedBefore) {
        credits.clawBack(
            uow,
            p.userId(),
            clawedAfter - clawedBefore,
            "refund:" + p.id() + ":" + total,
            "refund of payment " + p.id(),
            p.id(),
            cause);
      }
    }
  }

  // ------------------------------------------------------------ a group's payments

  /**
   * Before a group of events is applied in one transaction: locks, with one statement recorded in
   * {@code reads}, the payments their commands name (by id, payment intent, checkout session or
   * charge), and notes which of those are not stored, so the events find them without a statement
   * each. Run what it returns once the batch has been sent.
   */
  public Runnable prefetch(UnitOfWork uow, ReadBatch reads, List<StripeCommand> commands) {
    Set<Key> wanted = new LinkedHashSet<>();
    for (StripeCommand command : commands) {
      switch (command) {
        case InvoiceSettled c -> {
          if (c.subscriptionId() != null && c.invoiceId() != null) {
            want(
                wanted,
                Key.id(paymentId("invoice", c.invoiceId())),
                Key.intent(c.paymentIntentId()));
          }
        }
        case PaymentIntentSettled c -> {
          if (readsPayments(c)) { // a subscription's succeeded intent: nothing to read
            want(
                wanted,
                Key.id(c.paymentId()),
                Key.intent(c.intentId()),
                c.intentId() == null ? null : Key.id(paymentId("intent", c.intentId())));
          }
        }
        case CheckoutCompleted c -> {
          if (paidPurchase(c)) { // what checkoutCompleted reads; nothing otherwise
            want(
                wanted,
                Key.id(c.paymentId()),
                Key.session(c.sessionId()),
                Key.intent(c.paymentIntentId()));
          }
        }
        case ChargeRefunded c ->
            want(
                wanted,
                Key.charge(c.chargeId()),
                Key.intent(c.paymentIntentId()),
                Key.id(c.paymentId()));
        case CheckoutExpired c -> want(wanted, Key.session(c.sessionId()));
        default -> {}
      }
    }
    Rows rows = rows(uow);
    wanted.removeIf(rows::knows);
    if (wanted.isEmpty()) {
      return () -> {};
    }
    List<Key> keys = List.copyOf(wanted);
    Supplier<List<PaymentRow>> found = reads.rows(PaymentStore.class, PaymentStore.lock(keys));
    return () -> {
      rows.absent.addAll(keys);
      found.get().forEach(rows::remember);
    };
  }

  /** Adds the keys that are not null. */
  private static void want(Collection<Key> wanted, Key... keys) {
    for (Key k : keys) {
      if (k != null) {
        wanted.add(k);
      }
    }
  }

  private static Rows rows(UnitOfWork uow) {
    return uow.attachment(Rows.class, () -> new Rows(uow));
  }

  /**
   * The payments as this transaction sees them: the rows it has locked, as they stand in it (by id,
   * and by intent, session and charge), and the keys it knows no payment has. What it knows is
   * answered without a statement; the rest is read (and remembered when locked). New payments whose
   * every unique key is known to be free, and updates of rows it holds, are held back and go with
   * the commit.
   */
  private static final class Rows {
    private final UnitOfWork uow;
    private final Map<String, PaymentRow> byId = new HashMap<>();

    /** The intent, session and charge keys of the rows held, to their ids. */
    private final Map<Key, String> ids = new HashMap<>();

    /** Keys no payment has, as this transaction stands. */
    private final Set<Key> absent = new HashSet<>();

    private final HeldWrites<PaymentRow> inserts;
    private final HeldWrites<PaymentRow> updates;

    Rows(UnitOfWork uow) {
      this.uow = uow;
      // Registered first, so written first: an update of a new row follows its insert.
      inserts = HeldWrites.rows(uow, PaymentStore.class, PaymentStore::insertNew);
      updates = HeldWrites.rows(uow, PaymentStore.class, PaymentStore::update);
    }

    private PaymentStore store() {
      return uow.store(PaymentStore.class);
    }

    /** Whether this key's payment (or its absence) is known here. */
    boolean knows(Key k) {
      return absent.contains(k)
          || (k.kind() == Key.Kind.ID ? byId.containsKey(k.value()) : ids.containsKey(k));
    }

    /** The row's keys other than its id. */
    private static List<Key> otherKeys(PaymentRow row) {
      List<Key> keys = new ArrayList<>(3);
      want(
          keys,
          Key.intent(row.paymentIntentId()),
          Key.session(row.checkoutSessionId()),
          Key.charge(row.chargeId()));
      return keys;
    }

    /** A row this transaction holds locked, as it stands now. */
    void remember(PaymentRow row) {
      PaymentRow before = byId.put(row.id(), row);
      if (before != null) {
        otherKeys(before).forEach(k -> ids.remove(k, row.id()));
      }
      for (Key k : otherKeys(row)) {
        ids.put(k, row.id());
        absent.remove(k);
      }
      absent.remove(Key.id(row.id()));
    }

    /** The row of {@code key} as known here, else {@code read}'s answer. */
    private PaymentRow known(Key key, Supplier<PaymentRow> read) {
      String id = key.kind() == Key.Kind.ID ? key.value() : ids.get(key);
      PaymentRow row = id == null ? null : byId.get(id);
      return row != null || absent.contains(key) ? row : read.get();
    }

    PaymentRow find(String id) {
      return known(Key.id(id), () -> store().find(id));
    }

    PaymentRow lock(String id) {
      return known(
          Key.id(id),
          () -> {
            PaymentRow row = store().lock(id);
            if (row != null) {
              remember(row);
            }
            return row;
          });
    }

    PaymentRow findBySession(String sessionId) {
      return known(Key.session(sessionId), () -> store().findBySession(sessionId));
    }

    PaymentRow findByIntent(String intentId) {
      return known(Key.intent(intentId), () -> store().findByIntent(intentId));
    }

    PaymentRow findByCharge(String chargeId) {
      return known(Key.charge(chargeId), () -> store().findByCharge(chargeId));
    }

    /**
     * Inserts unless a payment with the same id, session, intent or (user, key) exists; returns
     * rows added. Held back when every one of those keys is known to be free.
     */
    int insertIfAbsent(PaymentRow row) {
      boolean free =
          row.idempotencyKey() == null
              && absent.contains(Key.id(row.id()))
              && (row.checkoutSessionId() == null
                  || absent.contains(Key.session(row.checkoutSessionId())))
              && (row.paymentIntentId() == null
                  || absent.contains(Key.intent(row.paymentIntentId())));
      if (free) {
        inserts.put(row.id(), row);
      } else if (store().insertIfAbsent(row) == 0) {
        return 0;
      }
      remember(row); // exactly what is stored (times aside), and locked by the insert
      return 1;
    }

    /** Updates a row this transaction holds locked. */
    void update(PaymentRow row) {
      if (inserts.holds(row.id())) {
        inserts.put(row.id(), row); // not written yet: the insert writes this state
      } else {
        updates.put(row.id(), row);
      }
      remember(row);
    }
  }

  // ------------------------------------------------------------ shared

  private void settleUnsuccessful(
      UnitOfWork uow, PaymentIntentSettled intent, String status, Cause cause) {
    Rows payments = rows(uow);
    String intentId = intent.intentId();
    String code = intent.failureCode();
    PaymentRow p = locate(payments, intent.paymentId(), null, intentId);
    if (p == null) {
      // A subscription's payment (no payment of ours behind it): record it for the user.
      String userId = resolveUser(uow, intent.userId(), intent.customerId());
      if (userId == null) {
        log.warn("payment intent {} failed for an unknown customer; nothing recorded", intentId);
        return;
      }
      Long amount = intent.amount();
      String currency = intent.currency();
      String why = amount == null ? null : untrusted(amount, currency);
      if (why != null) {
        ignore(uow, userId, intentId, "payment intent " + intentId + ": " + why, cause);
        return;
      }
      PaymentRow row =
          PaymentRow.create(
              paymentId("intent", intentId),
              userId,
              PaymentRow.KIND_SUBSCRIPTION,
              status,
              amount == null ? 0 : amount,
              currency == null ? "usd" : currency,
              0,
              null,
              intentId,
              intent.latestChargeId(),
              null,
              null,
              code);
      if (payments.insertIfAbsent(row) > 0) {
        audit.record(uow, userId, cause, "payment", row.id(), "payment." + status, null, status);
      }
      return;
    }
    p = payments.lock(p.id());
    if (p.isSettledSuccessfully()) {
      return; // a later success already settled it
    }
    update(
        uow,
        p,
        p.withStatus(status, code).withStripeIds(intentId, intent.latestChargeId(), null),
        cause);
  }

  private static PaymentRow locate(
      Rows payments, String paymentId, String sessionId, String intentId) {
    PaymentRow p = paymentId == null ? null : payments.find(paymentId);
    if (p == null && sessionId != null) {
      p = payments.findBySession(sessionId);
    }
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
    return p;
  }

  /**
   * The purchase this service started behind a paid session or intent, locked; null (audited and
   * ignored with the reason) when there is none, or when what Stripe reports was paid is not what
   * the purchase sold: another currency, a non-positive amount, an amount beyond the catalog's
   * bounds or different from the purchase's.
   */
  private PaymentRow ourPurchase(
      UnitOfWork uow,
      String paymentId,
      String sessionId,
      String intentId,
      String declaredUser,
      Long amount,
      String currency,
      String what,
      Cause cause) {
    Rows payments = rows(uow);
    PaymentRow p = locate(payments, paymentId, sessionId, intentId);
    if (p == null || !PaymentRow.KIND_CREDITS.equals(p.kind())) {
      ignore(
          uow,
          declaredUser,
          sessionId != null ? sessionId : intentId,
          what + " is not a purchase this service started",
          cause);
      return null;
    }
    String why = amount == null && currency == null ? null : untrusted(amount, currency);
    if (why == null
        && ((currency != null && !currency.equals(p.currency()))
            || (amount != null && amount != p.amount()))) {
      why =
          "paid "
              + amount
              + " "
              + currency
              + " for a purchase of "
              + p.amount()
              + " "
              + p.currency();
    }
    if (why != null) {
      ignore(uow, p.userId(), p.id(), what + ": " + why, cause);
      return null;
    }
    return payments.lock(p.id());
  }

  /**
   * Why an amount Stripe reports cannot be acted on, or null: the currency must be one the catalog
   * sells in, the amount positive and within the catalog's bound.
   */
  private String untrusted(Long amount, String currency) {
    if (currency == null || !currencies.contains(currency)) {
      return "currency " + currency + " is not one the catalog sells in " + currencies;
    }
    if (amount == null || amount <= 0) {
      return "amount " + amount + " is not positive";
    }
    if (amount > maxAmount) {
      return "amount " + amount + " exceeds the catalog's bound of " + maxAmount;
    }
    return null;
  }

  /** Stored (the event is in the inbox), audited with the reason, and not acted on. */
  private void ignore(UnitOfWork uow, String userId, String entityId, String reason, Cause cause) {
    log.warn("ignored: {} (event {})", reason, cause.stripeEventId());
    audit.record(
        uow,
        userId,
        cause,
        "payment",
        entityId == null ? "-" : entityId,
        "payment.ignored",
        null,
        reason);
  }

  private void succeed(
      UnitOfWork uow, PaymentRow p, long paid, String intentId, String chargeId, Cause cause) {
    if (p.isSettledSuccessfully() || PaymentRow.CANCELED.equals(p.status())) {
      PaymentRow linked = p.withStripeIds(intentId, chargeId, null);
      if (!linked.equals(p)) {
        rows(uow).update(linked);
      }
      return;
    }
    PaymentRow done =
        p.withStatus(PaymentRow.SUCCEEDED, null)
            .withAmounts(paid, p.amountRefunded())
            .withStripeIds(intentId, chargeId, null);
    update(uow, p, done, cause);
    if (PaymentRow.KIND_CREDITS.equals(p.kind()) && p.credits() > 0) {
      credits.apply(
          uow,
          p.userId(),
          p.credits(),
          "purchase",
          "purchase:" + p.id(),
          "credit purchase",
          p.id(),
          cause);
    }
    referrals.onPurchase(uow, p.userId(), paid, p.currency(), p.id(), cause);
  }

  private void update(UnitOfWork uow, PaymentRow before, PaymentRow after, Cause cause) {
    rows(uow).update(after);
    if (!before.status().equals(after.status())
        || before.amountRefunded() != after.amountRefunded()) {
      audit.record(
          uow,
          after.userId(),
          cause,
          "payment",
          after.id(),
          "payment." + after.status(),
          before.status() + " refunded=" + before.amountRefunded(),
          after.status() + " refunded=" + after.amountRefunded());
    }
  }

  private String resolveUser(UnitOfWork uow, String declaredUserId, String customerId) {
    return declaredUserId != null ? declaredUserId : customers.userOf(uow, customerId);
  }
}
