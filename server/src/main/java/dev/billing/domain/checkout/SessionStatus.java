package dev.billing.domain.checkout;

/** A checkout session's status as an event reports it. */
public record SessionStatus(String sessionId, String status) {}
