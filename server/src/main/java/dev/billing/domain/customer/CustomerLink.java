package dev.billing.domain.customer;

/** A user and their Stripe customer. */
public record CustomerLink(String userId, String customerId) {}
