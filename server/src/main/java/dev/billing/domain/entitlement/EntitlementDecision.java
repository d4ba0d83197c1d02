package dev.billing.domain.entitlement;

/** What a user's subscriptions entitle them to, before versioning and credits. */
public record EntitlementDecision(
    String tier,
    StripeStatus status,
    String subscriptionId,
    Long currentPeriodEnd,
    Long trialEnd,
    boolean cancelAtPeriodEnd,
    boolean paymentProblem) {}
