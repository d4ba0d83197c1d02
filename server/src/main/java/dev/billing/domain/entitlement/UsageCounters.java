package dev.billing.domain.entitlement;

import dev.billing.persistence.ReadBatch;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Reads users' newest usage counters inside a transaction (the usage package owns them), so every
 * change can carry the whole entitlement, usage included.
 */
public interface UsageCounters {
  /**
   * The live counters of these users (any order): running allowances, and periods not yet ended;
   * read with {@code reads}, there once it has been sent.
   */
  Supplier<List<UserCount>> newest(ReadBatch reads, Collection<String> userIds);

  /**
   * Counters of periods that end after this (epoch seconds) are live, and running allowances
   * (period 0) always: what {@link #newest} reads, for a statement that reads them with the users'
   * lock. Null when there are no counters to read.
   */
  Long liveAfter();

  /** One counter of one user. */
  record UserCount(String userId, UsageCount count) {}

  UsageCounters NONE =
      new UsageCounters() {
        @Override
        public Supplier<List<UserCount>> newest(ReadBatch reads, Collection<String> userIds) {
          return List::of;
        }

        @Override
        public Long liveAfter() {
          return null;
        }
      };
}
