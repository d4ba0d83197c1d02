package dev.billing.domain.inbox;

import java.util.List;

/** stripe_events: the webhook inbox. */
public interface InboxStore {
  /** Stores the event unless its id is already there; returns the rows inserted (0 = duplicate). */
  int insertIfAbsent(
      InboundEvent e, String status, int attempts, String lastError, Long nextAttemptAt);

  /**
   * Stores the event as processed unless its id is already there; returns the rows inserted (0 =
   * duplicate). A group's go as one INSERT ({@code ReadBatch.countAll}).
   */
  int insertProcessedIfAbsent(InboundEvent e);

  StoredEvent find(String id);

  /** A pending event, locked; null when another replica holds it or it is no longer pending. */
  StoredEvent lockPending(String id);

  /** Pending events whose next attempt is due, oldest first. */
  List<String> findDue(long nowMillis, int limit);

  void markProcessed(String id);

  void markFailed(String id, String status, int attempts, String lastError, Long nextAttemptAt);

  /** Makes a dead (or pending) event due again now, with a fresh attempt budget. */
  int requeue(String id, long nowMillis);

  /** Events with this status, oldest first, without their payloads. */
  List<StoredEvent> findByStatus(String status, int offset, int limit);

  /** Those of these event ids that are stored. */
  List<String> findExisting(List<String> ids);

  /** The newest stored event's {@code created}, or null when none is stored. */
  Long newestCreated();
}
