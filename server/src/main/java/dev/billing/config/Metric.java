package dev.billing.config;

/**
 * A metered feature of a plan: how much of it a user may use.
 *
 * @param name what it counts, e.g. {@code api_calls}
 * @param limit the allowance
 * @param reset {@link Reset#PERIOD}: a per-period allowance that resets at the user's period
 *     boundary; {@link Reset#NEVER}: a running allowance (seats, projects) that goes up and down
 * @param overageCredits credits per unit past the allowance, or null when there is no overage
 * @param meterEventName the Stripe meter usage is reported to, or null
 * @param meterUnitAmount what the local Stripe emulator bills per metered unit (minor units), or
 *     null; real Stripe bills what the subscription's metered price says
 */
public record Metric(
    String name,
    long limit,
    Reset reset,
    Long overageCredits,
    String meterEventName,
    Long meterUnitAmount) {

  /** When an allowance starts again. */
  public enum Reset {
    PERIOD,
    NEVER
  }

  public Metric {
    if (limit < 0) {
      throw new ConfigException("catalog: metric " + name + " has a negative limit");
    }
    if (overageCredits != null && overageCredits <= 0) {
      throw new ConfigException("catalog: metric " + name + " has a non-positive overage_credits");
    }
    if (meterEventName != null && (meterEventName.isBlank() || meterEventName.length() > 100)) {
      throw new ConfigException(
          "catalog: metric "
              + name
              + " has a meter_event_name that is empty or over 100 characters");
    }
  }

  /** A per-period allowance with no overage and no meter. */
  public static Metric perPeriod(String name, long limit) {
    return new Metric(name, limit, Reset.PERIOD, null, null, null);
  }
}
