package dev.billing.domain.usage;

/**
 * What a usage request answered.
 *
 * @param resetsAt when the period's counter starts again (epoch seconds), null for a running
 *     allowance
 * @param reason why not allowed, null when allowed
 */
public record UsageResult(
    boolean allowed,
    long used,
    long limit,
    Long resetsAt,
    String reason,
    boolean replayed,
    long overage,
    long creditsDebited) {

  public long remaining() {
    return Math.max(0, limit - used);
  }
}
