package dev.billing.domain.subscription;

import dev.billing.proto.v1.SubscriptionStatus;
import java.util.HashMap;
import java.util.Map;

/**
 * A Stripe subscription status, plus NONE for a user without subscriptions. {@code lifecycle}
 * orders statuses along a subscription's life so that, of two snapshots taken in the same second,
 * the later stage wins; terminal statuses never go back.
 */
public enum StripeStatus {
  NONE("none", SubscriptionStatus.SUBSCRIPTION_STATUS_NONE, 0),
  INCOMPLETE("incomplete", SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE, 1),
  TRIALING("trialing", SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING, 2),
  ACTIVE("active", SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE, 3),
  PAST_DUE("past_due", SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE, 4),
  PAUSED("paused", SubscriptionStatus.SUBSCRIPTION_STATUS_PAUSED, 4),
  UNPAID("unpaid", SubscriptionStatus.SUBSCRIPTION_STATUS_UNPAID, 5),
  INCOMPLETE_EXPIRED(
      "incomplete_expired", SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE_EXPIRED, 9),
  CANCELED("canceled", SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED, 9);

  private static final Map<String, StripeStatus> BY_NAME = new HashMap<>();

  static {
    for (StripeStatus s : values()) {
      BY_NAME.put(s.stripeName, s);
    }
  }

  private final String stripeName;
  private final SubscriptionStatus proto;
  private final int lifecycle;

  StripeStatus(String stripeName, SubscriptionStatus proto, int lifecycle) {
    this.stripeName = stripeName;
    this.proto = proto;
    this.lifecycle = lifecycle;
  }

  /** The status for Stripe's name of it; null for a name Stripe may add in the future. */
  public static StripeStatus fromStripe(String name) {
    return name == null ? null : BY_NAME.get(name);
  }

  /** The status for a stored name; NONE for anything unknown. */
  public static StripeStatus parseStored(String name) {
    StripeStatus s = fromStripe(name);
    return s == null ? NONE : s;
  }

  /** The status a proto value names; NONE for UNSPECIFIED. */
  public static StripeStatus fromProto(SubscriptionStatus proto) {
    for (StripeStatus s : values()) {
      if (s.proto == proto) {
        return s;
      }
    }
    return NONE;
  }

  public String stripeName() {
    return stripeName;
  }

  public SubscriptionStatus proto() {
    return proto;
  }

  public int lifecycle() {
    return lifecycle;
  }

  public boolean isTerminal() {
    return lifecycle == 9;
  }

  /** Statuses that grant the plan's tier (past_due only during the grace period). */
  public boolean grantsAccess() {
    return this == ACTIVE || this == TRIALING;
  }

  /** Statuses that mean the user should fix their payment method. */
  public boolean isPaymentProblem() {
    return this == PAST_DUE || this == UNPAID;
  }
}
