package dev.billing.transport.grpc;

import com.google.protobuf.Timestamp;
import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.subscription.StripeStatus;
import dev.billing.proto.v1.Entitlement;

/** Stored entitlement rows to the proto snapshot, with features and limits from the catalog. */
public final class EntitlementProtoConverter {
  private final Catalog catalog;

  public EntitlementProtoConverter(Catalog catalog) {
    this.catalog = catalog;
  }

  public Entitlement toProto(EntitlementRow row) {
    Plan plan = catalog.planOrFree(row.tier());
    Entitlement.Builder b =
        Entitlement.newBuilder()
            .setUserId(row.userId())
            .setTier(plan.name())
            .setStatus(StripeStatus.parseStored(row.status()).proto())
            .addAllFeatures(plan.features())
            .putAllLimits(plan.limits())
            .setCreditBalance(row.creditBalance())
            .setCancelAtPeriodEnd(row.cancelAtPeriodEnd())
            .setPaymentProblem(row.paymentProblem())
            .setVersion(row.version());
    if (row.currentPeriodEnd() != null) {
      b.setCurrentPeriodEnd(seconds(row.currentPeriodEnd()));
    }
    if (row.trialEnd() != null) {
      b.setTrialEnd(seconds(row.trialEnd()));
    }
    if (row.subscriptionId() != null) {
      b.setSubscriptionId(row.subscriptionId());
    }
    return b.build();
  }

  private static Timestamp seconds(long epochSeconds) {
    return Timestamp.newBuilder().setSeconds(epochSeconds).build();
  }
}
