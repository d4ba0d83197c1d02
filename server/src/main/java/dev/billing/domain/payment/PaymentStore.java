package dev.billing.domain.payment;

import java.util.List;

/** payments. */
public interface PaymentStore {
  /**
   * Inserts unless a payment with the same id, session, intent or (user, key) exists; returns rows
   * added.
   */
  int insertIfAbsent(PaymentRow row);

  PaymentRow find(String id);

  PaymentRow lock(String id);

  PaymentRow findBySession(String sessionId);

  PaymentRow findByIntent(String intentId);

  PaymentRow findByCharge(String chargeId);

  void update(PaymentRow row);

  /** A user's payments, newest first, a page at {@code offset}. */
  List<PaymentRow> findByUser(String userId, int offset, int limit);
}
