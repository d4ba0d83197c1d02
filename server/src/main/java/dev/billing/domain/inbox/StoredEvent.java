package dev.billing.domain.inbox;

/** An inbox row: the raw event and where its processing stands. */
public record StoredEvent(
    String id,
    String type,
    long created,
    String payload,
    String status,
    int attempts,
    String lastError,
    long receivedAtMillis) {

  public static final String PROCESSED = "processed";
  public static final String PENDING = "pending";
  public static final String DEAD = "dead";
}
