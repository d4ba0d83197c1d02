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

  /** One counter of one user. */
  record UserCount(String userId, UsageCount count) {}

  UsageCounters NONE = (reads, users) -> List::of;
}
