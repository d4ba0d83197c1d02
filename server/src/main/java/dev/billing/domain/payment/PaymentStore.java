package dev.billing.domain.payment;

import java.util.List;

/** payments. */
public interface PaymentStore {
  /**
   * Inserts unless a payment with the same id, session, intent or (user, key) exists; returns rows
   * added.
   */
  int insertIfAbsent(PaymentRow row);

  /** A new payment believed absent: fails (a duplicate key) if one with its keys is stored. */
  void insertNew(PaymentRow row);

  /** The payments these keys name, locked until commit. */
  default List<PaymentRow> lockByKeys(List<Key> keys) {
    return lockByKinds(
        keys, hasKind(keys, "i"), hasKind(keys, "p"), hasKind(keys, "s"), hasKind(keys, "c"));
  }

  /**
   * {@link #lockByKeys}'s statement, told which kinds of key are there: it looks up each kind in
   * its own part, and leaves out the parts of the kinds that are not (each costs the database a
   * plan).
   */
  List<PaymentRow> lockByKinds(
      List<Key> keys, boolean ids, boolean intents, boolean sessions, boolean charges);

  private static boolean hasKind(List<Key> keys, String kind) {
    for (Key k : keys) {
      if (k.kind().equals(kind)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A payment wanted by its id ({@code "i"}), payment intent ({@code "p"}), checkout session
   * ({@code "s"}) or charge ({@code "c"}). The factories answer null for a null value (no key).
   */
  record Key(String kind, String value) {
    static Key id(String id) {
      return id == null ? null : new Key("i", id);
    }

    static Key intent(String intentId) {
      return intentId == null ? null : new Key("p", intentId);
    }

    static Key session(String sessionId) {
      return sessionId == null ? null : new Key("s", sessionId);
    }

    static Key charge(String chargeId) {
      return chargeId == null ? null : new Key("c", chargeId);
    }
  }

  /** How many of a user's payments went through (refunded ones included). */
  long countPurchases(String userId);

  PaymentRow find(String id);

  PaymentRow lock(String id);

  PaymentRow findBySession(String sessionId);

  PaymentRow findByIntent(String intentId);

  PaymentRow findByCharge(String chargeId);

  void update(PaymentRow row);

  /** A user's payments, newest first, a page at {@code offset}. */
  List<PaymentRow> findByUser(String userId, int offset, int limit);
}
