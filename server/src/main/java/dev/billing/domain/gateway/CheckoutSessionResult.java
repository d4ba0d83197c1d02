package dev.billing.domain.gateway;

/** The parts of a created Checkout session the service keeps and returns. */
public record CheckoutSessionResult(
    String id, String url, String status, long amountTotal, String currency, long expiresAt) {}
