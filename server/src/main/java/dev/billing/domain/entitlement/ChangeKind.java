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
  CREDITS_CHANGED;

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
