package dev.billing.domain.entitlement;

/**
 * A row of {@link EntitlementStore#find}: a user's stored entitlement and whether any usage counter
 * of theirs is stored, both read by one statement, so as of the same commit.
 */
public record FoundUser(EntitlementRow row, boolean hasCounters) {}
