package dev.billing.domain.payment;

import java.util.List;
import org.apache.ibatis.annotations.Param;

/** payments. */
public interface PaymentMapper {
  /**
   * Inserts unless a payment with the same id, session, intent or (user, key) exists; returns rows
   * added.
   */
  int insertIfAbsent(PaymentRow row);

  PaymentRow find(@Param("id") String id);

  PaymentRow lock(@Param("id") String id);

  PaymentRow findBySession(@Param("sessionId") String checkoutSessionId);

  PaymentRow findByIntent(@Param("intentId") String paymentIntentId);

  PaymentRow findByCharge(@Param("chargeId") String chargeId);

  void update(PaymentRow row);

  /** A user's payments, newest first, a page at {@code offset}. */
  List<PaymentRow> findByUser(
      @Param("userId") String userId, @Param("offset") int offset, @Param("limit") int limit);
}
