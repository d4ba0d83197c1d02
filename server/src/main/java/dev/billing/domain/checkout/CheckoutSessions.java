package dev.billing.domain.checkout;

import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.UnitOfWork;
import dev.billing.persistence.Writes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Checkout sessions as Stripe's events report them (open, complete, expired). */
public final class CheckoutSessions {
  /**
   * Records a session's new status; sessions this service never created are not recorded. Held back
   * and written with the transaction's others, before any other statement on checkout_sessions.
   * With the COMMIT, sessions going to one status go in one statement (a group of checkouts
   * completed is one update, not one per session); written before the commit (ahead of another
   * statement on the table, or of a savepoint), each is its single-row update (a static statement;
   * a list in one statement there would be MyBatis's dynamic SQL, built again on every call).
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
          new HeldWrites<>(
              uow,
              CheckoutStore.class,
              (w, s) -> update(w.store(CheckoutStore.class), s),
              Held::writeAll);
    }

    private static void update(CheckoutStore store, SessionStatus s) {
      store.updateStatus(s.sessionId(), s.status());
    }

    private static void writeAll(Writes to, Collection<SessionStatus> rows) {
      if (!to.takesInLists()) {
        to.batch(CheckoutStore.class, rows, Held::update);
        return;
      }
      // By status, each status's sessions in key order (the order they are held in).
      Map<String, List<String>> byStatus = new TreeMap<>();
      for (SessionStatus s : rows) {
        byStatus.computeIfAbsent(s.status(), k -> new ArrayList<>()).add(s.sessionId());
      }
      CheckoutStore store = to.store(CheckoutStore.class);
      byStatus.forEach(store::updateStatusOf);
    }
  }
}
