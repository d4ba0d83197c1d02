package dev.billing.domain.audit;

/** One audit row: {@code entityType/entityId} went from {@code oldValue} to {@code newValue}. */
public record AuditEntry(
    long id,
    String userId,
    String actor,
    String entityType,
    String entityId,
    String action,
    String oldValue,
    String newValue,
    String stripeEventId,
    long createdAtMillis) {}
