package dev.billing.domain.usage;

/**
 * A usage record waiting in (or gone through) the meter outbox.
 *
 * @param eventTs the record's time, the meter event's {@code timestamp} (epoch seconds)
 * @param status {@code pending}, {@code sent} or {@code dead}
 */
public record MeterEventRow(
    long id,
    String userId,
    String metric,
    String eventName,
    long value,
    String identifier,
    long eventTs,
    String status,
    int attempts,
    long nextAttemptMs,
    String lastError) {

  public static final String PENDING = "pending";
  public static final String SENT = "sent";
  public static final String DEAD = "dead";
}
