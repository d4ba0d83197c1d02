package dev.billing.domain.entitlement;

import java.util.List;

/**
 * entitlements, joined with credit_balances on read (and, when a group locks its users, with their
 * customers and usage counters).
 */
public interface EntitlementStore {
  /**
   * Creates the free, version-0 row of a new user, and locks the user's row either way. Several
   * recorded in a batch go as one multi-row insert, locking in the order recorded.
   */
  void ensureRow(String userId);

  /**
   * Locks these users' rows (those that exist) in key order, until commit, and reads with them each
   * user's Stripe customer and usage counters of periods ending after {@code liveAfter} (epoch
   * seconds; running allowances, period 0, too), or none when it is null.
   */
  List<LockedUser> lockAll(List<String> userIds, Long liveAfter);

  /** Locks the user's row until commit: every change to a user serialises here. */
  EntitlementRow lock(String userId);

  /** The user's row as last committed, with whether they have usage counters; null if none. */
  FoundUser find(String userId);

  void update(EntitlementRow row);

  /** Writes a locked user's row (an insert-or-update, so rows batch into one statement). */
  void write(EntitlementRow row);

  /** Creates a row assumed absent: a duplicate key when it exists. */
  void insertNew(EntitlementRow row);

  /** Sets a row's version to {@code version} if it still is {@code expected}. */
  void updateVersionIf(String userId, long version, long expected);

  /** Right after {@link #updateVersionIf}: a duplicate key when that updated nothing. */
  void failUnlessUpdated(String userId);
}
