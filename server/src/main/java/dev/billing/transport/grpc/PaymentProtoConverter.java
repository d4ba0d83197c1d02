package dev.billing.transport.grpc;

import dev.billing.domain.payment.PaymentRow;
import dev.billing.proto.v1.Money;
import dev.billing.proto.v1.Payment;
import dev.billing.proto.v1.PaymentKind;
import dev.billing.proto.v1.PaymentStatus;

/** Payments to proto. */
public final class PaymentProtoConverter {
  private PaymentProtoConverter() {}

  public static Payment toProto(PaymentRow p) {
    Payment.Builder b =
        Payment.newBuilder()
            .setPaymentId(p.id())
            .setUserId(p.userId())
            .setKind(
                PaymentRow.KIND_CREDITS.equals(p.kind())
                    ? PaymentKind.PAYMENT_KIND_CREDITS
                    : PaymentKind.PAYMENT_KIND_SUBSCRIPTION)
            .setStatus(status(p.status()))
            .setAmount(Money.newBuilder().setAmountMinor(p.amount()).setCurrency(p.currency()))
            .setAmountRefunded(
                Money.newBuilder().setAmountMinor(p.amountRefunded()).setCurrency(p.currency()))
            .setCredits(p.credits())
            .setCreateTime(CreditProtoConverter.millis(p.createdAtMillis()))
            .setUpdateTime(CreditProtoConverter.millis(p.updatedAtMillis()));
    if (p.checkoutSessionId() != null) {
      b.setCheckoutSessionId(p.checkoutSessionId());
    }
    if (p.paymentIntentId() != null) {
      b.setPaymentIntentId(p.paymentIntentId());
    }
    if (p.failureCode() != null) {
      b.setFailureCode(p.failureCode());
    }
    return b.build();
  }

  static PaymentStatus status(String s) {
    return switch (s) {
      case PaymentRow.PENDING -> PaymentStatus.PAYMENT_STATUS_PENDING;
      case PaymentRow.SUCCEEDED -> PaymentStatus.PAYMENT_STATUS_SUCCEEDED;
      case PaymentRow.FAILED -> PaymentStatus.PAYMENT_STATUS_FAILED;
      case PaymentRow.CANCELED -> PaymentStatus.PAYMENT_STATUS_CANCELED;
      case PaymentRow.EXPIRED -> PaymentStatus.PAYMENT_STATUS_EXPIRED;
      case PaymentRow.PARTIALLY_REFUNDED -> PaymentStatus.PAYMENT_STATUS_PARTIALLY_REFUNDED;
      case PaymentRow.REFUNDED -> PaymentStatus.PAYMENT_STATUS_REFUNDED;
      default -> PaymentStatus.PAYMENT_STATUS_UNSPECIFIED;
    };
  }
}
