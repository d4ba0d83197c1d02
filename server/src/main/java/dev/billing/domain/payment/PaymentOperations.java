package dev.billing.domain.payment;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import java.util.List;

/**
 * Payments for callers: listing, reading, and refunds through Stripe. A refund changes nothing here
 * by itself: Stripe confirms it with charge.refunded, and that event claws back the credits.
 */
public final class PaymentOperations {
  private final Transactions tx;
  private final StripeGateway stripe;
  private final AuditLog audit;

  public PaymentOperations(Transactions tx, StripeGateway stripe, AuditLog audit) {
    this.tx = tx;
    this.stripe = stripe;
    this.audit = audit;
  }

  public List<PaymentRow> list(String userId, int offset, int limit) {
    return tx.read(s -> s.store(PaymentStore.class).findByUser(userId, offset, limit));
  }

  public PaymentRow get(String paymentId) {
    PaymentRow p = tx.read(s -> s.store(PaymentStore.class).find(paymentId));
    if (p == null) {
      throw new BillingException.NotFound("PAYMENT_NOT_FOUND", "no payment " + paymentId);
    }
    return p;
  }

  /** A requested refund: Stripe's refund id and the payment as it stands. */
  public record Refund(String refundId, PaymentRow payment) {}

  /**
   * Refunds {@code amount} (null = all that is left) of a successful payment through Stripe. The
   * key's first outcome is its outcome: a retry answers the same refund, or the same refusal.
   */
  public Refund refund(
      String paymentId, Long amount, String idempotencyKey, String reason, Cause cause) {
    PaymentRow p = get(paymentId);
    String refundId =
        Idempotency.once(
            tx,
            "payment.refund",
            paymentId,
            idempotencyKey,
            Idempotency.fingerprint(paymentId, amount),
            () -> requestRefund(p, amount, idempotencyKey),
            (uow, id) ->
                audit.record(
                    uow,
                    p.userId(),
                    cause,
                    "payment",
                    paymentId,
                    "payment.refund_requested",
                    null,
                    "refund="
                        + id
                        + " amount="
                        + (amount == null ? p.amount() - p.amountRefunded() : amount)
                        + (reason == null || reason.isEmpty() ? "" : " reason=" + reason)));
    return new Refund(refundId, get(paymentId));
  }

  private String requestRefund(PaymentRow p, Long amount, String idempotencyKey) {
    String paymentId = p.id();
    if (!p.isSettledSuccessfully() || p.paymentIntentId() == null) {
      throw new BillingException.FailedPrecondition(
          "NOT_REFUNDABLE",
          "payment " + paymentId + " is " + p.status() + " and cannot be refunded");
    }
    long left = p.amount() - p.amountRefunded();
    if (left <= 0) {
      throw new BillingException.FailedPrecondition(
          "ALREADY_REFUNDED", "payment " + paymentId + " is fully refunded");
    }
    if (amount != null && (amount <= 0 || amount > left)) {
      throw BillingException.InvalidArgument.of(
          "amount_minor", "must be between 1 and " + left + " (what is left to refund)");
    }
    return stripe.createRefund(
        p.paymentIntentId(), amount, "refund:" + paymentId + ":" + idempotencyKey);
  }
}
