package dev.billing.domain.archfixture;

import dev.billing.proto.v1.SubscriptionStatus;

/**
 * A deliberately wrong "domain" class for {@code ArchitectureTest}: it uses a generated proto type,
 * which the domain rule must report.
 */
public final class ProtoInTheDomain {
  private ProtoInTheDomain() {}

  public static SubscriptionStatus leak() {
    return SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
  }
}
