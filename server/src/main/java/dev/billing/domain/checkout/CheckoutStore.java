package dev.billing.domain.checkout;

import java.util.List;

/** checkout_sessions. */
public interface CheckoutStore {
  int insertIfAbsent(CheckoutSessionRow row);

  CheckoutSessionRow findByKey(String userId, String key);

  CheckoutSessionRow findBySessionId(String sessionId);

  void updateStatus(String sessionId, String status);

  /**
   * Sets these sessions' status in one statement; only with a transaction's COMMIT ({@link
   * dev.billing.persistence.Writes#takesInLists}).
   */
  void updateStatusOf(String status, List<String> sessionIds);
}
