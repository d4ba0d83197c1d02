package dev.billing.payment;

import com.google.gson.JsonObject;
import dev.billing.audit.AuditLog;
import dev.billing.audit.Cause;
import dev.billing.credits.CreditService;
import dev.billing.customer.CustomerMapper;
import dev.billing.db.UnitOfWork;
import dev.billing.stripe.StripeJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Payments as Stripe reports them. A credit purchase is credited exactly once, whichever of
 * checkout.session.completed and payment_intent.succeeded arrives first: the ledger's idempotency
 * key is the payment id. Lock order: the payment row, then the user.
 */
public final class PaymentService {
  private static final Logger log = LoggerFactory.getLogger(PaymentService.class);

  private final CreditService credits;
  private final AuditLog audit;

  public PaymentService(CreditService credits, AuditLog audit) {
    this.credits = credits;
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

  /** checkout.session.completed in payment mode: the purchase is paid. */
  public void checkoutCompleted(UnitOfWork uow, JsonObject session, Cause cause) {
    String paymentStatus = StripeJson.string(session, "payment_status");
    if (!"payment".equals(StripeJson.string(session, "mode")) || !"paid".equals(paymentStatus)) {
      return;
    }
    PaymentRow p =
        findOrCreate(
            uow,
            session,
            StripeJson.string(session, "id"),
            StripeJson.id(session, "payment_intent"));
    if (p == null) {
      return;
    }
    Long total = StripeJson.longValue(session, "amount_total");
    succeed(
        uow,
        p,
        total == null ? p.amount() : total,
        StripeJson.id(session, "payment_intent"),
        null,
        cause);
  }

  /** payment_intent.succeeded: completes a credit purchase (ignored for other payments). */
  public void paymentIntentSucceeded(UnitOfWork uow, JsonObject intent, Cause cause) {
    if (StripeJson.string(intent, "metadata.payment_id") == null) {
      return;
    }
    PaymentRow p = findOrCreate(uow, intent, null, StripeJson.string(intent, "id"));
    if (p == null) {
      return;
    }
    Long received = StripeJson.longValue(intent, "amount_received");
    succeed(
        uow,
        p,
        received == null ? p.amount() : received,
        StripeJson.string(intent, "id"),
        StripeJson.id(intent, "latest_charge"),
        cause);
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
      update(uow, p, withStatus(p, PaymentRow.EXPIRED, p.failureCode()), cause);
    }
  }

  private void settleUnsuccessful(
      UnitOfWork uow, JsonObject intent, String status, String code, Cause cause) {
    PaymentMapper payments = uow.mapper(PaymentMapper.class);
    String intentId = StripeJson.string(intent, "id");
    PaymentRow p =
        locate(payments, StripeJson.string(intent, "metadata.payment_id"), null, intentId);
    if (p == null) {
      // A subscription invoice's payment (no payment of ours behind it): record it for the user.
      String userId = resolveUser(uow, intent);
      if (userId == null) {
        log.warn("payment intent {} failed for an unknown customer; nothing recorded", intentId);
        return;
      }
      Long amount = StripeJson.longValue(intent, "amount");
      String currency = StripeJson.string(intent, "currency");
      PaymentRow row =
          new PaymentRow(
              paymentId("intent", intentId),
              userId,
              PaymentRow.KIND_SUBSCRIPTION,
              status,
              amount == null ? 0 : amount,
              0,
              currency == null ? "usd" : currency,
              0,
              null,
              intentId,
              StripeJson.id(intent, "latest_charge"),
              StripeJson.id(intent, "invoice"),
              null,
              code);
      if (payments.insertIfAbsent(row) > 0) {
        audit.record(uow, userId, cause, "payment", row.id(), "payment." + status, null, status);
      }
      return;
    }
    p = payments.lock(p.id());
    if (PaymentRow.SUCCEEDED.equals(p.status()) || p.status().contains("refunded")) {
      return; // a later success already settled it
    }
    PaymentRow updated =
        new PaymentRow(
            p.id(),
            p.userId(),
            p.kind(),
            status,
            p.amount(),
            p.amountRefunded(),
            p.currency(),
            p.credits(),
            p.checkoutSessionId(),
            intentId,
            p.chargeId(),
            p.invoiceId(),
            p.idempotencyKey(),
            code);
    update(uow, p, updated, cause);
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

  /** The payment behind a session or intent, locked; created from the event if we never saw it. */
  private PaymentRow findOrCreate(
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
      Long credits = StripeJson.longValue(object, "metadata.credits");
      long paid = amount == null ? 0 : amount;
      String id = StripeJson.string(object, "metadata.payment_id");
      if (id == null) {
        id = paymentId("stripe", sessionId != null ? sessionId : intentId);
      }
      payments.insertIfAbsent(
          new PaymentRow(
              id,
              userId,
              PaymentRow.KIND_CREDITS,
              PaymentRow.PENDING,
              paid,
              0,
              currency == null ? "usd" : currency,
              credits == null ? paid : credits,
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
    if (!PaymentRow.PENDING.equals(p.status())
        && !PaymentRow.FAILED.equals(p.status())
        && !PaymentRow.EXPIRED.equals(p.status())) {
      if (p.chargeId() == null && chargeId != null) {
        uow.mapper(PaymentMapper.class).update(withIds(p, intentId, chargeId));
      }
      return;
    }
    PaymentRow done =
        new PaymentRow(
            p.id(),
            p.userId(),
            p.kind(),
            PaymentRow.SUCCEEDED,
            paid,
            p.amountRefunded(),
            p.currency(),
            p.credits(),
            p.checkoutSessionId(),
            intentId != null ? intentId : p.paymentIntentId(),
            chargeId != null ? chargeId : p.chargeId(),
            p.invoiceId(),
            p.idempotencyKey(),
            null);
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
  }

  private void update(UnitOfWork uow, PaymentRow before, PaymentRow after, Cause cause) {
    uow.mapper(PaymentMapper.class).update(after);
    if (!before.status().equals(after.status())) {
      audit.record(
          uow,
          after.userId(),
          cause,
          "payment",
          after.id(),
          "payment." + after.status(),
          before.status(),
          after.status());
    }
  }

  private static PaymentRow withStatus(PaymentRow p, String status, String failureCode) {
    return new PaymentRow(
        p.id(),
        p.userId(),
        p.kind(),
        status,
        p.amount(),
        p.amountRefunded(),
        p.currency(),
        p.credits(),
        p.checkoutSessionId(),
        p.paymentIntentId(),
        p.chargeId(),
        p.invoiceId(),
        p.idempotencyKey(),
        failureCode);
  }

  private static PaymentRow withIds(PaymentRow p, String intentId, String chargeId) {
    return new PaymentRow(
        p.id(),
        p.userId(),
        p.kind(),
        p.status(),
        p.amount(),
        p.amountRefunded(),
        p.currency(),
        p.credits(),
        p.checkoutSessionId(),
        intentId != null ? intentId : p.paymentIntentId(),
        chargeId,
        p.invoiceId(),
        p.idempotencyKey(),
        p.failureCode());
  }

  private static String resolveUser(UnitOfWork uow, JsonObject object) {
    String userId = StripeJson.metadataUserId(object);
    if (userId == null) {
      userId = StripeJson.string(object, "client_reference_id");
    }
    String customer = StripeJson.id(object, "customer");
    if (userId == null && customer != null) {
      userId = uow.mapper(CustomerMapper.class).findUserByCustomer(customer);
    }
    return userId;
  }
}
