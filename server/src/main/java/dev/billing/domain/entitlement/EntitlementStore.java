package dev.billing.domain.entitlement;

import java.util.List;

/** entitlements, joined with credit_balances on read. */
public interface EntitlementStore {
  /** Creates the free, version-0 row of a new user, and locks the user's row either way. */
  void ensureRow(String userId);

  /**
   * Creates the free, version-0 rows of the users among these (sorted) ids that have none, and
   * locks every one of their rows, exclusively, in the order given.
   */
  void ensureAll(List<String> userIds);

  /** Locks these users' rows (those that exist) in key order, until commit. */
  List<EntitlementRow> lockAll(List<String> userIds);

  /** Locks the user's row until commit: every change to a user serialises here. */
  EntitlementRow lock(String userId);

  EntitlementRow find(String userId);

  void update(EntitlementRow row);

  /** Writes these (locked, existing) rows in one statement. */
  /** Writes a locked user's row (an insert-or-update, so rows batch into one statement). */
  void write(EntitlementRow row);
}
