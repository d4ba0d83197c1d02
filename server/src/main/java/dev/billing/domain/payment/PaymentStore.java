package dev.billing.domain.payment;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/** payments. */
public interface PaymentStore {
  /**
   * Inserts unless a payment with the same id, session, intent or (user, key) exists; returns rows
   * added.
   */
  int insertIfAbsent(PaymentRow row);

  /** A new payment believed absent: fails (a duplicate key) if one with its keys is stored. */
  void insertNew(PaymentRow row);

  /**
   * The locking lookup of the payments these keys name: one statement ({@link #lockByKeys}) with a
   * list per kind of key.
   */
  static Consumer<PaymentStore> lock(List<Key> keys) {
    Map<Key.Kind, List<String>> byKind = new EnumMap<>(Key.Kind.class);
    for (Key.Kind kind : Key.Kind.values()) {
      byKind.put(kind, new ArrayList<>());
    }
    for (Key k : keys) {
      byKind.get(k.kind()).add(k.value());
    }
    return s ->
        s.lockByKeys(
            byKind.get(Key.Kind.ID),
            byKind.get(Key.Kind.INTENT),
            byKind.get(Key.Kind.SESSION),
            byKind.get(Key.Kind.CHARGE));
  }

  /**
   * The payments with these ids, payment intents, checkout sessions or charges (any list may be
   * empty), locked until commit; each row once. Only in a {@code ReadBatch} (its lists are written
   * into the statement's text).
   */
  List<PaymentRow> lockByKeys(
      List<String> ids, List<String> intentIds, List<String> sessionIds, List<String> chargeIds);

  /**
   * A payment wanted by its id, payment intent, checkout session or charge. The factories answer
   * null for a null value (no key).
   */
  record Key(Kind kind, String value) {
    /** What a key names a payment by. */
    enum Kind {
      ID,
      INTENT,
      SESSION,
      CHARGE
    }

    public Key {
      Objects.requireNonNull(kind);
      Objects.requireNonNull(value); // equals and hashCode below rely on it
    }

    static Key id(String id) {
      return id == null ? null : new Key(Kind.ID, id);
    }

    static Key intent(String intentId) {
      return intentId == null ? null : new Key(Kind.INTENT, intentId);
    }

    static Key session(String sessionId) {
      return sessionId == null ? null : new Key(Kind.SESSION, sessionId);
    }

    static Key charge(String chargeId) {
      return chargeId == null ? null : new Key(Kind.CHARGE, chargeId);
    }

    // Written out rather than generated: a record's equals and hashCode go through a method-handle
    // bootstrap that the JIT compiles into every hashing caller as a large tree, with guards that
    // trap (and recompile the caller) on the first shape the warm-up did not show.
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && kind == k.kind && value.equals(k.value);
    }

    @Override
    public int hashCode() {
      return 31 * kind.hashCode() + value.hashCode();
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
