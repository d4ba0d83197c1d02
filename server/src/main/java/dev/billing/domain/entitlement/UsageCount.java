package dev.billing.domain.entitlement;

/**
 * A metric's counter as a usage record left it: what a change carries so every replica's snapshot
 * of the user counts exactly what was committed.
 *
 * @param periodKey when the counted period ends (epoch seconds), 0 for a running allowance
 * @param version the entitlement version of the change that wrote it (a newer one replaces it)
 */
public record UsageCount(String metric, long periodKey, long used, long version) {

  /** How counters are keyed in the maps that hold a user's counters: metric and period. */
  public String key() {
    return key(metric, periodKey);
  }

  public static String key(String metric, long periodKey) {
    return metric + '@' + periodKey;
  }
}
