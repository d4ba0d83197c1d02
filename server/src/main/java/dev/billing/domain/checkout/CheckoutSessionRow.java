package dev.billing.domain.checkout;

/**
 * A checkout session created through CreateCheckout, kept so the same idempotency key returns it.
 * {@code requestHash} is what the request asked (null for rows older than the column).
 */
public record CheckoutSessionRow(
    String sessionId,
    String userId,
    String idempotencyKey,
    String mode,
    String plan,
    String creditPackage,
    long amount,
    String currency,
    String url,
    String status,
    long expiresAt,
    String paymentId,
    String requestHash) {}
