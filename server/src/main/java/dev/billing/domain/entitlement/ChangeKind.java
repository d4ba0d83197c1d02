package dev.billing.domain.entitlement;

/** What kind of change a user's entitlement went through (the stream's {@code kind}). */
public enum ChangeKind {
  TRIAL_STARTED,
  SUBSCRIPTION_STARTED,
  UPGRADED,
  DOWNGRADED,
  SUBSCRIPTION_UPDATED,
  SUBSCRIPTION_ENDED,
  PAYMENT_FAILED,
  PAYMENT_RECOVERED,
  CREDITS_CHANGED,
  /** Usage of a metric crossed 80% of its allowance. */
  USAGE_THRESHOLD_REACHED,
  /** Usage of a metric reached its allowance. */
  USAGE_LIMIT_REACHED,
  /** A new billing period started: per-period counters start from zero. */
  USAGE_PERIOD_RESET,
  /**
   * A usage record that crossed no threshold: in the change log so every replica's counters stay
   * exact, but never sent on the stream (one change per record would drown it).
   */
  USAGE_RECORDED;

  /** Whether the stream sends changes of this kind. */
  public boolean streamed() {
    return this != USAGE_RECORDED;
  }

  private static final String STORED_PREFIX = "CHANGE_KIND_";

  /** The name change_log stores (the API enum's name, as rows have always held). */
  public String stored() {
    return STORED_PREFIX + name();
  }

  /** The kind a change_log row names. */
  public static ChangeKind ofStored(String stored) {
    return valueOf(
        stored.startsWith(STORED_PREFIX) ? stored.substring(STORED_PREFIX.length()) : stored);
  }
}
