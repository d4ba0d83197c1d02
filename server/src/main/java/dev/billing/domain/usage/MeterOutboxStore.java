package dev.billing.domain.usage;

import java.util.List;

/** meter_outbox. */
public interface MeterOutboxStore {
  void insert(MeterEventRow row);

  /**
   * Pending rows due at {@code nowMs}, oldest first, locked; rows another replica holds skipped.
   */
  List<MeterEventRow> lockDue(long nowMs, int limit);

  /** Holds rows for {@code untilMs} while they are sent (another replica takes them after). */
  void lease(List<Long> ids, long untilMs);

  void markSent(long id, long atMs);

  void markRetry(long id, int attempts, long nextAttemptMs, String error);

  void markDead(long id, int attempts, String error);

  /** The oldest pending row's {@code event_ts}, or null when nothing is pending. */
  Long oldestPendingTs();

  long countByStatus(String status);

  /** Rows with this status, newest first, with ids below {@code beforeId}. */
  List<MeterEventRow> findByStatus(String status, long beforeId, int limit);
}
