package dev.billing.domain.gateway;

/** A card saved on a Stripe customer (a PaymentMethod of type card). */
public record SavedCard(
    String id, String customerId, String brand, String last4, long expMonth, long expYear) {}
