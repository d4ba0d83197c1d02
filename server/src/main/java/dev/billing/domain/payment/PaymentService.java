package dev.billing.domain.payment;

import com.google.gson.JsonObject;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.customer.CustomerMapper;
import dev.billing.domain.referral.ReferralService;
import dev.billing.persistence.UnitOfWork;
import dev.billing.stripe.StripeJson;
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

  public PaymentService(CreditService credits, ReferralService referrals, AuditLog audit) {
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

  // ------------------------------------------------------------ credit purchases

  /** checkout.session.completed in payment mode: the purchase is paid. */
  public void checkoutCompleted(UnitOfWork uow, JsonObject session, Cause cause) {
    if (!"payment".equals(StripeJson.string(session, "mode"))
        || !"paid".equals(StripeJson.string(session, "payment_status"))) {
      return;
    }
    String intentId = StripeJson.id(session, "payment_intent");
    PaymentRow p = findOrCreatePurchase(uow, session, StripeJson.string(session, "id"), intentId);
    if (p != null) {
      Long total = StripeJson.longValue(session, "amount_total");
      succeed(uow, p, total == null ? p.amount() : total, intentId, null, cause);
    }
  }

  /**
   * payment_intent.succeeded: completes a credit purchase (subscription invoices are handled by
   * invoice.paid).
   */
  public void paymentIntentSucceeded(UnitOfWork uow, JsonObject intent, Cause cause) {
    if (StripeJson.string(intent, "metadata.payment_id") == null) {
      return;
    }
    String intentId = StripeJson.string(intent, "id");
    PaymentRow p = findOrCreatePurchase(uow, intent, null, intentId);
    if (p != null) {
      Long received = StripeJson.longValue(intent, "amount_received");
      succeed(
          uow,
          p,
          received == null ? p.amount() : received,
          intentId,
          StripeJson.id(intent, "latest_charge"),
          cause);
    }
  }

  /** payment_intent.payment_failed: the payment failed, with Stripe's decline code. */
  public void paymentIntentFailed(UnitOfWork uow, JsonObject intent, Cause cause) {
    String code = StripeJson.string(intent, "last_payment_error.decline_code");
    if (code == null) {
      code = StripeJson.string(intent, "last_payment_error.code");
    }
    settleUnsuccessful(
        uow, intent, PaymentRow.FAILED, code == null ? "payment_failed" : code, cause);
  }

  /** payment_intent.canceled. */
  public void paymentIntentCanceled(UnitOfWork uow, JsonObject intent, Cause cause) {
    settleUnsuccessful(
        uow, intent, PaymentRow.CANCELED, StripeJson.string(intent, "cancellation_reason"), cause);
  }

  /** checkout.session.expired: a pending purchase will never be paid. */
  public void checkoutExpired(UnitOfWork uow, JsonObject session, Cause cause) {
    PaymentMapper payments = uow.mapper(PaymentMapper.class);
    PaymentRow p = payments.findBySession(StripeJson.string(session, "id"));
    if (p == null) {
      return;
    }
    p = payments.lock(p.id());
    if (PaymentRow.PENDING.equals(p.status()) || PaymentRow.FAILED.equals(p.status())) {
      update(uow, p, p.withStatus(PaymentRow.EXPIRED, p.failureCode()), cause);
    }
  }

  // ------------------------------------------------------------ subscription invoices

  /** invoice.paid: records the subscription payment (and may pay a referral bonus). */
  public void invoicePaid(UnitOfWork uow, JsonObject invoice, Cause cause) {
    Long paid = StripeJson.longValue(invoice, "amount_paid");
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
  public void invoicePaymentFailed(UnitOfWork uow, JsonObject invoice, Cause cause) {
    Long due = StripeJson.longValue(invoice, "amount_due");
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

  private PaymentRow findOrCreateInvoicePayment(UnitOfWork uow, JsonObject invoice, long amount) {
    PaymentMapper payments = uow.mapper(PaymentMapper.class);
    String invoiceId = StripeJson.string(invoice, "id");
    String intentId = invoiceIntent(invoice);
    String id = paymentId("invoice", invoiceId);
    PaymentRow p = payments.find(id);
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
    if (p == null) {
      String userId = StripeJson.userId(invoice, "parent.subscription_details.metadata.user_id");
      if (userId == null) {
        userId = resolveUser(uow, invoice);
      }
      if (userId == null) {
        log.warn("invoice {} belongs to an unknown customer; no payment recorded", invoiceId);
        return null;
      }
      String currency = StripeJson.string(invoice, "currency");
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

  private static String invoiceIntent(JsonObject invoice) {
    String legacy = StripeJson.id(invoice, "payment_intent");
    if (legacy != null) {
      return legacy;
    }
    JsonObject first = StripeJson.firstOfList(invoice, "payments");
    return first == null ? null : StripeJson.id(first, "payment.payment_intent");
  }

  // ------------------------------------------------------------ refunds

  /**
   * charge.refunded: records Stripe's cumulative refunded amount and claws back the matching share
   * of the purchased credits (never below a zero balance).
   */
  public void chargeRefunded(UnitOfWork uow, JsonObject charge, Cause cause) {
    PaymentMapper payments = uow.mapper(PaymentMapper.class);
    String chargeId = StripeJson.string(charge, "id");
    String intentId = StripeJson.id(charge, "payment_intent");
    PaymentRow p = chargeId == null ? null : payments.findByCharge(chargeId);
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
    if (p == null && StripeJson.string(charge, "metadata.payment_id") != null) {
      p = payments.find(StripeJson.string(charge, "metadata.payment_id"));
    }
    if (p == null) {
      log.warn("charge {} was refunded but no payment of ours matches it", chargeId);
      return;
    }
    p = payments.lock(p.id());
    Long refundedTotal = StripeJson.longValue(charge, "amount_refunded");
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
      UnitOfWork uow, JsonObject intent, String status, String code, Cause cause) {
    PaymentMapper payments = uow.mapper(PaymentMapper.class);
    String intentId = StripeJson.string(intent, "id");
    PaymentRow p =
        locate(payments, StripeJson.string(intent, "metadata.payment_id"), null, intentId);
    if (p == null) {
      // A subscription's payment (no payment of ours behind it): record it for the user.
      String userId = resolveUser(uow, intent);
      if (userId == null) {
        log.warn("payment intent {} failed for an unknown customer; nothing recorded", intentId);
        return;
      }
      Long amount = StripeJson.longValue(intent, "amount");
      String currency = StripeJson.string(intent, "currency");
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
              StripeJson.id(intent, "latest_charge"),
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
        p.withStatus(status, code)
            .withStripeIds(intentId, StripeJson.id(intent, "latest_charge"), null),
        cause);
  }

  private static PaymentRow locate(
      PaymentMapper payments, String paymentId, String sessionId, String intentId) {
    PaymentRow p = paymentId == null ? null : payments.find(paymentId);
    if (p == null && sessionId != null) {
      p = payments.findBySession(sessionId);
    }
    if (p == null && intentId != null) {
      p = payments.findByIntent(intentId);
    }
    return p;
  }

  /** The purchase behind a session or intent, locked; created from the event if we never saw it. */
  private PaymentRow findOrCreatePurchase(
      UnitOfWork uow, JsonObject object, String sessionId, String intentId) {
    PaymentMapper payments = uow.mapper(PaymentMapper.class);
    PaymentRow p =
        locate(payments, StripeJson.string(object, "metadata.payment_id"), sessionId, intentId);
    if (p == null) {
      String userId = resolveUser(uow, object);
      if (userId == null) {
        log.warn(
            "paid {} has no user (metadata.user_id or known customer); nothing credited",
            StripeJson.string(object, "id"));
        return null;
      }
      Long amount = StripeJson.longValue(object, sessionId != null ? "amount_total" : "amount");
      String currency = StripeJson.string(object, "currency");
      Long creditCount = StripeJson.longValue(object, "metadata.credits");
      long paid = amount == null ? 0 : amount;
      String id = StripeJson.string(object, "metadata.payment_id");
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
        uow.mapper(PaymentMapper.class).update(linked);
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
    uow.mapper(PaymentMapper.class).update(after);
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

  private static String resolveUser(UnitOfWork uow, JsonObject object) {
    String userId = StripeJson.declaredUserId(object);
    String customer = StripeJson.id(object, "customer");
    if (userId == null && customer != null) {
      userId = uow.mapper(CustomerMapper.class).findUserByCustomer(customer);
    }
    return userId;
  }
}
