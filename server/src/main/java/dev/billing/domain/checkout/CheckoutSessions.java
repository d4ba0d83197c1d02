package dev.billing.domain.checkout;

import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.UnitOfWork;

/** Checkout sessions as Stripe's events report them (open, complete, expired). */
public final class CheckoutSessions {
  /**
   * Records a session's new status; sessions this service never created are not recorded. Held back
   * and written with the transaction's others, before any other statement on checkout_sessions: one
   * single-row update each (a static statement; a list in one statement would be MyBatis's dynamic
   * SQL, built again on every call).
   */
  public void markStatus(UnitOfWork uow, String sessionId, String status) {
    if (sessionId != null) {
      uow.attachment(Held.class, () -> new Held(uow))
          .writes
          .put(sessionId, new SessionStatus(sessionId, status));
    }
  }

  private static final class Held {
    final HeldWrites<SessionStatus> writes;

    Held(UnitOfWork uow) {
      writes =
          HeldWrites.rows(
              uow,
              CheckoutStore.class,
              (store, s) -> store.updateStatus(s.sessionId(), s.status()));
    }
  }
}
