package dev.billing.domain.checkout;

/** checkout_sessions. */
public interface CheckoutStore {
  int insertIfAbsent(CheckoutSessionRow row);

  CheckoutSessionRow findByKey(String userId, String key);

  CheckoutSessionRow findBySessionId(String sessionId);

  void updateStatus(String sessionId, String status);
}
