package dev.billing.domain.payment;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.StripeCommand.ChargeRefunded;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.StripeCommand.CheckoutExpired;
import dev.billing.domain.command.StripeCommand.InvoiceSettled;
import dev.billing.domain.command.StripeCommand.PaymentIntentSettled;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.referral.ReferralService;
import dev.billing.persistence.UnitOfWork;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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

  public PaymentService(
      CreditService credits, ReferralService referrals, AuditLog audit, CustomerService customers) {
    this.customers = customers;
    this.credits = credits;
    this.referrals = referrals;
    this.audit = audit;
  }

  /** A deterministic payment id, so a retried request or event maps to the same payment. */
  public static String paymentId(String... parts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        sha.update(String.valueOf(p).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return "pay_" + HexFormat.of().formatHex(sha.digest()).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A purchase this service started (a checkout it created): pending until Stripe reports it. */
  public void recordPending(UnitOfWork uow, PaymentRow payment) {
    uow.store(PaymentStore.class).insertIfAbsent(payment);
  }

  // ------------------------------------------------------------ credit purchases

  /** checkout.session.completed in payment mode: the purchase is paid. */
  public void checkoutCompleted(UnitOfWork uow, CheckoutCompleted session, Cause cause) {
    if (!"payment".equals(session.mode()) || !"paid".equals(session.paymentStatus())) {
      return;
    }
    String intentId = session.paymentIntentId();
    PaymentRow p =
        findOrCreatePurchase(
            uow,
            new PurchaseRef(
                session.paymentId(),
                session.userId(),
                session.customerId(),
                session.amountTotal(),
                session.currency(),
                session.credits(),
                session.sessionId(),
                intentId));
    if (p != null) {
      Long total = session.amountTotal();
      succeed(uow, p, total == null ? p.amount() : total, intentId, null, cause);
    }
  }

  /** payment_intent.succeeded, payment_failed or canceled. */
  public void paymentIntentSettled(UnitOfWork uow, PaymentIntentSettled intent, Cause cause) {
    switch (intent.outcome()) {
      case SUCCEEDED -> paymentIntentSucceeded(uow, intent, cause);
      case FAILED -> settleUnsuccessful(uow, intent, PaymentRow.FAILED, cause);
      case CANCELED -> settleUnsuccessful(uow, intent, PaymentRow.CANCELED, cause);
    }
  }

  /**
   * payment_intent.succeeded: completes a credit purchase (subscription invoices are handled by
   * invoice.paid).
   */
  private void paymentIntentSucceeded(UnitOfWork uow, PaymentIntentSettled intent, Cause cause) {
    if (intent.paymentId() == null) {
      return;
    }
    String intentId = intent.intentId();
    PaymentRow p =
        findOrCreatePurchase(
            uow,
            new PurchaseRef(
                intent.paymentId(),
                intent.userId(),
                intent.customerId(),
                intent.amount(),
                intent.currency(),
                intent.credits(),
                null,
                intentId));
    if (p != null) {
      Long received = intent.amountReceived();
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
    PaymentStore payments = uow.store(PaymentStore.class);
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

  /** invoice.paid or invoice.payment_failed. */
  public void invoiceSettled(UnitOfWork uow, InvoiceSettled invoice, Cause cause) {
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
    PaymentStore payments = uow.store(PaymentStore.class);
    String invoiceId = invoice.invoiceId();
    String intentId = invoice.paymentIntentId();
    String id = paymentId("invoice", invoiceId);
    PaymentRow p = payments.find(id);
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
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
      payments.insertIfAbsent(
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
              null));
      p = payments.find(id);
      if (p == null) {
        p = payments.findByIntent(intentId);
      }
    }
    p = payments.lock(p.id());
    PaymentRow linked = p.withStripeIds(intentId, null, invoiceId);
    if (!linked.equals(p)) {
      payments.update(linked);
    }
    return linked;
  }

  // ------------------------------------------------------------ refunds

  /**
   * charge.refunded: records Stripe's cumulative refunded amount and claws back the matching share
   * of the purchased credits (never below a zero balance).
   */
  public void chargeRefunded(UnitOfWork uow, ChargeRefunded charge, Cause cause) {
    PaymentStore payments = uow.store(PaymentStore.class);
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

  // ------------------------------------------------------------ shared

  private void settleUnsuccessful(
      UnitOfWork uow, PaymentIntentSettled intent, String status, Cause cause) {
    PaymentStore payments = uow.store(PaymentStore.class);
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
      PaymentStore payments, String paymentId, String sessionId, String intentId) {
    PaymentRow p = paymentId == null ? null : payments.find(paymentId);
    if (p == null && sessionId != null) {
      p = payments.findBySession(sessionId);
    }
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
    return p;
  }

  /** What a paid session or intent says of the purchase behind it. */
  private record PurchaseRef(
      String paymentId,
      String userId,
      String customerId,
      Long amount,
      String currency,
      Long credits,
      String sessionId,
      String intentId) {}

  /** The purchase behind a session or intent, locked; created from the event if we never saw it. */
  private PaymentRow findOrCreatePurchase(UnitOfWork uow, PurchaseRef ref) {
    PaymentStore payments = uow.store(PaymentStore.class);
    String sessionId = ref.sessionId();
    String intentId = ref.intentId();
    PaymentRow p = locate(payments, ref.paymentId(), sessionId, intentId);
    if (p == null) {
      String userId = resolveUser(uow, ref.userId(), ref.customerId());
      if (userId == null) {
        log.warn(
            "paid {} has no user (metadata.user_id or known customer); nothing credited",
            sessionId != null ? sessionId : intentId);
        return null;
      }
      Long amount = ref.amount();
      String currency = ref.currency();
      Long creditCount = ref.credits();
      long paid = amount == null ? 0 : amount;
      String id = ref.paymentId();
      if (id == null) {
        id = paymentId("stripe", sessionId != null ? sessionId : intentId);
      }
      payments.insertIfAbsent(
          PaymentRow.create(
              id,
              userId,
              PaymentRow.KIND_CREDITS,
              PaymentRow.PENDING,
              paid,
              currency == null ? "usd" : currency,
              creditCount == null ? paid : creditCount,
              sessionId,
              intentId,
              null,
              null,
              null,
              null));
      p = payments.find(id);
      if (p == null) {
        p = locate(payments, null, sessionId, intentId);
      }
    }
    return payments.lock(p.id());
  }

  private void succeed(
      UnitOfWork uow, PaymentRow p, long paid, String intentId, String chargeId, Cause cause) {
    if (p.isSettledSuccessfully() || PaymentRow.CANCELED.equals(p.status())) {
      PaymentRow linked = p.withStripeIds(intentId, chargeId, null);
      if (!linked.equals(p)) {
        uow.store(PaymentStore.class).update(linked);
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
    uow.store(PaymentStore.class).update(after);
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
