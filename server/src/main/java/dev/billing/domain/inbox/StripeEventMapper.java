package dev.billing.domain.inbox;

import java.util.List;
import org.apache.ibatis.annotations.Param;

/** stripe_events: the webhook inbox. */
public interface StripeEventMapper {
  /** Stores the event unless its id is already there; returns the rows inserted (0 = duplicate). */
  int insertIfAbsent(
      @Param("e") InboundEvent event,
      @Param("status") String status,
      @Param("attempts") int attempts,
      @Param("lastError") String lastError,
      @Param("nextAttemptAt") Long nextAttemptAt);

  /**
   * Stores these events as processed, skipping ids already there; returns the rows inserted (fewer
   * than the list when some were duplicates).
   */
  int insertAllProcessedIfAbsent(@Param("events") List<InboundEvent> events);

  StoredEvent find(@Param("id") String id);

  /** A pending event, locked; null when another replica holds it or it is no longer pending. */
  StoredEvent lockPending(@Param("id") String id);

  /** Pending events whose next attempt is due, oldest first. */
  List<String> findDue(@Param("nowMillis") long nowMillis, @Param("limit") int limit);

  void markProcessed(@Param("id") String id);

  void markFailed(
      @Param("id") String id,
      @Param("status") String status,
      @Param("attempts") int attempts,
      @Param("lastError") String lastError,
      @Param("nextAttemptAt") Long nextAttemptAt);

  /** Makes a dead (or pending) event due again now, with a fresh attempt budget. */
  int requeue(@Param("id") String id, @Param("nowMillis") long nowMillis);

  /** Events with this status, oldest first, without their payloads. */
  List<StoredEvent> findByStatus(
      @Param("status") String status, @Param("offset") int offset, @Param("limit") int limit);
}
