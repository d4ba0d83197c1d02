package dev.billing.domain.subscription;

import com.google.gson.JsonObject;
import dev.billing.stripe.StripeJson;

/**
 * The fields of a Stripe subscription object that decide an entitlement, read from either payload
 * shape: before 2025-03-31.basil the period sits on the subscription ({@code current_period_end});
 * from basil on it sits on each item ({@code items.data[].current_period_end}).
 */
public record SubscriptionSnapshot(
    String id,
    String customerId,
    String status,
    String priceId,
    Long currentPeriodEnd,
    Long trialEnd,
    boolean cancelAtPeriodEnd,
    String metadataUserId) {

  public static SubscriptionSnapshot fromJson(JsonObject sub) {
    JsonObject item = StripeJson.firstOfList(sub, "items");
    String priceId = item == null ? null : StripeJson.id(item, "price");
    if (priceId == null && item != null) {
      priceId = StripeJson.id(item, "plan");
    }
    if (priceId == null) {
      priceId = StripeJson.id(sub, "plan");
    }
    Long periodEnd = StripeJson.longValue(sub, "current_period_end");
    if (periodEnd == null && item != null) {
      periodEnd = StripeJson.longValue(item, "current_period_end");
    }
    return new SubscriptionSnapshot(
        StripeJson.string(sub, "id"),
        StripeJson.id(sub, "customer"),
        StripeJson.string(sub, "status"),
        priceId,
        periodEnd,
        StripeJson.longValue(sub, "trial_end"),
        StripeJson.bool(sub, "cancel_at_period_end"),
        StripeJson.metadataUserId(sub));
  }
}
