package dev.billing.domain.checkout;

/** A created (or replayed) checkout session. */
public record CheckoutResult(
    String sessionId,
    String url,
    String paymentId,
    String status,
    long amountMinor,
    String currency,
    long expiresAt) {

  static CheckoutResult of(CheckoutSessionRow row) {
    return new CheckoutResult(
        row.sessionId(),
        row.url(),
        row.paymentId(),
        row.status(),
        row.amount(),
        row.currency(),
        row.expiresAt());
  }
}
