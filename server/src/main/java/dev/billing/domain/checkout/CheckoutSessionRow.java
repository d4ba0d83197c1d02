package dev.billing.domain.checkout;

/**
 * A checkout session created through CreateCheckout, kept so the same idempotency key returns it.
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
    String paymentId) {}
