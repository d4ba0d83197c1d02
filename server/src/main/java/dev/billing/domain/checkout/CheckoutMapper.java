package dev.billing.domain.checkout;

import org.apache.ibatis.annotations.Param;

/** checkout_sessions. */
public interface CheckoutMapper {
  int insertIfAbsent(CheckoutSessionRow row);

  CheckoutSessionRow findByKey(@Param("userId") String userId, @Param("key") String idempotencyKey);

  void updateStatus(@Param("sessionId") String sessionId, @Param("status") String status);
}
