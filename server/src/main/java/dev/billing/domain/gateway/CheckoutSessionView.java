package dev.billing.domain.gateway;

/**
 * A Checkout Session read back from Stripe.
 *
 * @param status open, complete or expired
 * @param paymentStatus paid, unpaid or no_payment_required
 * @param userId the user named in its metadata (or client_reference_id), or null
 */
public record CheckoutSessionView(
    String id,
    String status,
    String paymentStatus,
    String mode,
    long amountTotal,
    String currency,
    String userId) {}
