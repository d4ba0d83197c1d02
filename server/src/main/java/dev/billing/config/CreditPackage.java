package dev.billing.config;

/**
 * A credit package of the catalog: pay {@code amountMinor} of {@code currency}, get {@code
 * credits}.
 */
public record CreditPackage(String id, long credits, long amountMinor, String currency) {}
