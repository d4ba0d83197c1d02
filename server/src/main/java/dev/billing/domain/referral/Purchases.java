package dev.billing.domain.referral;

import dev.billing.persistence.UnitOfWork;

/**
 * A user's purchases as a transaction sees them, asked of the payment package (which owns the
 * payments table): a user with any is not new, so cannot be referred.
 */
public interface Purchases {
  /** How many of the user's payments went through (refunded ones included). */
  long count(UnitOfWork uow, String userId);
}
