package dev.billing.domain.payment;

/**
 * A payment in minor units: a credit purchase or a subscription invoice. Times are filled on read.
 */
public record PaymentRow(
    String id,
    String userId,
    String kind,
    String status,
    long amount,
    long amountRefunded,
    String currency,
    long credits,
    String checkoutSessionId,
    String paymentIntentId,
    String chargeId,
    String invoiceId,
    String idempotencyKey,
    String failureCode,
    long createdAtMillis,
    long updatedAtMillis) {

  /** A new row (times are set by the database). */
  public static PaymentRow create(
      String id,
      String userId,
      String kind,
      String status,
      long amount,
      String currency,
      long credits,
      String checkoutSessionId,
      String paymentIntentId,
      String chargeId,
      String invoiceId,
      String idempotencyKey,
      String failureCode) {
    return new PaymentRow(
        id,
        userId,
        kind,
        status,
        amount,
        0,
        currency,
        credits,
        checkoutSessionId,
        paymentIntentId,
        chargeId,
        invoiceId,
        idempotencyKey,
        failureCode,
        0,
        0);
  }

  public PaymentRow withStatus(String newStatus, String newFailureCode) {
    return new PaymentRow(
        id,
        userId,
        kind,
        newStatus,
        amount,
        amountRefunded,
        currency,
        credits,
        checkoutSessionId,
        paymentIntentId,
        chargeId,
        invoiceId,
        idempotencyKey,
        newFailureCode,
        createdAtMillis,
        updatedAtMillis);
  }

  /** This row with Stripe ids filled in where they were missing. */
  public PaymentRow withStripeIds(String intent, String charge, String invoice) {
    return new PaymentRow(
        id,
        userId,
        kind,
        status,
        amount,
        amountRefunded,
        currency,
        credits,
        checkoutSessionId,
        intent != null ? intent : paymentIntentId,
        charge != null ? charge : chargeId,
        invoice != null ? invoice : invoiceId,
        idempotencyKey,
        failureCode,
        createdAtMillis,
        updatedAtMillis);
  }

  public PaymentRow withAmounts(long newAmount, long newRefunded) {
    return new PaymentRow(
        id,
        userId,
        kind,
        status,
        newAmount,
        newRefunded,
        currency,
        credits,
        checkoutSessionId,
        paymentIntentId,
        chargeId,
        invoiceId,
        idempotencyKey,
        failureCode,
        createdAtMillis,
        updatedAtMillis);
  }

  public boolean isSettledSuccessfully() {
    return SUCCEEDED.equals(status) || REFUNDED.equals(status) || PARTIALLY_REFUNDED.equals(status);
  }

  public static final String KIND_CREDITS = "credits";
  public static final String KIND_SUBSCRIPTION = "subscription";

  public static final String PENDING = "pending";
  public static final String SUCCEEDED = "succeeded";
  public static final String FAILED = "failed";
  public static final String CANCELED = "canceled";
  public static final String EXPIRED = "expired";
  public static final String REFUNDED = "refunded";
  public static final String PARTIALLY_REFUNDED = "partially_refunded";
}
