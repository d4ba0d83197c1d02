package dev.billing.domain.payment;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
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
   * The locking lookups of the payments these keys name, one per kind of key present (for {@code
   * ReadBatch.rowsOfUnion}: one statement, a part per kind; a row named by two keys comes back
   * twice).
   */
  static List<Consumer<PaymentStore>> lockParts(List<Key> keys) {
    Map<Key.Kind, List<String>> byKind = new EnumMap<>(Key.Kind.class);
    for (Key k : keys) {
      byKind.computeIfAbsent(k.kind(), x -> new ArrayList<>()).add(k.value());
    }
    List<Consumer<PaymentStore>> parts = new ArrayList<>(byKind.size());
    byKind.forEach((kind, values) -> parts.add(s -> kind.lock.apply(s, values)));
    return parts;
  }

  /** The payments with these ids, locked until commit. */
  List<PaymentRow> lockByIds(List<String> ids);

  /** The payments of these payment intents, locked until commit. */
  List<PaymentRow> lockByIntents(List<String> intentIds);

  /** The payments of these checkout sessions, locked until commit. */
  List<PaymentRow> lockBySessions(List<String> sessionIds);

  /** The payments of these charges, locked until commit. */
  List<PaymentRow> lockByCharges(List<String> chargeIds);

  /**
   * A payment wanted by its id, payment intent, checkout session or charge. The factories answer
   * null for a null value (no key).
   */
  record Key(Kind kind, String value) {
    /** What a key names a payment by, and the store's locking lookup by it. */
    enum Kind {
      ID(PaymentStore::lockByIds),
      INTENT(PaymentStore::lockByIntents),
      SESSION(PaymentStore::lockBySessions),
      CHARGE(PaymentStore::lockByCharges);

      final BiFunction<PaymentStore, List<String>, List<PaymentRow>> lock;

      Kind(BiFunction<PaymentStore, List<String>, List<PaymentRow>> lock) {
        this.lock = lock;
      }
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
