package dev.billing.domain.change;

import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.SubscriptionStatus;

/**
 * A change to one user's entitlement made by a transaction that has not committed yet. It becomes a
 * change_log row, with its sequence number, as the last step of that transaction.
 *
 * @param stripeEventId the Stripe event that caused it, or null for changes made through the API
 */
public record PendingChange(
    String userId,
    ChangeKind kind,
    Entitlement entitlement,
    String previousTier,
    SubscriptionStatus previousStatus,
    String stripeEventId,
    long occurredAtMillis) {}
