package dev.billing.domain.audit;

import java.util.List;

/** audit_log: append and read back. */
public interface AuditStore {
  void insert(AuditEntry entry);

  /** A user's entries, newest first, with ids below {@code beforeId}. */
  List<AuditEntry> findByUser(String userId, long beforeId, int limit);
}
