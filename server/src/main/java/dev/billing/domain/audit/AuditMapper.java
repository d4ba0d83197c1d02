package dev.billing.domain.audit;

import java.util.List;
import org.apache.ibatis.annotations.Param;

/** audit_log: append and read back. */
public interface AuditMapper {
  void insertAll(@Param("entries") List<AuditEntry> entries);

  /** A user's entries, newest first, with ids below {@code beforeId}. */
  List<AuditEntry> findByUser(
      @Param("userId") String userId, @Param("beforeId") long beforeId, @Param("limit") int limit);
}
