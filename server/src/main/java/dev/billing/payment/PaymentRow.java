package dev.billing.payment;

/** A payment in minor units: a credit purchase or a subscription invoice. */
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
    String failureCode) {

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
