package dev.billing.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * Stripe-shaped test payloads: events wrapping subscription objects as Stripe sends them, in the
 * current shape (period on the items, API 2025-03-31.basil and later) or the older one (period on
 * the subscription).
 */
public final class StripeFixtures {
  public static final String WEBHOOK_SECRET = "whsec_test_fixture_secret";
  public static final String CURRENT_API_VERSION = "2026-07-29.dahlia";
  public static final String LEGACY_API_VERSION = "2024-06-20";

  private StripeFixtures() {}

  /** A subscription as a test wants it; {@code with...} methods return changed copies. */
  public record Sub(
      String id,
      String customer,
      String status,
      String price,
      String userId,
      long periodEnd,
      Long trialEnd,
      boolean cancelAtPeriodEnd,
      boolean legacyShape) {

    public static Sub of(String id, String customer, String userId, String price, String status) {
      return new Sub(id, customer, status, price, userId, 1_900_000_000L, null, false, false);
    }

    public Sub withStatus(String s) {
      return new Sub(
          id, customer, s, price, userId, periodEnd, trialEnd, cancelAtPeriodEnd, legacyShape);
    }

    public Sub withPrice(String p) {
      return new Sub(
          id, customer, status, p, userId, periodEnd, trialEnd, cancelAtPeriodEnd, legacyShape);
    }

    public Sub withTrialEnd(Long t) {
      return new Sub(
          id, customer, status, price, userId, periodEnd, t, cancelAtPeriodEnd, legacyShape);
    }

    public Sub withPeriodEnd(long p) {
      return new Sub(
          id, customer, status, price, userId, p, trialEnd, cancelAtPeriodEnd, legacyShape);
    }

    public Sub withCancelAtPeriodEnd(boolean c) {
      return new Sub(id, customer, status, price, userId, periodEnd, trialEnd, c, legacyShape);
    }

    public Sub withUserId(String u) {
      return new Sub(
          id, customer, status, price, u, periodEnd, trialEnd, cancelAtPeriodEnd, legacyShape);
    }

    public Sub legacy() {
      return new Sub(
          id, customer, status, price, userId, periodEnd, trialEnd, cancelAtPeriodEnd, true);
    }
  }

  public static JsonObject subscriptionObject(Sub s) {
    JsonObject price = new JsonObject();
    price.addProperty("id", s.price());
    price.addProperty("object", "price");
    price.addProperty("active", true);
    price.addProperty("currency", "usd");
    price.addProperty("product", "prod_test");
    price.addProperty("type", "recurring");
    price.addProperty("unit_amount", 1900);
    JsonObject recurring = new JsonObject();
    recurring.addProperty("interval", "month");
    recurring.addProperty("interval_count", 1);
    price.add("recurring", recurring);

    JsonObject item = new JsonObject();
    item.addProperty("id", "si_" + s.id().substring(4));
    item.addProperty("object", "subscription_item");
    item.add("price", price);
    item.addProperty("quantity", 1);
    item.addProperty("subscription", s.id());
    if (!s.legacyShape()) {
      item.addProperty("current_period_start", s.periodEnd() - 30 * 86400);
      item.addProperty("current_period_end", s.periodEnd());
    }
    JsonArray data = new JsonArray();
    data.add(item);
    JsonObject items = new JsonObject();
    items.addProperty("object", "list");
    items.add("data", data);
    items.addProperty("has_more", false);
    items.addProperty("url", "/v1/subscription_items?subscription=" + s.id());

    JsonObject sub = new JsonObject();
    sub.addProperty("id", s.id());
    sub.addProperty("object", "subscription");
    sub.addProperty("customer", s.customer());
    sub.addProperty("status", s.status());
    sub.addProperty("cancel_at_period_end", s.cancelAtPeriodEnd());
    sub.addProperty("collection_method", "charge_automatically");
    sub.addProperty("created", s.periodEnd() - 30 * 86400);
    sub.addProperty("currency", "usd");
    sub.addProperty("livemode", false);
    sub.add("items", items);
    if (s.legacyShape()) {
      sub.addProperty("current_period_start", s.periodEnd() - 30 * 86400);
      sub.addProperty("current_period_end", s.periodEnd());
    }
    if (s.trialEnd() != null) {
      sub.addProperty("trial_start", s.trialEnd() - 14 * 86400);
      sub.addProperty("trial_end", s.trialEnd());
    } else {
      sub.add("trial_end", com.google.gson.JsonNull.INSTANCE);
    }
    JsonObject metadata = new JsonObject();
    if (s.userId() != null) {
      metadata.add("user_id", new JsonPrimitive(s.userId()));
    }
    sub.add("metadata", metadata);
    return sub;
  }

  /** An event envelope around {@code object}, as Stripe posts it. */
  public static String event(
      String id, String type, long created, JsonObject object, String apiVersion) {
    JsonObject data = new JsonObject();
    data.add("object", object);
    JsonObject request = new JsonObject();
    request.add("id", com.google.gson.JsonNull.INSTANCE);
    request.add("idempotency_key", com.google.gson.JsonNull.INSTANCE);
    JsonObject event = new JsonObject();
    event.addProperty("id", id);
    event.addProperty("object", "event");
    event.addProperty("api_version", apiVersion);
    event.addProperty("created", created);
    event.add("data", data);
    event.addProperty("livemode", false);
    event.addProperty("pending_webhooks", 1);
    event.add("request", request);
    event.addProperty("type", type);
    return event.toString();
  }

  public static String subscriptionEvent(String eventId, String type, long created, Sub s) {
    return event(
        eventId,
        type,
        created,
        subscriptionObject(s),
        s.legacyShape() ? LEGACY_API_VERSION : CURRENT_API_VERSION);
  }
}
