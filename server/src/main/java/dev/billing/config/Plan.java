package dev.billing.config;

import java.util.List;
import java.util.Map;

/**
 * A subscription plan of the catalog. {@code rank} orders tiers: with several subscriptions the
 * highest rank wins. {@code priceId} is null for the free plan.
 *
 * @param limits every limit as a number, as {@code Entitlement.limits} reports them: the metrics'
 *     allowances, plus any legacy name a metric is also reported under
 * @param metrics the metered features, by name
 * @param amountMinor price per interval in minor units, for display and for the local emulator
 */
public record Plan(
    String name,
    String priceId,
    int rank,
    List<String> features,
    Map<String, Long> limits,
    Map<String, Metric> metrics,
    long amountMinor,
    String currency,
    String interval) {

  public Plan {
    features = List.copyOf(features.stream().sorted().toList());
    limits = Map.copyOf(limits);
    metrics = Map.copyOf(metrics);
  }

  /** Whether any metric of the plan counts per period (and so starts again at a renewal). */
  public boolean hasPeriodMetrics() {
    return metrics.values().stream().anyMatch(m -> m.reset() == Metric.Reset.PERIOD);
  }

  public boolean isFree() {
    return priceId == null;
  }
}
