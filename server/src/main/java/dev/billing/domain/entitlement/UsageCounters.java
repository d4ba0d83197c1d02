package dev.billing.domain.entitlement;

import dev.billing.persistence.UnitOfWork;
import java.util.Collection;
import java.util.List;

/**
 * Reads users' newest usage counters inside a transaction (the usage package owns them), so every
 * change can carry the whole entitlement, usage included.
 */
public interface UsageCounters {
  /**
   * The live counters of these users (any order): running allowances, and periods not yet ended.
   */
  List<UserCount> newest(UnitOfWork uow, Collection<String> userIds);

  /** One counter of one user. */
  record UserCount(String userId, UsageCount count) {}

  UsageCounters NONE = (uow, users) -> List.of();
}
