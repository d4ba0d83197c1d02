package dev.billing.domain.entitlement;

import java.util.Collection;
import java.util.List;
import org.apache.ibatis.annotations.Param;

/** entitlements, joined with credit_balances on read. */
public interface EntitlementMapper {
  /** Creates the free, version-0 row of a new user, and locks the user's row either way. */
  void ensureRow(@Param("userId") String userId);

  /** Creates the rows of new users among these (sorted) ids, and locks all of them. */
  void ensureRows(@Param("userIds") List<String> userIds);

  /** Locks these users' rows (those that exist) in key order, until commit. */
  List<EntitlementRow> lockAll(@Param("userIds") List<String> userIds);

  /** Locks the user's row until commit: every change to a user serialises here. */
  EntitlementRow lock(@Param("userId") String userId);

  EntitlementRow find(@Param("userId") String userId);

  void update(EntitlementRow row);

  /** Writes these (locked, existing) rows in one statement. */
  void updateAll(@Param("rows") Collection<EntitlementRow> rows);
}
