package dev.billing.transport.grpc;

import com.google.protobuf.Timestamp;
import dev.billing.domain.credits.LedgerEntry;
import dev.billing.proto.v1.CreditTransaction;

/** Ledger rows to proto. */
public final class CreditProtoConverter {
  private CreditProtoConverter() {}

  public static CreditTransaction toProto(LedgerEntry e) {
    CreditTransaction.Builder b =
        CreditTransaction.newBuilder()
            .setTransactionId(e.transactionId())
            .setAmount(e.delta())
            .setBalanceAfter(e.balanceAfter())
            .setKind(e.kind())
            .setCreateTime(millis(e.createdAtMillis()));
    if (e.reason() != null) {
      b.setReason(e.reason());
    }
    if (e.paymentId() != null) {
      b.setPaymentId(e.paymentId());
    }
    if (e.stripeEventId() != null) {
      b.setStripeEventId(e.stripeEventId());
    }
    if (e.actor() != null) {
      b.setActor(e.actor());
    }
    return b.build();
  }

  /** A protobuf Timestamp from epoch milliseconds. */
  public static Timestamp millis(long epochMillis) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(epochMillis, 1000))
        .setNanos((int) Math.floorMod(epochMillis, 1000) * 1_000_000)
        .build();
  }
}
