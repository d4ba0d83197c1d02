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

  /** A subscription invoice in the 2025+ shape (subscription under parent.subscription_details). */
  public static JsonObject invoiceObject(
      String id,
      String subscriptionId,
      String customer,
      String userId,
      long amount,
      boolean paid,
      String paymentIntent) {
    JsonObject details = new JsonObject();
    details.addProperty("subscription", subscriptionId);
    JsonObject md = new JsonObject();
    if (userId != null) {
      md.addProperty("user_id", userId);
    }
    details.add("metadata", md);
    JsonObject parent = new JsonObject();
    parent.addProperty("type", "subscription_details");
    parent.add("subscription_details", details);
    JsonObject invoice = new JsonObject();
    invoice.addProperty("id", id);
    invoice.addProperty("object", "invoice");
    invoice.addProperty("customer", customer);
    invoice.addProperty("currency", "usd");
    invoice.addProperty("amount_due", amount);
    invoice.addProperty("amount_paid", paid ? amount : 0);
    invoice.addProperty("amount_remaining", paid ? 0 : amount);
    invoice.addProperty("status", paid ? "paid" : "open");
    invoice.addProperty("billing_reason", "subscription_cycle");
    invoice.add("parent", parent);
    if (paymentIntent != null) {
      JsonObject payment = new JsonObject();
      payment.addProperty("type", "payment_intent");
      payment.addProperty("payment_intent", paymentIntent);
      JsonObject ip = new JsonObject();
      ip.addProperty("object", "invoice_payment");
      ip.add("payment", payment);
      JsonArray data = new JsonArray();
      data.add(ip);
      JsonObject payments = new JsonObject();
      payments.addProperty("object", "list");
      payments.add("data", data);
      invoice.add("payments", payments);
    }
    return invoice;
  }

  /** A charge, with Stripe's cumulative amount_refunded. */
  public static JsonObject chargeObject(
      String id, String paymentIntent, long amount, long amountRefunded) {
    JsonObject c = new JsonObject();
    c.addProperty("id", id);
    c.addProperty("object", "charge");
    c.addProperty("amount", amount);
    c.addProperty("amount_captured", amount);
    c.addProperty("amount_refunded", amountRefunded);
    c.addProperty("refunded", amountRefunded >= amount);
    c.addProperty("currency", "usd");
    c.addProperty("paid", true);
    c.addProperty("status", "succeeded");
    c.addProperty("payment_intent", paymentIntent);
    return c;
  }

  /** A completed checkout session. */
  public static JsonObject checkoutSessionObject(
      String id,
      String mode,
      String customer,
      String userId,
      String subscriptionId,
      String paymentIntent,
      long amountTotal,
      String paymentStatus,
      String plan) {
    JsonObject md = new JsonObject();
    md.addProperty("user_id", userId);
    if (plan != null) {
      md.addProperty("plan", plan);
    }
    JsonObject s = new JsonObject();
    s.addProperty("id", id);
    s.addProperty("object", "checkout.session");
    s.addProperty("mode", mode);
    s.addProperty("status", "complete");
    s.addProperty("payment_status", paymentStatus);
    s.addProperty("customer", customer);
    s.addProperty("client_reference_id", userId);
    s.addProperty("subscription", subscriptionId);
    s.addProperty("payment_intent", paymentIntent);
    s.addProperty("amount_total", amountTotal);
    s.addProperty("currency", "usd");
    s.add("metadata", md);
    return s;
  }
}
