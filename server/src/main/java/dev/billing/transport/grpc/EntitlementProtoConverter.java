package dev.billing.transport.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import dev.billing.domain.change.ChangeLog;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.StripeStatus;
import dev.billing.domain.entitlement.UsageCount;
import dev.billing.domain.usage.UsageService;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.MetricUsage;
import dev.billing.proto.v1.PendingPlanChange;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.proto.v1.SubscriptionStatus;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Entitlements and their changes to protos (features and limits from the catalog), and the
 * change_log's stored form of an entitlement, which is the API's own {@code Entitlement} message.
 */
public final class EntitlementProtoConverter implements ChangeLog.EntitlementCodec {
  private static final String STATUS_PREFIX = "SUBSCRIPTION_STATUS_";
  private static final Map<StripeStatus, SubscriptionStatus> STATUS =
      new EnumMap<>(StripeStatus.class);
  private static final Map<dev.billing.domain.entitlement.ChangeKind, ChangeKind> KIND =
      new EnumMap<>(dev.billing.domain.entitlement.ChangeKind.class);

  static {
    for (StripeStatus s : StripeStatus.values()) {
      STATUS.put(s, SubscriptionStatus.valueOf(STATUS_PREFIX + s.name()));
    }
    for (var k : dev.billing.domain.entitlement.ChangeKind.values()) {
      if (k.streamed()) {
        KIND.put(k, ChangeKind.valueOf(k.stored()));
      }
    }
  }

  private final Catalog catalog;
  private final UsageService usage;

  public EntitlementProtoConverter(Catalog catalog, UsageService usage) {
    this.catalog = catalog;
    this.usage = usage;
  }

  /** A Stripe status as the API's enum. */
  public static SubscriptionStatus status(StripeStatus status) {
    return STATUS.get(status);
  }

  /** The API's enum as a Stripe status; NONE for UNSPECIFIED. */
  public static StripeStatus status(SubscriptionStatus proto) {
    String name = proto.name();
    if (name.startsWith(STATUS_PREFIX)) {
      try {
        return StripeStatus.valueOf(name.substring(STATUS_PREFIX.length()));
      } catch (IllegalArgumentException e) {
        return StripeStatus.NONE;
      }
    }
    return StripeStatus.NONE;
  }

  public Entitlement toProto(EntitlementRow row) {
    return builder(row).build();
  }

  /** The entitlement with the usage of every metric of its plan. */
  public Entitlement toProto(EntitlementRow row, List<UsageService.Summary> usage) {
    Entitlement.Builder b = builder(row);
    for (UsageService.Summary s : usage) {
      b.addUsage(toProto(s));
    }
    return b.build();
  }

  public static MetricUsage toProto(UsageService.Summary s) {
    MetricUsage.Builder u =
        MetricUsage.newBuilder()
            .setMetric(s.metric())
            .setUsed(s.used())
            .setLimit(s.limit())
            .setRemaining(s.remaining());
    if (s.resetsAt() != null) {
      u.setResetsAt(seconds(s.resetsAt()));
    }
    return u.build();
  }

  private Entitlement.Builder builder(EntitlementRow row) {
    Plan plan = catalog.planOrFree(row.tier());
    Entitlement.Builder b =
        Entitlement.newBuilder()
            .setUserId(row.userId())
            .setTier(plan.name())
            .setStatus(status(StripeStatus.parseStored(row.status())))
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
    if (row.pendingPlan() != null) {
      PendingPlanChange.Builder pending = PendingPlanChange.newBuilder().setPlan(row.pendingPlan());
      if (row.pendingEffectiveAt() != null) {
        pending.setEffectiveAt(seconds(row.pendingEffectiveAt()));
      }
      b.setPendingPlanChange(pending);
    }
    return b;
  }

  /** A committed change as the stream sends it: the whole entitlement after it, usage included. */
  public SubscriptionChange toProto(Change change) {
    SubscriptionChange.Builder b =
        SubscriptionChange.newBuilder()
            .setSeq(change.seq())
            .setUserId(change.userId())
            .setKind(KIND.get(change.kind()))
            .setEntitlement(
                toProto(
                    change.entitlement(), usage.summaries(change.entitlement(), change.counters())))
            .setPreviousTier(change.previousTier())
            .setPreviousStatus(status(StripeStatus.parseStored(change.previousStatus())))
            .setOccurredAt(
                Timestamp.newBuilder()
                    .setSeconds(Math.floorDiv(change.occurredAtMillis(), 1000))
                    .setNanos((int) Math.floorMod(change.occurredAtMillis(), 1000) * 1_000_000));
    if (change.stripeEventId() != null) {
      b.setStripeEventId(change.stripeEventId());
    }
    if (change.usageMetric() != null) {
      b.setUsageMetric(change.usageMetric());
    }
    return b.build();
  }

  /**
   * The stored form: the entitlement with the usage of its plan's metrics, as of the change (a
   * counter of an earlier period is stored as 0 for the current one).
   */
  @Override
  public byte[] encode(EntitlementRow entitlement, Map<String, UsageCount> counters) {
    return toProto(entitlement, usage.summaries(entitlement, counters)).toByteArray();
  }

  @Override
  public ChangeLog.Decoded decode(byte[] stored) {
    Entitlement e;
    try {
      e = Entitlement.parseFrom(stored);
    } catch (InvalidProtocolBufferException ex) {
      throw new IllegalStateException("a change_log row holds a corrupt entitlement", ex);
    }
    EntitlementRow row =
        new EntitlementRow(
            e.getUserId(),
            e.getTier(),
            status(e.getStatus()).stripeName(),
            e.getSubscriptionId().isEmpty() ? null : e.getSubscriptionId(),
            e.hasCurrentPeriodEnd() ? e.getCurrentPeriodEnd().getSeconds() : null,
            e.hasTrialEnd() ? e.getTrialEnd().getSeconds() : null,
            e.getCancelAtPeriodEnd(),
            e.getPaymentProblem(),
            e.getVersion(),
            e.getCreditBalance(),
            e.hasPendingPlanChange() ? e.getPendingPlanChange().getPlan() : null,
            e.hasPendingPlanChange() && e.getPendingPlanChange().hasEffectiveAt()
                ? e.getPendingPlanChange().getEffectiveAt().getSeconds()
                : null);
    Map<String, UsageCount> counters = new HashMap<>();
    for (MetricUsage u : e.getUsageList()) {
      UsageCount count =
          new UsageCount(
              u.getMetric(),
              u.hasResetsAt() ? u.getResetsAt().getSeconds() : 0,
              u.getUsed(),
              e.getVersion());
      counters.put(count.key(), count);
    }
    return new ChangeLog.Decoded(row, counters);
  }

  private static Timestamp seconds(long epochSeconds) {
    return Timestamp.newBuilder().setSeconds(epochSeconds).build();
  }
}
