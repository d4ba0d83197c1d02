package dev.billing.domain.checkout;

import dev.billing.persistence.UnitOfWork;

/** Checkout sessions as Stripe's events report them (open, complete, expired). */
public final class CheckoutSessions {
  /** Records a session's new status; sessions this service never created are not recorded. */
  public void markStatus(UnitOfWork uow, String sessionId, String status) {
    if (sessionId != null) {
      uow.store(CheckoutStore.class).updateStatus(sessionId, status);
    }
  }
}
