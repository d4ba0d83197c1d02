package dev.billing.domain.entitlement;

import java.util.HashMap;
import java.util.Map;

/**
 * A Stripe subscription status, plus NONE for a user without subscriptions. {@code lifecycle}
 * orders statuses along a subscription's life so that, of two snapshots taken in the same second,
 * the later stage wins; terminal statuses never go back.
 */
public enum StripeStatus {
  NONE("none", 0),
  INCOMPLETE("incomplete", 1),
  TRIALING("trialing", 2),
  ACTIVE("active", 3),
  PAST_DUE("past_due", 4),
  PAUSED("paused", 4),
  UNPAID("unpaid", 5),
  INCOMPLETE_EXPIRED("incomplete_expired", 9),
  CANCELED("canceled", 9);

  private static final Map<String, StripeStatus> BY_NAME = new HashMap<>();

  static {
    for (StripeStatus s : values()) {
      BY_NAME.put(s.stripeName, s);
    }
  }

  private final String stripeName;
  private final int lifecycle;

  StripeStatus(String stripeName, int lifecycle) {
    this.stripeName = stripeName;
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

  public String stripeName() {
    return stripeName;
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
