package dev.billing.stripe.emulator;

import static dev.billing.stripe.emulator.Json.array;
import static dev.billing.stripe.emulator.Json.list;
import static dev.billing.stripe.emulator.Json.num;
import static dev.billing.stripe.emulator.Json.obj;
import static dev.billing.stripe.emulator.Json.str;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.billing.config.Catalog;
import dev.billing.config.Plan;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The emulator's Stripe account: customers, prices, coupons, checkout sessions, subscriptions,
 * invoices, payment intents, charges, refunds, portal sessions and events, shaped like API version
 * 2026-07-29.dahlia. Every change that real Stripe announces emits an event, which is handed to the
 * webhook sender. One lock guards it all: this is a development tool, not a load target.
 */
final class StripeState {
  static final String API_VERSION = "2026-07-29.dahlia";
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final long DAY = 86_400;

  private final SecureRandom random = new SecureRandom();
  private final Clock clock;
  private final Consumer<JsonObject> eventSink;
  private final Map<String, JsonObject> customers = new LinkedHashMap<>();
  private final Map<String, JsonObject> prices = new LinkedHashMap<>();
  private final Map<String, JsonObject> coupons = new LinkedHashMap<>();
  private final Map<String, String> promotionCodes = new HashMap<>();
  private final Map<String, JsonObject> sessions = new LinkedHashMap<>();
  private final Map<String, JsonObject> subscriptions = new LinkedHashMap<>();
  private final Map<String, JsonObject> invoices = new LinkedHashMap<>();
  private final Map<String, JsonObject> intents = new LinkedHashMap<>();
  private final Map<String, JsonObject> charges = new LinkedHashMap<>();
  private final Map<String, JsonObject> refunds = new LinkedHashMap<>();
  private final Map<String, JsonObject> portalSessions = new LinkedHashMap<>();
  private final List<JsonObject> events = new ArrayList<>();

  /** What a metered unit costs, by meter event name (the catalog's meter_unit_amount). */
  private final Map<String, Long> meterUnitAmounts = new HashMap<>();

  StripeState(Catalog catalog, Clock clock, Consumer<JsonObject> eventSink) {
    this.clock = clock;
    for (Plan p : catalog.plans()) {
      for (var m : p.metrics().values()) {
        if (m.meterEventName() != null && m.meterUnitAmount() != null) {
          meterUnitAmounts.put(m.meterEventName(), m.meterUnitAmount());
        }
      }
    }
    this.eventSink = eventSink;
    for (Plan p : catalog.plans()) {
      if (p.priceId() != null) {
        prices.put(
            p.priceId(),
            obj(
                "id",
                p.priceId(),
                "object",
                "price",
                "active",
                true,
                "currency",
                p.currency(),
                "unit_amount",
                p.amountMinor(),
                "unit_amount_decimal",
                Long.toString(p.amountMinor()),
                "nickname",
                p.name(),
                "product",
                "prod_" + p.name(),
                "type",
                "recurring",
                "billing_scheme",
                "per_unit",
                "livemode",
                false,
                "created",
                now(),
                "metadata",
                Map.of(),
                "recurring",
                obj(
                    "interval",
                    p.interval(),
                    "interval_count",
                    1,
                    "usage_type",
                    "licensed",
                    "trial_period_days",
                    null)));
      }
    }
    coupons.put("FIRST20", coupon("FIRST20", 20, "once"));
    coupons.put("HALF", coupon("HALF", 50, "forever"));
    promotionCodes.put("WELCOME20", "FIRST20");
  }

  private JsonObject coupon(String id, int percentOff, String duration) {
    return obj(
        "id",
        id,
        "object",
        "coupon",
        "percent_off",
        percentOff,
        "amount_off",
        null,
        "currency",
        null,
        "duration",
        duration,
        "valid",
        true,
        "livemode",
        false,
        "created",
        now(),
        "metadata",
        Map.of());
  }

  long now() {
    return simulatedNow != null ? simulatedNow : clock.instant().getEpochSecond();
  }

  /** While a test clock's objects are acted on: that clock's time (see {@link #atClockOf}). */
  private Long simulatedNow;

  /** Runs {@code work} at the time of the customer's test clock, if it has one. */
  private <T> T atClockOf(String customerId, java.util.function.Supplier<T> work) {
    JsonObject customer = customerId == null ? null : customers.get(customerId);
    String clockId = customer == null ? null : str(customer, "test_clock");
    if (clockId == null || simulatedNow != null) {
      return work.get();
    }
    simulatedNow = num(testClocks.get(clockId), "frozen_time");
    try {
      return work.get();
    } finally {
      simulatedNow = null;
    }
  }

  // ---------------------------------------------------------------- test clocks

  private final Map<String, JsonObject> testClocks = new LinkedHashMap<>();

  /** {@code POST /v1/test_helpers/test_clocks}: frozen_time (required), name. */
  synchronized JsonObject createTestClock(Params p) {
    long frozen = p.longValue("frozen_time", -1);
    if (frozen < 0) {
      throw EmulatorError.invalid("Missing required param: frozen_time.", "frozen_time");
    }
    long created = now();
    JsonObject c =
        obj(
            "id",
            newId("clock"),
            "object",
            "test_helpers.test_clock",
            "created",
            created,
            "deletes_after",
            created + 30 * DAY,
            "frozen_time",
            frozen,
            "livemode",
            false,
            "name",
            p.string("name"),
            "status",
            "ready");
    testClocks.put(str(c, "id"), c);
    return c.deepCopy();
  }

  synchronized JsonObject testClock(String id) {
    return require(testClocks, id, "test_clock").deepCopy();
  }

  synchronized JsonObject deleteTestClock(String id) {
    require(testClocks, id, "test_clock");
    testClocks.remove(id);
    return obj("id", id, "object", "test_helpers.test_clock", "deleted", true);
  }

  /**
   * {@code POST /v1/test_helpers/test_clocks/{id}/advance}: moves the clock to frozen_time and, in
   * time order, does what Stripe does to the attached customers' subscriptions on the way: each
   * period end renews (a trial becomes active; a new period; {@code customer.subscription.updated},
   * then the renewal invoice paid with the saved card: {@code invoice.paid}), or ends a
   * subscription set to cancel at period end ({@code customer.subscription.deleted}). Like Stripe,
   * frozen_time must be after the clock's time and at most two intervals past the shortest
   * subscription's.
   */
  synchronized JsonObject advanceTestClock(String id, Params p) {
    JsonObject c = require(testClocks, id, "test_clock");
    long target = p.longValue("frozen_time", -1);
    long current = num(c, "frozen_time");
    if (target <= current) {
      throw EmulatorError.invalid(
          "The frozen_time must be after the test clock's current frozen_time (" + current + ").",
          "frozen_time");
    }
    long limit = current + 2 * 31 * DAY;
    if (target > limit) {
      throw EmulatorError.invalid(
          "Cannot advance a test clock more than two intervals of its shortest subscription at"
              + " once (to "
              + limit
              + " at most).",
          "frozen_time");
    }
    c.addProperty("status", "advancing");
    try {
      while (true) {
        JsonObject next = null;
        long due = Long.MAX_VALUE;
        for (JsonObject sub : subscriptions.values()) {
          JsonObject customer = customers.get(str(sub, "customer"));
          String status = str(sub, "status");
          if (customer == null
              || !id.equals(str(customer, "test_clock"))
              || !("active".equals(status)
                  || "trialing".equals(status)
                  || "past_due".equals(status))) {
            continue;
          }
          long end = num(firstItem(sub), "current_period_end");
          if (end <= target && end < due) {
            due = end;
            next = sub;
          }
        }
        if (next == null) {
          break;
        }
        simulatedNow = due;
        renew(next);
      }
      simulatedNow = target;
      expireIncomplete(id, target);
      expirePendingUpdates(id, target);
      c.addProperty("frozen_time", target);
      c.addProperty("status", "ready");
      emit("test_helpers.test_clock.ready", c);
    } finally {
      simulatedNow = null;
    }
    return c.deepCopy();
  }

  private static JsonObject firstItem(JsonObject sub) {
    return sub.getAsJsonObject("items").getAsJsonArray("data").get(0).getAsJsonObject();
  }

  /** A subscription's period ends (at {@link #now}): it renews, or ends if set to. */
  private void renew(JsonObject sub) {
    JsonObject item = firstItem(sub);
    long end = num(item, "current_period_end");
    if (sub.has("cancel_at_period_end") && sub.get("cancel_at_period_end").getAsBoolean()) {
      JsonObject previous = obj("status", str(sub, "status"));
      sub.addProperty("status", "canceled");
      sub.addProperty("canceled_at", end);
      sub.addProperty("ended_at", end);
      emit("customer.subscription.deleted", sub, previous);
      return;
    }
    JsonObject previous =
        obj(
            "status",
            str(sub, "status"),
            "items",
            obj(
                "data",
                array(
                    obj(
                        "current_period_start",
                        num(item, "current_period_start"),
                        "current_period_end",
                        end))));
    if ("trialing".equals(str(sub, "status"))) {
      sub.addProperty("status", "active");
    }
    long start = num(item, "current_period_start");
    item.addProperty("current_period_start", end);
    item.addProperty("current_period_end", end + 30 * DAY);
    JsonObject released = schedulePhaseAt(sub, end, previous);
    emit("customer.subscription.updated", sub, previous);
    if (released != null) {
      emit("subscription_schedule.released", released);
    }
    // Metered usage is billed in arrears: the period that just ended, on the renewal invoice.
    JsonArray usageLines = meteredLines(sub, start, end);
    long usageAmount = 0;
    for (var l : usageLines) {
      usageAmount += num(l.getAsJsonObject(), "amount");
    }
    // Charged off-session to the customer's saved default card (none saved: paid, as before
    // cards were kept).
    String pm = defaultPaymentMethod(str(sub, "customer"));
    boolean paid = pm == null || chargeable(defaultCard(str(sub, "customer")));
    invoiceFor(sub, priceOf(sub) + usageAmount, paid, usageLines);
  }

  // ---------------------------------------------------------------- billing meter events

  /** Meter events by identifier (Stripe keeps identifiers unique for at least 24 hours). */
  private final Map<String, JsonObject> meterEvents = new LinkedHashMap<>();

  private static final long METER_MAX_AGE = 35 * DAY;
  private static final long METER_MAX_AHEAD = 5 * 60;

  /** {@code POST /v1/billing/meter_events}, with Stripe's rules. */
  synchronized JsonObject createMeterEvent(Params p) {
    String eventName = p.string("event_name");
    if (eventName == null || eventName.isBlank() || eventName.length() > 100) {
      throw EmulatorError.invalid("event_name is required (at most 100 characters).", "event_name");
    }
    String customerId = p.string("payload.stripe_customer_id");
    if (customerId == null) {
      throw EmulatorError.invalid(
          "payload must contain stripe_customer_id.", "payload[stripe_customer_id]");
    }
    JsonObject customer = require(customers, customerId, "customer");
    String rawValue = p.string("payload.value");
    long value;
    try {
      value = Long.parseLong(rawValue == null ? "" : rawValue);
    } catch (NumberFormatException e) {
      throw EmulatorError.invalid("payload[value] must be a whole number.", "payload[value]");
    }
    String identifier = p.has("identifier") ? p.string("identifier") : newId("mev");
    if (identifier.length() > 100) {
      throw EmulatorError.invalid("identifier must be at most 100 characters.", "identifier");
    }
    if (meterEvents.containsKey(identifier)) {
      throw new EmulatorError(
          400,
          "invalid_request_error",
          "An event already exists with identifier " + identifier + ".",
          "identifier",
          null);
    }
    return atClockOf(
        str(customer, "id"),
        () -> {
          long now = now();
          long timestamp = p.longValue("timestamp", now);
          if (timestamp < now - METER_MAX_AGE || timestamp > now + METER_MAX_AHEAD) {
            throw EmulatorError.invalid(
                "Timestamp must be within the past 35 calendar days or up to 5 minutes in the"
                    + " future.",
                "timestamp");
          }
          JsonObject event =
              obj(
                  "object",
                  "billing.meter_event",
                  "created",
                  now,
                  "event_name",
                  eventName,
                  "identifier",
                  identifier,
                  "livemode",
                  false,
                  "payload",
                  obj("stripe_customer_id", customerId, "value", Long.toString(value)),
                  "timestamp",
                  timestamp);
          meterEvents.put(identifier, event);
          return event.deepCopy();
        });
  }

  /** The sum of a customer's meter events of {@code eventName} (all time). */
  synchronized long meterTotal(String customerId, String eventName) {
    long sum = 0;
    for (JsonObject e : meterEvents.values()) {
      JsonObject payload = e.getAsJsonObject("payload");
      if (eventName.equals(str(e, "event_name"))
          && customerId.equals(str(payload, "stripe_customer_id"))) {
        sum += Long.parseLong(str(payload, "value"));
      }
    }
    return sum;
  }

  /** Invoice lines for the customer's metered usage with timestamps in [from, to). */
  private JsonArray meteredLines(JsonObject sub, long from, long to) {
    String customerId = str(sub, "customer");
    Map<String, Long> sums = new java.util.TreeMap<>();
    for (JsonObject e : meterEvents.values()) {
      JsonObject payload = e.getAsJsonObject("payload");
      long ts = num(e, "timestamp");
      if (customerId.equals(str(payload, "stripe_customer_id")) && ts >= from && ts < to) {
        sums.merge(str(e, "event_name"), Long.parseLong(str(payload, "value")), Long::sum);
      }
    }
    JsonArray lines = new JsonArray();
    sums.forEach(
        (name, quantity) -> {
          long unit = meterUnitAmounts.getOrDefault(name, 0L);
          lines.add(
              obj(
                  "id",
                  newId("il"),
                  "object",
                  "line_item",
                  "amount",
                  quantity * unit,
                  "currency",
                  str(sub, "currency"),
                  "description",
                  quantity + " × " + name + " (metered, at " + unit + ")",
                  "quantity",
                  quantity,
                  "period",
                  obj("start", from, "end", to)));
        });
    return lines;
  }

  String newId(String prefix) {
    StringBuilder sb = new StringBuilder(prefix).append('_');
    for (int i = 0; i < 24; i++) {
      sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- events

  private void emit(String type, JsonObject object) {
    emit(type, object, null);
  }

  private void emit(String type, JsonObject object, JsonObject previousAttributes) {
    JsonObject data = obj("object", object.deepCopy());
    if (previousAttributes != null) {
      data.add("previous_attributes", previousAttributes);
    }
    JsonObject event =
        obj(
            "id",
            newId("evt"),
            "object",
            "event",
            "api_version",
            API_VERSION,
            "created",
            now(),
            "data",
            data,
            "livemode",
            false,
            "pending_webhooks",
            1,
            "request",
            obj("id", newId("req"), "idempotency_key", null),
            "type",
            type);
    events.add(event);
    eventSink.accept(event);
  }

  synchronized JsonObject event(String id) {
    return events.stream()
        .filter(e -> id.equals(str(e, "id")))
        .findFirst()
        .orElseThrow(() -> EmulatorError.missing("event", id, "id"));
  }

  /**
   * Newest first, like Stripe; {@code type} filter, {@code starting_after} cursor, {@code limit}.
   */
  synchronized JsonObject listEvents(Params p) {
    int limit = (int) Math.min(100, Math.max(1, p.longValue("limit", 10)));
    String type = p.string("type");
    String after = p.string("starting_after");
    long createdGte = p.longValue("created.gte", Long.MIN_VALUE);
    JsonArray data = new JsonArray();
    boolean started = after == null;
    boolean more = false;
    for (int i = events.size() - 1; i >= 0; i--) {
      JsonObject e = events.get(i);
      if (!started) {
        started = after.equals(str(e, "id"));
        continue;
      }
      if (type != null && !type.equals(str(e, "type"))) {
        continue;
      }
      if (num(e, "created") < createdGte) {
        continue;
      }
      if (data.size() == limit) {
        more = true;
        break;
      }
      data.add(e);
    }
    return list(data, "/v1/events", more);
  }

  // ---------------------------------------------------------------- customers

  synchronized JsonObject createCustomer(Params p) {
    String clockId = p.string("test_clock");
    if (clockId != null) {
      require(testClocks, clockId, "test_clock");
    }
    JsonObject c = newCustomer(p.string("email"), p.stringMap("metadata"));
    if (clockId != null) {
      c.addProperty("test_clock", clockId);
    }
    return c.deepCopy();
  }

  /**
   * {@code GET /v1/customers/search?query=metadata['user_id']:'alice'}: the one query form this
   * service's tools use.
   */
  /**
   * {@code GET /v1/customers?email=}: customers with this email (case-insensitive), newest first.
   */
  synchronized JsonObject listCustomers(Params p) {
    String email = p.string("email");
    List<JsonObject> matching = new ArrayList<>();
    for (JsonObject c : customers.values()) {
      if (email == null || email.equalsIgnoreCase(str(c, "email"))) {
        matching.add(c);
      }
    }
    java.util.Collections.reverse(matching);
    JsonArray data = new JsonArray();
    matching.stream().limit(100).forEach(c -> data.add(c.deepCopy()));
    return list(data, "/v1/customers", false);
  }

  synchronized JsonObject searchCustomers(Params p) {
    String query = p.string("query");
    java.util.regex.Matcher m =
        query == null
            ? null
            : java.util.regex.Pattern.compile("metadata\\['([^']+)'\\]:'([^']*)'").matcher(query);
    if (m == null || !m.matches()) {
      throw EmulatorError.invalid(
          "The emulator searches customers by metadata only: metadata['key']:'value'", "query");
    }
    JsonArray data = new JsonArray();
    for (JsonObject c : customers.values()) {
      JsonObject md = c.getAsJsonObject("metadata");
      if (md != null && md.has(m.group(1)) && m.group(2).equals(md.get(m.group(1)).getAsString())) {
        data.add(c.deepCopy());
      }
    }
    JsonObject result = list(data, "/v1/customers/search", false);
    result.addProperty("object", "search_result");
    return result;
  }

  private JsonObject newCustomer(String email, Map<String, String> metadata) {
    JsonObject c =
        obj(
            "id",
            newId("cus"),
            "object",
            "customer",
            "email",
            email,
            "created",
            now(),
            "livemode",
            false,
            "metadata",
            metadata,
            "balance",
            0,
            "currency",
            null,
            "delinquent",
            false,
            "invoice_settings",
            obj("default_payment_method", null));
    customers.put(str(c, "id"), c);
    emit("customer.created", c);
    return c;
  }

  synchronized JsonObject customer(String id) {
    return require(customers, id, "customer");
  }

  private JsonObject customerForUser(String userId) {
    for (JsonObject c : customers.values()) {
      if (userId.equals(str(c.getAsJsonObject("metadata"), "user_id"))) {
        return c;
      }
    }
    return newCustomer(userId + "@example.test", Map.of("user_id", userId));
  }

  // ---------------------------------------------------------------- checkout

  synchronized JsonObject createCheckoutSession(Params p, String baseUrl) {
    String mode = p.string("mode");
    if (mode == null || !List.of("payment", "subscription").contains(mode)) {
      throw EmulatorError.invalid("Invalid mode: must be one of payment or subscription", "mode");
    }
    if (p.string("success_url") == null) {
      throw EmulatorError.invalid("Missing required param: success_url.", "success_url");
    }
    if (p.has("discounts") && p.bool("allow_promotion_codes")) {
      throw EmulatorError.invalid(
          "You may only specify one of these parameters: allow_promotion_codes, discounts.",
          "discounts");
    }
    String customer = p.string("customer");
    if (customer != null && !customers.containsKey(customer)) {
      throw EmulatorError.missing("customer", customer, "customer");
    }
    List<Params> items = p.list("line_items");
    if (items.isEmpty()) {
      throw EmulatorError.invalid("Missing required param: line_items.", "line_items");
    }
    JsonArray lines = new JsonArray();
    long subtotal = 0;
    String currency = null;
    for (int i = 0; i < items.size(); i++) {
      Params item = items.get(i);
      long quantity = item.longValue("quantity", 1);
      JsonObject price;
      if (item.string("price") != null) {
        price = prices.get(item.string("price"));
        if (price == null) {
          throw EmulatorError.missing(
              "price", item.string("price"), "line_items[" + i + "][price]");
        }
        if ("payment".equals(mode) && price.has("recurring")) {
          throw EmulatorError.invalid(
              "You must provide at least one recurring price in `subscription` mode when using prices.",
              "line_items[" + i + "][price]");
        }
      } else if (item.has("price_data")) {
        long amount = item.longValue("price_data.unit_amount", -1);
        String cur = item.string("price_data.currency");
        if (amount < 0 || cur == null) {
          throw EmulatorError.invalid(
              "Missing required param: line_items[" + i + "][price_data][unit_amount].",
              "line_items[" + i + "][price_data]");
        }
        if (amount < 50) {
          throw EmulatorError.invalid(
              "Amount must be at least 50 cents.",
              "line_items[" + i + "][price_data][unit_amount]");
        }
        price =
            obj(
                "id",
                newId("price"),
                "object",
                "price",
                "active",
                false,
                "currency",
                cur,
                "unit_amount",
                amount,
                "product",
                newId("prod"),
                "type",
                "one_time",
                "nickname",
                item.string("price_data.product_data.name"));
        prices.put(str(price, "id"), price);
      } else {
        throw EmulatorError.invalid(
            "Each line item needs a price or price_data.", "line_items[" + i + "]");
      }
      currency = str(price, "currency");
      subtotal += num(price, "unit_amount") * quantity;
      lines.add(
          obj(
              "id",
              newId("li"),
              "object",
              "item",
              "price",
              price,
              "quantity",
              quantity,
              "amount_total",
              num(price, "unit_amount") * quantity,
              "currency",
              currency,
              "description",
              str(price, "nickname")));
    }
    String coupon = null;
    List<Params> discounts = p.list("discounts");
    if (!discounts.isEmpty()) {
      coupon = discounts.getFirst().string("coupon");
      if (coupon == null || !coupons.containsKey(coupon)) {
        throw EmulatorError.missing("coupon", String.valueOf(coupon), "discounts[0][coupon]");
      }
    }
    long trialDays = p.longValue("subscription_data.trial_period_days", 0);
    long total = discounted(subtotal, coupon);
    if (trialDays > 0) {
      total = 0;
    }
    long expiresAt = p.longValue("expires_at", now() + DAY);
    String id = newId("cs_test");
    JsonObject s =
        obj(
            "id",
            id,
            "object",
            "checkout.session",
            "mode",
            mode,
            "status",
            "open",
            "payment_status",
            "unpaid",
            "customer",
            customer,
            "client_reference_id",
            p.string("client_reference_id"),
            "success_url",
            p.string("success_url"),
            "cancel_url",
            p.string("cancel_url"),
            "amount_subtotal",
            subtotal,
            "amount_total",
            total,
            "currency",
            currency,
            "created",
            now(),
            "expires_at",
            expiresAt,
            "livemode",
            false,
            "metadata",
            p.stringMap("metadata"),
            "allow_promotion_codes",
            p.bool("allow_promotion_codes"),
            "payment_intent",
            null,
            "subscription",
            null,
            "invoice",
            null,
            "url",
            baseUrl + "/checkout/" + id,
            "line_items",
            list(lines, "/v1/checkout/sessions/" + id + "/line_items", false),
            "discounts",
            coupon == null ? new JsonArray() : array(obj("coupon", coupon)),
            "subscription_data",
            obj(
                "metadata",
                p.stringMap("subscription_data.metadata"),
                "trial_period_days",
                trialDays == 0 ? null : trialDays),
            "payment_intent_data",
            obj("metadata", p.stringMap("payment_intent_data.metadata")));
    sessions.put(id, s);
    return publicSession(s);
  }

  private long discounted(long amount, String coupon) {
    if (coupon == null) {
      return amount;
    }
    long percent = num(coupons.get(coupon), "percent_off");
    return amount - amount * percent / 100;
  }

  /** The session as the API returns it (without the emulator's private fields). */
  private static JsonObject publicSession(JsonObject s) {
    JsonObject copy = s.deepCopy();
    copy.remove("subscription_data");
    copy.remove("payment_intent_data");
    copy.remove("line_items");
    return copy;
  }

  synchronized JsonObject session(String id) {
    return publicSession(require(sessions, id, "checkout.session"));
  }

  /** The session with its line items, for the hosted page. */
  synchronized JsonObject sessionForPage(String id) {
    JsonObject s = sessions.get(id);
    return s == null ? null : s.deepCopy();
  }

  synchronized JsonObject expireSession(String id) {
    JsonObject s = require(sessions, id, "checkout.session");
    if (!"open".equals(str(s, "status"))) {
      throw EmulatorError.invalid(
          "Only Checkout Sessions with a status of `open` can be expired. This Checkout Session has a status of `"
              + str(s, "status")
              + "`.",
          null);
    }
    s.addProperty("status", "expired");
    emit("checkout.session.expired", publicSession(s));
    return publicSession(s);
  }

  /** Expires open sessions whose {@code expires_at} has passed, as Stripe does. */
  synchronized int expireDue() {
    int n = 0;
    for (JsonObject s : sessions.values()) {
      if ("open".equals(str(s, "status")) && num(s, "expires_at") <= now()) {
        s.addProperty("status", "expired");
        emit("checkout.session.expired", publicSession(s));
        n++;
      }
    }
    return n;
  }

  /** What happened when someone paid on the hosted page. */
  record PayResult(Outcome outcome, JsonObject session, String message, String declineCode) {}

  /** Outcomes of a payment attempt. */
  enum Outcome {
    SUCCEEDED,
    DECLINED,
    REQUIRES_ACTION,
    NOT_OPEN
  }

  /**
   * A payment on the hosted page. {@code threeDs} is null on the first attempt, "complete" or
   * "fail" once the user answered the authentication challenge.
   */
  /** Pays a session, at the time of its customer's test clock if it has one. */
  synchronized PayResult pay(
      String sessionId, String cardNumber, String threeDs, String email, String promotionCode) {
    JsonObject session = require(sessions, sessionId, "checkout.session");
    return atClockOf(
        str(session, "customer"),
        () -> payNow(sessionId, cardNumber, threeDs, email, promotionCode));
  }

  private PayResult payNow(
      String sessionId, String cardNumber, String threeDs, String email, String promotionCode) {
    JsonObject s = require(sessions, sessionId, "checkout.session");
    if (!"open".equals(str(s, "status"))) {
      return new PayResult(
          Outcome.NOT_OPEN,
          publicSession(s),
          "This checkout session is " + str(s, "status") + ".",
          null);
    }
    TestCards card = TestCards.of(cardNumber);
    if (card == TestCards.REQUIRES_AUTHENTICATION) {
      if (threeDs == null) {
        return new PayResult(
            Outcome.REQUIRES_ACTION,
            publicSession(s),
            "Your bank requires you to authenticate this payment.",
            null);
      }
      if (!"complete".equals(threeDs)) {
        card = null;
      }
    }
    if (promotionCode != null
        && !promotionCode.isBlank()
        && s.get("allow_promotion_codes").getAsBoolean()) {
      String coupon = promotionCodes.get(promotionCode.strip().toUpperCase());
      if (coupon == null) {
        return new PayResult(
            Outcome.DECLINED, publicSession(s), "This promotion code is invalid.", null);
      }
      s.add(
          "discounts",
          array(obj("coupon", coupon, "promotion_code", promotionCode.strip().toUpperCase())));
      if (!"subscription".equals(str(s, "mode"))
          || s.getAsJsonObject("subscription_data").get("trial_period_days").isJsonNull()) {
        s.addProperty("amount_total", discounted(num(s, "amount_subtotal"), coupon));
      }
    }
    JsonObject customer =
        str(s, "customer") != null
            ? customers.get(str(s, "customer"))
            : newCustomer(email, userMetadata(s));
    s.addProperty("customer", str(customer, "id"));
    boolean subscription = "subscription".equals(str(s, "mode"));
    long amount = num(s, "amount_total");
    if (card == null
        || (card != TestCards.SUCCESS
            && card != TestCards.REQUIRES_AUTHENTICATION
            && card != TestCards.DECLINE_AFTER_ATTACHING)) {
      String code = card == null ? "payment_intent_authentication_failure" : card.code;
      String decline = card == null ? null : card.declineCode;
      String message =
          card == null ? "We are unable to authenticate your payment method." : card.message();
      if (card != TestCards.INVALID_NUMBER) {
        failedPayment(s, customer, amount, code, decline, message, subscription);
      }
      return new PayResult(
          Outcome.DECLINED, publicSession(s), message, decline != null ? decline : code);
    }
    rememberCard(customer, cardNumber, card);
    if (subscription) {
      completeSubscription(s, customer);
    } else {
      completePayment(s, customer, amount);
    }
    return new PayResult(Outcome.SUCCEEDED, publicSession(s), "Payment succeeded.", null);
  }

  private static Map<String, String> userMetadata(JsonObject s) {
    String user = str(s.getAsJsonObject("metadata"), "user_id");
    if (user == null) {
      user = str(s, "client_reference_id");
    }
    return user == null ? Map.of() : Map.of("user_id", user);
  }

  private Map<String, String> metadataOf(JsonObject s, String key) {
    Map<String, String> m = new LinkedHashMap<>();
    s.getAsJsonObject(key)
        .getAsJsonObject("metadata")
        .entrySet()
        .forEach(e -> m.put(e.getKey(), e.getValue().getAsString()));
    return m;
  }

  private void failedPayment(
      JsonObject s,
      JsonObject customer,
      long amount,
      String code,
      String decline,
      String message,
      boolean subscription) {
    Map<String, String> metadata = subscription ? Map.of() : metadataOf(s, "payment_intent_data");
    JsonObject error =
        obj(
            "type",
            "card_error",
            "code",
            code,
            "decline_code",
            decline,
            "message",
            message,
            "payment_method",
            obj("id", newId("pm"), "object", "payment_method", "type", "card"));
    JsonObject pi =
        intent(
            customer,
            Math.max(amount, 50),
            str(s, "currency"),
            metadata,
            "requires_payment_method");
    pi.add("last_payment_error", error);
    JsonObject charge = charge(pi, "failed");
    charge.addProperty("failure_code", code);
    charge.addProperty("failure_message", message);
    charge.add(
        "outcome",
        obj("type", "issuer_declined", "reason", decline, "network_status", "declined_by_network"));
    pi.addProperty("latest_charge", str(charge, "id"));
    if (!subscription) {
      s.addProperty("payment_intent", str(pi, "id"));
    }
    emit("payment_intent.created", pi);
    emit("charge.failed", charge);
    emit("payment_intent.payment_failed", pi);
  }

  private JsonObject intent(
      JsonObject customer,
      long amount,
      String currency,
      Map<String, String> metadata,
      String status) {
    JsonObject pi =
        obj(
            "id",
            newId("pi"),
            "object",
            "payment_intent",
            "amount",
            amount,
            "amount_received",
            "succeeded".equals(status) ? amount : 0,
            "currency",
            currency,
            "customer",
            str(customer, "id"),
            "status",
            status,
            "created",
            now(),
            "livemode",
            false,
            "metadata",
            metadata,
            "latest_charge",
            null,
            "last_payment_error",
            null,
            "cancellation_reason",
            null,
            "payment_method_types",
            array(Json.value("card")));
    intents.put(str(pi, "id"), pi);
    return pi;
  }

  private JsonObject charge(JsonObject pi, String status) {
    boolean paid = "succeeded".equals(status);
    JsonObject c =
        obj(
            "id",
            newId("ch"),
            "object",
            "charge",
            "amount",
            num(pi, "amount"),
            "amount_captured",
            paid ? num(pi, "amount") : 0,
            "amount_refunded",
            0,
            "captured",
            paid,
            "currency",
            str(pi, "currency"),
            "customer",
            str(pi, "customer"),
            "paid",
            paid,
            "refunded",
            false,
            "status",
            status,
            "payment_intent",
            str(pi, "id"),
            "metadata",
            pi.get("metadata").deepCopy(),
            "created",
            now(),
            "livemode",
            false,
            "refunds",
            list(new JsonArray(), "/v1/charges/refunds", false),
            "payment_method_details",
            obj("type", "card", "card", obj("brand", "visa", "last4", "4242")));
    charges.put(str(c, "id"), c);
    return c;
  }

  private void completePayment(JsonObject s, JsonObject customer, long amount) {
    JsonObject pi =
        intent(
            customer,
            amount,
            str(s, "currency"),
            metadataOf(s, "payment_intent_data"),
            "succeeded");
    JsonObject charge = charge(pi, "succeeded");
    pi.addProperty("latest_charge", str(charge, "id"));
    s.addProperty("payment_intent", str(pi, "id"));
    s.addProperty("status", "complete");
    s.addProperty("payment_status", "paid");
    emit("payment_intent.created", pi);
    emit("charge.succeeded", charge);
    emit("payment_intent.succeeded", pi);
    emit("checkout.session.completed", publicSession(s));
  }

  private void completeSubscription(JsonObject s, JsonObject customer) {
    JsonObject item =
        s.getAsJsonObject("line_items").getAsJsonArray("data").get(0).getAsJsonObject();
    JsonObject price = item.getAsJsonObject("price");
    JsonElement trial = s.getAsJsonObject("subscription_data").get("trial_period_days");
    long trialDays = trial == null || trial.isJsonNull() ? 0 : trial.getAsLong();
    String coupon =
        s.getAsJsonArray("discounts").isEmpty()
            ? null
            : str(s.getAsJsonArray("discounts").get(0).getAsJsonObject(), "coupon");
    JsonObject sub =
        newSubscription(customer, price, trialDays, metadataOf(s, "subscription_data"), coupon);
    emit("customer.subscription.created", sub);
    JsonObject invoice = invoiceFor(sub, trialDays > 0 ? 0 : num(s, "amount_total"), true);
    s.addProperty("subscription", str(sub, "id"));
    s.addProperty("invoice", str(invoice, "id"));
    s.addProperty("status", "complete");
    s.addProperty("payment_status", trialDays > 0 ? "no_payment_required" : "paid");
    emit("checkout.session.completed", publicSession(s));
  }

  private JsonObject newSubscription(
      JsonObject customer,
      JsonObject price,
      long trialDays,
      Map<String, String> metadata,
      String coupon) {
    long start = now();
    long periodEnd = trialDays > 0 ? start + trialDays * DAY : start + 30 * DAY;
    String id = newId("sub");
    JsonObject item =
        obj(
            "id",
            newId("si"),
            "object",
            "subscription_item",
            "price",
            price.deepCopy(),
            "quantity",
            1,
            "subscription",
            id,
            "created",
            start,
            "current_period_start",
            start,
            "current_period_end",
            periodEnd,
            "metadata",
            Map.of(),
            "discounts",
            new JsonArray());
    JsonObject sub =
        obj(
            "id",
            id,
            "object",
            "subscription",
            "customer",
            str(customer, "id"),
            "status",
            trialDays > 0 ? "trialing" : "active",
            "cancel_at_period_end",
            false,
            "cancel_at",
            null,
            "canceled_at",
            null,
            "ended_at",
            null,
            "collection_method",
            "charge_automatically",
            "created",
            start,
            "start_date",
            start,
            "currency",
            str(price, "currency"),
            "livemode",
            false,
            "metadata",
            metadata,
            "trial_start",
            trialDays > 0 ? start : null,
            "trial_end",
            trialDays > 0 ? periodEnd : null,
            "items",
            list(array(item), "/v1/subscription_items?subscription=" + id, false),
            "latest_invoice",
            null,
            "pause_collection",
            null,
            "discounts",
            coupon == null ? new JsonArray() : array(Json.value(coupon)),
            "billing_mode",
            obj("type", "flexible"));
    subscriptions.put(id, sub);
    return sub;
  }

  /**
   * An invoice for the subscription's current period; paid (with payment intent and charge) or
   * failed.
   */
  private JsonObject invoiceFor(JsonObject sub, long amount, boolean paid) {
    return invoiceFor(sub, amount, paid, new JsonArray());
  }

  private JsonObject invoiceFor(JsonObject sub, long amount, boolean paid, JsonArray extraLines) {
    return invoiceFor(sub, amount, paid, extraLines, null);
  }

  /**
   * {@code onlyLines}: the invoice's lines instead of the subscription's price (a proration
   * invoice, billing reason {@code subscription_update}); null for a period's invoice.
   */
  private JsonObject invoiceFor(
      JsonObject sub, long amount, boolean paid, JsonArray extraLines, JsonArray onlyLines) {
    JsonObject item = sub.getAsJsonObject("items").getAsJsonArray("data").get(0).getAsJsonObject();
    String id = newId("in");
    JsonObject invoice =
        obj(
            "id",
            id,
            "object",
            "invoice",
            "customer",
            str(sub, "customer"),
            "currency",
            str(sub, "currency"),
            "amount_due",
            amount,
            "amount_paid",
            paid ? amount : 0,
            "amount_remaining",
            paid ? 0 : amount,
            "total",
            amount,
            "subtotal",
            amount,
            "status",
            "open",
            "created",
            now(),
            "billing_reason",
            sub.get("latest_invoice").isJsonNull() ? "subscription_create" : "subscription_cycle",
            "period_start",
            num(item, "current_period_start"),
            "period_end",
            num(item, "current_period_end"),
            "livemode",
            false,
            "metadata",
            Map.of(),
            "attempt_count",
            1,
            "next_payment_attempt",
            null,
            "parent",
            obj(
                "type",
                "subscription_details",
                "quote_details",
                null,
                "subscription_details",
                obj("subscription", str(sub, "id"), "metadata", sub.get("metadata").deepCopy())),
            "lines",
            list(
                array(
                    obj(
                        "id",
                        newId("il"),
                        "object",
                        "line_item",
                        "amount",
                        amount,
                        "currency",
                        str(sub, "currency"),
                        "description",
                        "1 × " + str(item.getAsJsonObject("price"), "nickname"),
                        "period",
                        obj(
                            "start",
                            num(item, "current_period_start"),
                            "end",
                            num(item, "current_period_end")),
                        "pricing",
                        obj(
                            "type",
                            "price_details",
                            "price_details",
                            obj(
                                "price", str(item.getAsJsonObject("price"), "id"),
                                "product", str(item.getAsJsonObject("price"), "product"))))),
                "/v1/invoices/" + id + "/lines",
                false));
    if (onlyLines != null) {
      invoice.getAsJsonObject("lines").add("data", onlyLines);
      invoice.addProperty("billing_reason", "subscription_update");
    }
    invoice.getAsJsonObject("lines").getAsJsonArray("data").addAll(extraLines);
    invoices.put(id, invoice);
    sub.addProperty("latest_invoice", id);
    emit("invoice.created", invoice);
    invoice.addProperty("status", "open");
    emit("invoice.finalized", invoice);
    if (amount > 0) {
      JsonObject customer = customers.get(str(sub, "customer"));
      JsonObject pi =
          intent(
              customer,
              amount,
              str(sub, "currency"),
              Map.of(),
              paid ? "succeeded" : "requires_payment_method");
      JsonObject charge = charge(pi, paid ? "succeeded" : "failed");
      pi.addProperty("latest_charge", str(charge, "id"));
      invoice.add(
          "payments",
          list(
              array(
                  obj(
                      "object",
                      "invoice_payment",
                      "payment",
                      obj("type", "payment_intent", "payment_intent", str(pi, "id")))),
              "/v1/invoice_payments",
              false));
      if (paid) {
        emit("charge.succeeded", charge);
        emit("payment_intent.succeeded", pi);
      } else {
        // The saved card's own decline, if it has one (else the renewal test's insufficient funds).
        TestCards saved = cardBehind.get(defaultPaymentMethod(str(sub, "customer")));
        TestCards decline =
            saved != null && saved.declineCode != null ? saved : TestCards.INSUFFICIENT_FUNDS;
        pi.add("last_payment_error", decline.lastError());
        emit("charge.failed", charge);
        emit("payment_intent.payment_failed", pi);
      }
    }
    if (paid) {
      invoice.addProperty("status", "paid");
      emit("invoice.paid", invoice);
      emit("invoice.payment_succeeded", invoice);
    } else {
      invoice.addProperty("attempt_count", 1);
      invoice.addProperty("next_payment_attempt", now() + 3 * DAY);
      emit("invoice.payment_failed", invoice);
    }
    return invoice;
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * {@code GET /v1/subscriptions?customer=&status=all}: a customer's subscriptions, newest first.
   */
  synchronized JsonObject listSubscriptions(Params p) {
    String customer = p.string("customer");
    String status = p.string("status");
    int limit = (int) Math.min(100, Math.max(1, p.longValue("limit", 10)));
    String after = p.string("starting_after");
    List<JsonObject> matching = new ArrayList<>();
    for (JsonObject s : subscriptions.values()) {
      boolean statusMatches =
          "all".equals(status)
              || (status == null
                  ? !"canceled".equals(str(s, "status"))
                      && !"incomplete_expired".equals(str(s, "status"))
                  : status.equals(str(s, "status")));
      if ((customer == null || customer.equals(str(s, "customer"))) && statusMatches) {
        matching.add(s);
      }
    }
    java.util.Collections.reverse(matching);
    return page(matching, after, limit, "/v1/subscriptions");
  }

  /**
   * A page of a newest-first list, as Stripe pages: after {@code starting_after}, at most limit.
   */
  private static JsonObject page(
      List<JsonObject> newestFirst, String after, int limit, String url) {
    JsonArray data = new JsonArray();
    boolean started = after == null;
    boolean more = false;
    for (JsonObject o : newestFirst) {
      if (!started) {
        started = after.equals(str(o, "id"));
        continue;
      }
      if (data.size() == limit) {
        more = true;
        break;
      }
      data.add(o.deepCopy());
    }
    return list(data, url, more);
  }

  synchronized JsonObject subscription(String id) {
    return require(subscriptions, id, "subscription").deepCopy();
  }

  synchronized JsonObject updateSubscription(String id, Params p) {
    JsonObject sub = require(subscriptions, id, "subscription");
    JsonObject previous = new JsonObject();
    if (p.has("cancel_at_period_end")) {
      previous.add("cancel_at_period_end", sub.get("cancel_at_period_end"));
      boolean cancel = p.bool("cancel_at_period_end");
      sub.addProperty("cancel_at_period_end", cancel);
      JsonObject item =
          sub.getAsJsonObject("items").getAsJsonArray("data").get(0).getAsJsonObject();
      sub.add("cancel_at", cancel ? Json.value(num(item, "current_period_end")) : Json.value(null));
    }
    if (p.has("metadata")) {
      previous.add("metadata", sub.get("metadata"));
      JsonObject md = sub.getAsJsonObject("metadata").deepCopy();
      p.stringMap("metadata").forEach(md::addProperty);
      sub.add("metadata", md);
    }
    if (p.has("items.0.price")) {
      return atClockOf(str(sub, "customer"), () -> changePrice(sub, p, previous));
    }
    emit("customer.subscription.updated", sub, previous);
    return sub.deepCopy();
  }

  // ---------------------------------------------------------------- subscription schedules

  private final Map<String, JsonObject> schedules = new LinkedHashMap<>();

  private static final long PHASE_ITERATION = 30 * DAY;

  /** {@code POST /v1/subscription_schedules} with {@code from_subscription}. */
  synchronized JsonObject createSchedule(Params p) {
    String subId = p.string("from_subscription");
    if (subId == null) {
      throw EmulatorError.invalid(
          "from_subscription is required by the local emulator.", "from_subscription");
    }
    JsonObject sub = require(subscriptions, subId, "subscription");
    if (sub.has("schedule") && !sub.get("schedule").isJsonNull()) {
      throw EmulatorError.invalid(
          "You cannot migrate a subscription that is already attached to a schedule: `"
              + str(sub, "schedule")
              + "`.",
          "from_subscription");
    }
    if (!"active".equals(str(sub, "status")) && !"trialing".equals(str(sub, "status"))) {
      throw EmulatorError.invalid(
          "A subscription in status " + str(sub, "status") + " cannot get a schedule.",
          "from_subscription");
    }
    return atClockOf(
        str(sub, "customer"),
        () -> {
          JsonObject item = firstItem(sub);
          long start = num(item, "current_period_start");
          long end = num(item, "current_period_end");
          String id = newId("sub_sched");
          JsonObject schedule =
              obj(
                  "id",
                  id,
                  "object",
                  "subscription_schedule",
                  "created",
                  now(),
                  "customer",
                  str(sub, "customer"),
                  "subscription",
                  subId,
                  "status",
                  "active",
                  "end_behavior",
                  "release",
                  "released_at",
                  null,
                  "released_subscription",
                  null,
                  "current_phase",
                  obj("start_date", start, "end_date", end),
                  "phases",
                  array(phase(str(item.getAsJsonObject("price"), "id"), start, end)),
                  "metadata",
                  Map.of());
          schedules.put(id, schedule);
          JsonObject previous = obj("schedule", null);
          sub.addProperty("schedule", id);
          emit("subscription_schedule.created", schedule);
          emit("customer.subscription.updated", sub, previous);
          return schedule.deepCopy();
        });
  }

  private static JsonObject phase(String priceId, long start, long end) {
    return obj(
        "start_date",
        start,
        "end_date",
        end,
        "items",
        array(obj("price", priceId, "quantity", 1)),
        "proration_behavior",
        "create_prorations");
  }

  synchronized JsonObject schedule(String id) {
    return require(schedules, id, "subscription_schedule").deepCopy();
  }

  /**
   * {@code POST /v1/subscription_schedules/{id}} with {@code phases}: each phase's {@code
   * items[0][price]}, the first one's {@code start_date}, and an {@code end_date} or a {@code
   * duration} (a month is the emulator's 30-day period) for each; {@code end_behavior}.
   */
  synchronized JsonObject updateSchedule(String id, Params p) {
    JsonObject schedule = require(schedules, id, "subscription_schedule");
    if (!"active".equals(str(schedule, "status"))
        && !"not_started".equals(str(schedule, "status"))) {
      throw EmulatorError.invalid(
          "You cannot update a subscription schedule that is " + str(schedule, "status") + ".",
          "phases");
    }
    JsonObject previous = obj("phases", schedule.get("phases").deepCopy());
    List<Params> phases = p.list("phases");
    if (!phases.isEmpty()) {
      JsonArray out = new JsonArray();
      long cursor = num(schedule.getAsJsonObject("current_phase"), "start_date");
      for (int i = 0; i < phases.size(); i++) {
        Params ph = phases.get(i);
        String price = ph.string("items.0.price");
        if (price == null) {
          throw EmulatorError.invalid(
              "Each phase needs items[0][price].", "phases[" + i + "][items]");
        }
        priceObject(price);
        long start = i == 0 ? ph.longValue("start_date", cursor) : cursor;
        long end;
        if (ph.has("end_date")) {
          end = ph.longValue("end_date", 0);
        } else if (ph.has("duration.interval")) {
          long unit =
              switch (ph.string("duration.interval")) {
                case "day" -> DAY;
                case "week" -> 7 * DAY;
                case "year" -> 365 * DAY;
                default -> PHASE_ITERATION; // a month is the emulator's 30-day period
              };
          end = start + unit * ph.longValue("duration.interval_count", 1);
        } else {
          end = start + PHASE_ITERATION * ph.longValue("iterations", 1);
        }
        if (end <= start) {
          throw EmulatorError.invalid(
              "A phase must end after it starts.", "phases[" + i + "][end_date]");
        }
        out.add(phase(price, start, end));
        cursor = end;
      }
      schedule.add("phases", out);
    }
    if (p.has("end_behavior")) {
      schedule.addProperty("end_behavior", p.string("end_behavior"));
    }
    emit("subscription_schedule.updated", schedule, previous);
    return schedule.deepCopy();
  }

  /** {@code POST /v1/subscription_schedules/{id}/release}: the subscription goes on alone. */
  synchronized JsonObject releaseSchedule(String id) {
    JsonObject schedule = require(schedules, id, "subscription_schedule");
    if (!"active".equals(str(schedule, "status"))) {
      throw EmulatorError.invalid(
          "You cannot release a subscription schedule that is " + str(schedule, "status") + ".",
          "schedule");
    }
    JsonObject sub = subscriptions.get(str(schedule, "subscription"));
    return atClockOf(
        str(schedule, "customer"),
        () -> {
          release(schedule, sub);
          emit("subscription_schedule.released", schedule);
          if (sub != null) {
            emit("customer.subscription.updated", sub, obj("schedule", str(schedule, "id")));
          }
          return schedule.deepCopy();
        });
  }

  private void release(JsonObject schedule, JsonObject sub) {
    schedule.addProperty("status", "released");
    schedule.addProperty("released_at", now());
    schedule.addProperty("released_subscription", str(schedule, "subscription"));
    schedule.add("current_phase", Json.value(null));
    if (sub != null) {
      sub.add("schedule", Json.value(null));
    }
  }

  /**
   * At a period boundary of a subscription on a schedule: the phase starting there sets the price
   * (no proration: the boundary is a renewal); a schedule whose last phase ended there is released
   * (end_behavior release). Returns the released schedule, or null.
   */
  private JsonObject schedulePhaseAt(JsonObject sub, long boundary, JsonObject previous) {
    if (!sub.has("schedule") || sub.get("schedule").isJsonNull()) {
      return null;
    }
    JsonObject schedule = schedules.get(str(sub, "schedule"));
    if (schedule == null) {
      return null;
    }
    JsonObject next = null;
    long lastEnd = 0;
    for (var e : schedule.getAsJsonArray("phases")) {
      JsonObject ph = e.getAsJsonObject();
      if (num(ph, "start_date") == boundary) {
        next = ph;
      }
      lastEnd = Math.max(lastEnd, num(ph, "end_date"));
    }
    JsonObject item = firstItem(sub);
    if (next != null) {
      String price = str(next.getAsJsonArray("items").get(0).getAsJsonObject(), "price");
      if (!price.equals(str(item.getAsJsonObject("price"), "id"))) {
        if (previous.has("items")) {
          previous
              .getAsJsonObject("items")
              .getAsJsonArray("data")
              .get(0)
              .getAsJsonObject()
              .add("price", item.get("price").deepCopy());
        } else {
          previous.add(
              "items",
              obj(
                  "data",
                  array(obj("id", str(item, "id"), "price", item.get("price").deepCopy()))));
        }
        JsonObject newPrice = priceObject(price);
        item.add("price", newPrice.deepCopy());
        item.add("plan", newPrice.deepCopy());
      }
      schedule.add(
          "current_phase",
          obj("start_date", num(next, "start_date"), "end_date", num(next, "end_date")));
      return null;
    }
    if (boundary >= lastEnd && "release".equals(str(schedule, "end_behavior"))) {
      previous.addProperty("schedule", str(schedule, "id"));
      release(schedule, sub);
      return schedule;
    }
    return null;
  }

  // ---------------------------------------------------------------- payment methods and intents

  /** Stripe's test payment method tokens (pm_card_...) and how the card behind each answers. */
  private static TestCards testToken(String token) {
    return switch (token) {
      case "pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_us" -> TestCards.SUCCESS;
      case "pm_card_chargeDeclined", "pm_card_visa_chargeDeclined" -> TestCards.GENERIC_DECLINE;
      case "pm_card_chargeDeclinedInsufficientFunds",
          "pm_card_visa_chargeDeclinedInsufficientFunds" ->
          TestCards.INSUFFICIENT_FUNDS;
      case "pm_card_chargeDeclinedExpiredCard" -> TestCards.EXPIRED;
      case "pm_card_threeDSecure2Required", "pm_card_authenticationRequired" ->
          TestCards.REQUIRES_AUTHENTICATION;
      case "pm_card_chargeCustomerFail" -> TestCards.DECLINE_AFTER_ATTACHING;
      default -> null;
    };
  }

  private static String testTokenLast4(String token) {
    return switch (token) {
      case "pm_card_mastercard" -> "4444";
      case "pm_card_amex" -> "0005";
      case "pm_card_chargeDeclined", "pm_card_visa_chargeDeclined" -> "0002";
      case "pm_card_chargeDeclinedInsufficientFunds",
          "pm_card_visa_chargeDeclinedInsufficientFunds" ->
          "9995";
      case "pm_card_chargeDeclinedExpiredCard" -> "0069";
      case "pm_card_threeDSecure2Required" -> "3220";
      case "pm_card_authenticationRequired" -> "3184";
      case "pm_card_chargeCustomerFail" -> "0341";
      default -> "4242";
    };
  }

  /**
   * The payment method {@code idOrToken} names: a saved one (pm_...), or a new one made from a test
   * token (pm_card_visa, ...), as Stripe does.
   */
  private JsonObject paymentMethod(String idOrToken, String param) {
    if (idOrToken == null) {
      throw EmulatorError.invalid("payment_method is required.", param);
    }
    JsonObject saved = paymentMethods.get(idOrToken);
    if (saved != null) {
      return saved;
    }
    TestCards card = testToken(idOrToken);
    if (card == null) {
      throw EmulatorError.missing("PaymentMethod", idOrToken, param);
    }
    String last4 = testTokenLast4(idOrToken);
    JsonObject pm =
        newPaymentMethod(
            null,
            idOrToken.contains("mastercard")
                ? "mastercard"
                : idOrToken.contains("amex") ? "amex" : "visa",
            last4);
    cardBehind.put(str(pm, "id"), card);
    return pm;
  }

  private JsonObject newPaymentMethod(String customerId, String brand, String last4) {
    String id = newId("pm");
    JsonObject pm =
        obj(
            "id",
            id,
            "object",
            "payment_method",
            "type",
            "card",
            "customer",
            customerId,
            "created",
            now(),
            "livemode",
            false,
            "card",
            obj("brand", brand, "last4", last4, "exp_month", 12, "exp_year", 2034));
    paymentMethods.put(id, pm);
    return pm;
  }

  private void attach(JsonObject pm, String customerId) {
    if (customerId == null || customerId.equals(str(pm, "customer"))) {
      return;
    }
    if (str(pm, "customer") != null) {
      throw EmulatorError.invalid(
          "The payment method you provided has already been attached to a customer.",
          "payment_method");
    }
    pm.addProperty("customer", customerId);
    emit("payment_method.attached", pm);
  }

  synchronized JsonObject retrievePaymentMethod(String id) {
    return require(paymentMethods, id, "payment_method").deepCopy();
  }

  /**
   * {@code GET /v1/payment_methods?customer=&type=card}: a customer's saved cards, newest first.
   */
  synchronized JsonObject listPaymentMethods(Params p) {
    String customer = p.string("customer");
    if (customer == null) {
      throw EmulatorError.invalid("customer is required.", "customer");
    }
    require(customers, customer, "customer");
    List<JsonObject> matching = new ArrayList<>();
    for (JsonObject pm : paymentMethods.values()) {
      if (customer.equals(str(pm, "customer"))) {
        matching.add(pm);
      }
    }
    java.util.Collections.reverse(matching);
    JsonArray data = new JsonArray();
    matching.forEach(pm -> data.add(pm.deepCopy()));
    return list(data, "/v1/payment_methods", false);
  }

  /** {@code POST /v1/payment_methods/{id}/detach}. */
  synchronized JsonObject detachPaymentMethod(String id) {
    JsonObject pm = require(paymentMethods, id, "payment_method");
    String customerId = str(pm, "customer");
    if (customerId == null) {
      throw EmulatorError.invalid(
          "The payment method you provided is not attached to a customer so detachment is"
              + " impossible.",
          "payment_method");
    }
    JsonObject customer = customers.get(customerId);
    if (customer != null && id.equals(defaultPaymentMethod(customerId))) {
      JsonObject previous = obj("invoice_settings", customer.get("invoice_settings").deepCopy());
      customer.add("invoice_settings", obj("default_payment_method", null));
      emit("customer.updated", customer, previous);
    }
    pm.add("customer", Json.value(null));
    emit("payment_method.detached", pm, obj("customer", customerId));
    return pm.deepCopy();
  }

  /** {@code POST /v1/customers/{id}} with {@code invoice_settings[default_payment_method]}. */
  synchronized JsonObject updateCustomer(String id, Params p) {
    JsonObject customer = require(customers, id, "customer");
    JsonObject previous = new JsonObject();
    if (p.has("invoice_settings.default_payment_method")) {
      String pmId = p.string("invoice_settings.default_payment_method");
      JsonObject pm = require(paymentMethods, pmId, "payment_method");
      if (!id.equals(str(pm, "customer"))) {
        throw EmulatorError.invalid(
            "The customer does not have a payment method with the ID " + pmId + ".",
            "invoice_settings[default_payment_method]");
      }
      previous.add(
          "invoice_settings",
          customer.has("invoice_settings")
              ? customer.get("invoice_settings").deepCopy()
              : obj("default_payment_method", null));
      customer.add("invoice_settings", obj("default_payment_method", pmId));
    }
    if (p.has("metadata")) {
      previous.add("metadata", customer.get("metadata").deepCopy());
      JsonObject md = customer.getAsJsonObject("metadata");
      p.stringMap("metadata").forEach(md::addProperty);
    }
    if (p.has("email")) {
      previous.add("email", customer.get("email"));
      customer.addProperty("email", p.string("email"));
    }
    emit("customer.updated", customer, previous);
    return customer.deepCopy();
  }

  private String clientSecret(String id) {
    return id + "_secret_" + newId("x").substring(2);
  }

  /**
   * {@code POST /v1/payment_intents}: amount, currency, customer, metadata, and {@code confirm}.
   */
  synchronized JsonObject createPaymentIntent(Params p) {
    long amount = p.longValue("amount", 0);
    if (amount <= 0) {
      throw EmulatorError.invalid("Amount must be at least 1 (in minor units).", "amount");
    }
    String currency = p.string("currency");
    if (currency == null) {
      throw EmulatorError.invalid("Missing required param: currency.", "currency");
    }
    String customerId = p.string("customer");
    JsonObject customer =
        customerId == null ? obj("id", null) : require(customers, customerId, "customer");
    Map<String, String> metadata = p.has("metadata") ? p.stringMap("metadata") : Map.of();
    JsonObject pi = intent(customer, amount, currency, metadata, "requires_payment_method");
    pi.addProperty("client_secret", clientSecret(str(pi, "id")));
    pi.addProperty("description", p.string("description"));
    emit("payment_intent.created", pi);
    if (p.has("payment_method")) {
      pi.addProperty(
          "payment_method", str(paymentMethod(p.string("payment_method"), "payment_method"), "id"));
      pi.addProperty("status", "requires_confirmation");
    }
    if (p.bool("confirm")) {
      return confirmPaymentIntent(str(pi, "id"), Params.empty());
    }
    return pi.deepCopy();
  }

  /**
   * {@code POST /v1/payment_intents/{id}/confirm} with {@code payment_method} (a saved card or a
   * test token): a good card succeeds (charge, events); a declined one answers 402 with the card
   * error and leaves the intent {@code requires_payment_method}; a card that asks for 3-D Secure
   * leaves it {@code requires_action} until {@link #authenticate}.
   */
  synchronized JsonObject confirmPaymentIntent(String id, Params p) {
    JsonObject pi = require(intents, id, "payment_intent");
    String status = str(pi, "status");
    if (!"requires_payment_method".equals(status) && !"requires_confirmation".equals(status)) {
      throw new EmulatorError(
          400,
          "invalid_request_error",
          "You cannot confirm this PaymentIntent because it has a status of " + status + ".",
          null,
          "payment_intent_unexpected_state");
    }
    String pmId = p.has("payment_method") ? p.string("payment_method") : str(pi, "payment_method");
    JsonObject pm = paymentMethod(pmId, "payment_method");
    pi.addProperty("payment_method", str(pm, "id"));
    if (p.has("setup_future_usage") && str(pi, "customer") != null) {
      attach(pm, str(pi, "customer"));
    }
    TestCards card = cardBehind.getOrDefault(str(pm, "id"), TestCards.GENERIC_DECLINE);
    if (card == TestCards.REQUIRES_AUTHENTICATION && !p.bool("authenticated")) {
      pi.addProperty("status", "requires_action");
      pi.add(
          "next_action",
          obj("type", "use_stripe_sdk", "use_stripe_sdk", obj("type", "three_d_secure_redirect")));
      emit("payment_intent.requires_action", pi);
      return pi.deepCopy();
    }
    return settleIntent(pi, card);
  }

  private JsonObject settleIntent(JsonObject pi, TestCards card) {
    pi.add("next_action", Json.value(null));
    if (card == TestCards.SUCCESS || card == TestCards.REQUIRES_AUTHENTICATION) {
      pi.addProperty("status", "succeeded");
      pi.addProperty("amount_received", num(pi, "amount"));
      JsonObject charge = charge(pi, "succeeded");
      pi.addProperty("latest_charge", str(charge, "id"));
      emit("charge.succeeded", charge);
      emit("payment_intent.succeeded", pi);
      firstInvoicePaid(pi);
      return pi.deepCopy();
    }
    TestCards decline = card.declineCode != null ? card : TestCards.GENERIC_DECLINE;
    JsonObject charge = charge(pi, "failed");
    pi.addProperty("latest_charge", str(charge, "id"));
    pi.addProperty("status", "requires_payment_method");
    pi.add("last_payment_error", decline.lastError());
    emit("charge.failed", charge);
    emit("payment_intent.payment_failed", pi);
    throw decline.error();
  }

  /**
   * The 3-D Secure step a customer takes on the hosted confirm page: {@code complete} lets a {@code
   * requires_action} intent succeed, {@code fail} leaves it {@code requires_payment_method}.
   */
  synchronized JsonObject authenticate(String clientSecret, boolean complete) {
    String id = clientSecret == null ? "" : clientSecret.replaceAll("_secret_.*$", "");
    JsonObject intent = intents.get(id);
    if (intent != null) {
      if (!clientSecret.equals(str(intent, "client_secret"))
          || !"requires_action".equals(str(intent, "status"))) {
        throw EmulatorError.invalid(
            "This PaymentIntent does not need authentication.", "client_secret");
      }
      if (complete) {
        return settleIntent(intent, TestCards.SUCCESS);
      }
      intent.addProperty("status", "requires_payment_method");
      intent.add("next_action", Json.value(null));
      intent.add(
          "last_payment_error",
          obj(
              "type",
              "card_error",
              "code",
              "payment_intent_authentication_failure",
              "message",
              "We are unable to authenticate your payment method."));
      emit("payment_intent.payment_failed", intent);
      return intent.deepCopy();
    }
    JsonObject seti = setupIntents.get(id);
    if (seti == null
        || !clientSecret.equals(str(seti, "client_secret"))
        || !"requires_action".equals(str(seti, "status"))) {
      throw EmulatorError.invalid("This intent does not need authentication.", "client_secret");
    }
    if (complete) {
      return settleSetup(seti, paymentMethods.get(str(seti, "payment_method")), true);
    }
    seti.addProperty("status", "requires_payment_method");
    seti.add("next_action", Json.value(null));
    emit("setup_intent.setup_failed", seti);
    return seti.deepCopy();
  }

  private final Map<String, JsonObject> setupIntents = new LinkedHashMap<>();

  /** The PaymentIntent or SetupIntent a client secret belongs to (a copy), or null. */
  synchronized JsonObject intentBySecret(String clientSecret) {
    String id = clientSecret == null ? "" : clientSecret.replaceAll("_secret_.*$", "");
    JsonObject intent = intents.containsKey(id) ? intents.get(id) : setupIntents.get(id);
    return intent != null && clientSecret.equals(str(intent, "client_secret"))
        ? intent.deepCopy()
        : null;
  }

  /**
   * What the confirm page submits, as Stripe.js would: a card typed on the page becomes a payment
   * method and confirms the intent behind the client secret.
   */
  synchronized JsonObject confirmWithCard(String clientSecret, String cardNumber) {
    JsonObject intent = intentBySecret(clientSecret);
    if (intent == null) {
      throw EmulatorError.invalid("No intent has this client secret.", "client_secret");
    }
    TestCards card = TestCards.of(cardNumber);
    if (card == TestCards.INVALID_NUMBER) {
      throw new EmulatorError(402, "card_error", card.message(), "card_number", card.code, null);
    }
    String digits = cardNumber.replaceAll("[^0-9]", "");
    JsonObject pm =
        newPaymentMethod(
            null,
            digits.startsWith("5") ? "mastercard" : digits.startsWith("3") ? "amex" : "visa",
            digits.substring(digits.length() - 4));
    cardBehind.put(str(pm, "id"), card);
    Params p = Params.decode("payment_method=" + str(pm, "id"));
    return "setup_intent".equals(str(intent, "object"))
        ? confirmSetupIntent(str(intent, "id"), p)
        : confirmPaymentIntent(str(intent, "id"), p);
  }

  /** {@code POST /v1/setup_intents}: saves a card for later (off-session) charges. */
  synchronized JsonObject createSetupIntent(Params p) {
    String customerId = p.string("customer");
    if (customerId != null) {
      require(customers, customerId, "customer");
    }
    String id = newId("seti");
    JsonObject seti =
        obj(
            "id",
            id,
            "object",
            "setup_intent",
            "customer",
            customerId,
            "status",
            "requires_payment_method",
            "usage",
            p.has("usage") ? p.string("usage") : "off_session",
            "payment_method",
            null,
            "client_secret",
            clientSecret(id),
            "next_action",
            null,
            "last_setup_error",
            null,
            "created",
            now(),
            "livemode",
            false,
            "metadata",
            p.has("metadata") ? p.stringMap("metadata") : Map.of());
    setupIntents.put(id, seti);
    emit("setup_intent.created", seti);
    return seti.deepCopy();
  }

  synchronized JsonObject setupIntent(String id) {
    return require(setupIntents, id, "setup_intent").deepCopy();
  }

  /** {@code POST /v1/setup_intents/{id}/confirm} with {@code payment_method}. */
  synchronized JsonObject confirmSetupIntent(String id, Params p) {
    JsonObject seti = require(setupIntents, id, "setup_intent");
    String status = str(seti, "status");
    if (!"requires_payment_method".equals(status) && !"requires_confirmation".equals(status)) {
      throw new EmulatorError(
          400,
          "invalid_request_error",
          "You cannot confirm this SetupIntent because it has a status of " + status + ".",
          null,
          "setup_intent_unexpected_state");
    }
    JsonObject pm = paymentMethod(p.string("payment_method"), "payment_method");
    seti.addProperty("payment_method", str(pm, "id"));
    TestCards card = cardBehind.getOrDefault(str(pm, "id"), TestCards.GENERIC_DECLINE);
    if (card == TestCards.REQUIRES_AUTHENTICATION) {
      seti.addProperty("status", "requires_action");
      seti.add("next_action", obj("type", "use_stripe_sdk"));
      return seti.deepCopy();
    }
    boolean ok = card == TestCards.SUCCESS || card == TestCards.DECLINE_AFTER_ATTACHING;
    return settleSetup(seti, pm, ok);
  }

  private JsonObject settleSetup(JsonObject seti, JsonObject pm, boolean ok) {
    seti.add("next_action", Json.value(null));
    if (!ok) {
      TestCards card = cardBehind.getOrDefault(str(pm, "id"), TestCards.GENERIC_DECLINE);
      seti.addProperty("status", "requires_payment_method");
      seti.add("last_setup_error", card.lastError());
      emit("setup_intent.setup_failed", seti);
      throw card.error();
    }
    attach(pm, str(seti, "customer"));
    seti.addProperty("status", "succeeded");
    emit("setup_intent.succeeded", seti);
    return seti.deepCopy();
  }

  // ---------------------------------------------------------------- subscriptions without Checkout

  /** First-invoice payment intents of incomplete subscriptions: intent id -> invoice id. */
  private final Map<String, String> firstInvoiceIntents = new HashMap<>();

  /**
   * {@code POST /v1/subscriptions} with {@code payment_behavior=default_incomplete}: a trial starts
   * {@code trialing}; otherwise the subscription is {@code incomplete} with an open first invoice
   * whose payment intent the front end confirms ({@code latest_invoice.confirmation_secret}); it
   * turns {@code active} when that is paid, and {@code incomplete_expired} if it is not within 23
   * hours (checked when the customer's test clock moves).
   */
  synchronized JsonObject createSubscription(Params p) {
    JsonObject customer = require(customers, p.string("customer"), "customer");
    String priceId = p.string("items.0.price");
    if (priceId == null) {
      throw EmulatorError.invalid("Missing required param: items[0][price].", "items");
    }
    JsonObject price = priceObject(priceId);
    return atClockOf(
        str(customer, "id"),
        () -> {
          long trialDays = p.longValue("trial_period_days", 0);
          Map<String, String> metadata = p.has("metadata") ? p.stringMap("metadata") : Map.of();
          if (p.has("default_payment_method")) {
            JsonObject pm =
                require(paymentMethods, p.string("default_payment_method"), "payment_method");
            if (!str(customer, "id").equals(str(pm, "customer"))) {
              throw EmulatorError.invalid(
                  "The customer does not have a payment method with the ID " + str(pm, "id") + ".",
                  "default_payment_method");
            }
          }
          JsonObject sub = newSubscription(customer, price, trialDays, metadata, null);
          if (p.has("default_payment_method")) {
            sub.addProperty("default_payment_method", p.string("default_payment_method"));
          }
          JsonObject invoice;
          if (trialDays > 0) {
            emit("customer.subscription.created", sub);
            invoice = invoiceFor(sub, 0, true);
          } else {
            sub.addProperty("status", "incomplete");
            emit("customer.subscription.created", sub);
            invoice = openFirstInvoice(sub, customer, num(price, "unit_amount"));
          }
          JsonObject answer = sub.deepCopy();
          if (p.has("expand.0")) {
            answer.add("latest_invoice", invoice.deepCopy());
          }
          return answer;
        });
  }

  private JsonObject openFirstInvoice(JsonObject sub, JsonObject customer, long amount) {
    JsonObject pi =
        intent(
            customer,
            amount,
            str(sub, "currency"),
            Map.of("subscription", str(sub, "id")),
            "requires_payment_method");
    pi.addProperty("client_secret", clientSecret(str(pi, "id")));
    JsonObject item = firstItem(sub);
    String id = newId("in");
    JsonObject invoice =
        obj(
            "id",
            id,
            "object",
            "invoice",
            "customer",
            str(customer, "id"),
            "currency",
            str(sub, "currency"),
            "amount_due",
            amount,
            "amount_paid",
            0,
            "amount_remaining",
            amount,
            "total",
            amount,
            "subtotal",
            amount,
            "status",
            "open",
            "created",
            now(),
            "billing_reason",
            "subscription_create",
            "period_start",
            num(item, "current_period_start"),
            "period_end",
            num(item, "current_period_end"),
            "livemode",
            false,
            "metadata",
            Map.of(),
            "attempt_count",
            0,
            "parent",
            obj(
                "type",
                "subscription_details",
                "subscription_details",
                obj("subscription", str(sub, "id"), "metadata", sub.get("metadata").deepCopy())),
            "confirmation_secret",
            obj("client_secret", str(pi, "client_secret"), "type", "payment_intent"),
            "payments",
            list(
                array(
                    obj(
                        "object",
                        "invoice_payment",
                        "payment",
                        obj("type", "payment_intent", "payment_intent", str(pi, "id")))),
                "/v1/invoice_payments",
                false),
            "lines",
            list(
                array(
                    prorationLine(
                        sub,
                        item.getAsJsonObject("price"),
                        amount,
                        "1 × " + str(item.getAsJsonObject("price"), "nickname"),
                        num(item, "current_period_start"),
                        num(item, "current_period_end"))),
                "/v1/invoices/" + id + "/lines",
                false));
    invoices.put(id, invoice);
    sub.addProperty("latest_invoice", id);
    firstInvoiceIntents.put(str(pi, "id"), id);
    emit("invoice.created", invoice);
    emit("invoice.finalized", invoice);
    return invoice;
  }

  /** A first invoice's payment intent settled: the invoice is paid and the subscription active. */
  private void firstInvoicePaid(JsonObject pi) {
    String invoiceId = firstInvoiceIntents.remove(str(pi, "id"));
    JsonObject invoice = invoiceId == null ? null : invoices.get(invoiceId);
    if (invoice == null) {
      return;
    }
    invoice.addProperty("status", "paid");
    invoice.addProperty("amount_paid", num(invoice, "amount_due"));
    invoice.addProperty("amount_remaining", 0);
    emit("invoice.paid", invoice);
    emit("invoice.payment_succeeded", invoice);
    String subId =
        str(
            invoice.getAsJsonObject("parent").getAsJsonObject("subscription_details"),
            "subscription");
    JsonObject sub = subscriptions.get(subId);
    if (sub != null && "incomplete".equals(str(sub, "status"))) {
      sub.addProperty("status", "active");
      if (!sub.has("default_payment_method") || sub.get("default_payment_method").isJsonNull()) {
        sub.addProperty("default_payment_method", str(pi, "payment_method"));
      }
      emit("customer.subscription.updated", sub, obj("status", "incomplete"));
    }
  }

  /** Incomplete subscriptions whose first invoice was not paid within 23 hours expire. */
  private void expireIncomplete(String clockId, long now) {
    for (JsonObject sub : subscriptions.values()) {
      JsonObject customer = customers.get(str(sub, "customer"));
      if (customer == null
          || !clockId.equals(str(customer, "test_clock"))
          || !"incomplete".equals(str(sub, "status"))
          || num(sub, "created") + 23 * 3600 > now) {
        continue;
      }
      sub.addProperty("status", "incomplete_expired");
      sub.addProperty("ended_at", now);
      JsonObject invoice = invoices.get(str(sub, "latest_invoice"));
      if (invoice != null && "open".equals(str(invoice, "status"))) {
        invoice.addProperty("status", "void");
      }
      emit("customer.subscription.updated", sub, obj("status", "incomplete"));
    }
  }

  // ---------------------------------------------------------------- plan changes

  /** Payment methods by id, with the test card behind each. */
  private final Map<String, JsonObject> paymentMethods = new LinkedHashMap<>();

  private final Map<String, TestCards> cardBehind = new HashMap<>();

  /** Saves the card a customer paid with as their default payment method. */
  private void rememberCard(JsonObject customer, String cardNumber, TestCards card) {
    String digits = cardNumber == null ? "" : cardNumber.replaceAll("[^0-9]", "");
    JsonObject pm =
        newPaymentMethod(
            str(customer, "id"),
            digits.startsWith("5") ? "mastercard" : digits.startsWith("3") ? "amex" : "visa",
            digits.length() >= 4 ? digits.substring(digits.length() - 4) : digits);
    cardBehind.put(str(pm, "id"), card);
    customer.add("invoice_settings", obj("default_payment_method", str(pm, "id")));
  }

  /** The customer's default payment method id, or null. */
  private String defaultPaymentMethod(String customerId) {
    JsonObject customer = customers.get(customerId);
    JsonObject settings = customer == null ? null : customer.getAsJsonObject("invoice_settings");
    return settings == null ? null : str(settings, "default_payment_method");
  }

  /** How the customer's default card answers a charge now (no card: declined). */
  private TestCards defaultCard(String customerId) {
    String pm = defaultPaymentMethod(customerId);
    TestCards card = pm == null ? null : cardBehind.get(pm);
    return card == null ? TestCards.GENERIC_DECLINE : card;
  }

  private JsonObject priceObject(String priceId) {
    return require(prices, priceId, "price");
  }

  /**
   * The proration lines of moving {@code sub} to {@code newPrice} at {@code at}, as Stripe computes
   * them: to the second, a credit for the unused time on the old price and a charge for the rest of
   * the period on the new one, each rounded to the minor unit.
   */
  private JsonArray prorations(JsonObject sub, JsonObject newPrice, long at) {
    JsonObject item = firstItem(sub);
    JsonObject oldPrice = item.getAsJsonObject("price");
    long start = num(item, "current_period_start");
    long end = num(item, "current_period_end");
    long clamped = Math.max(start, Math.min(at, end));
    double unused = (end - start) == 0 ? 0 : (double) (end - clamped) / (end - start);
    long credit = -Math.round(num(oldPrice, "unit_amount") * unused);
    long charge = Math.round(num(newPrice, "unit_amount") * unused);
    return array(
        prorationLine(
            sub, oldPrice, credit, "Unused time on " + str(oldPrice, "nickname"), clamped, end),
        prorationLine(
            sub, newPrice, charge, "Remaining time on " + str(newPrice, "nickname"), clamped, end));
  }

  private JsonObject prorationLine(
      JsonObject sub, JsonObject price, long amount, String description, long from, long to) {
    return obj(
        "id",
        newId("il"),
        "object",
        "line_item",
        "amount",
        amount,
        "currency",
        str(sub, "currency"),
        "description",
        description,
        "period",
        obj("start", from, "end", to),
        "parent",
        obj(
            "type",
            "subscription_item_details",
            "subscription_item_details",
            obj("proration", true, "subscription", str(sub, "id"))),
        "pricing",
        obj(
            "type",
            "price_details",
            "price_details",
            obj("price", str(price, "id"), "product", str(price, "product"))));
  }

  private static long sum(JsonArray lines) {
    long total = 0;
    for (var l : lines) {
      total += num(l.getAsJsonObject(), "amount");
    }
    return total;
  }

  /**
   * {@code items[0][price]} on a subscription update. With {@code
   * proration_behavior=always_invoice} the prorations are invoiced and charged to the default card
   * at once: paid, the new price applies; declined with {@code
   * payment_behavior=pending_if_incomplete}, the subscription keeps its price and gets a {@code
   * pending_update} (expiring after 23 hours) that applies if the invoice is paid later. Without
   * always_invoice the price changes at once and prorations are not billed (the emulator keeps no
   * pending invoice items).
   */
  private JsonObject changePrice(JsonObject sub, Params p, JsonObject previous) {
    if (!"active".equals(str(sub, "status")) && !"trialing".equals(str(sub, "status"))) {
      throw EmulatorError.invalid(
          "A subscription in status " + str(sub, "status") + " cannot change its price.",
          "items[0][price]");
    }
    JsonObject newPrice = priceObject(p.string("items.0.price"));
    JsonObject item = firstItem(sub);
    String itemId = p.string("items.0.id");
    if (itemId != null && !itemId.equals(str(item, "id"))) {
      throw EmulatorError.missing("subscription_item", itemId, "items[0][id]");
    }
    long at = p.longValue("proration_date", now());
    String behavior =
        p.has("proration_behavior") ? p.string("proration_behavior") : "create_prorations";
    boolean pendingIfIncomplete = "pending_if_incomplete".equals(p.string("payment_behavior"));
    if ("always_invoice".equals(behavior) && !"trialing".equals(str(sub, "status"))) {
      JsonArray lines = prorations(sub, newPrice, at);
      long amount = Math.max(0, sum(lines));
      boolean paid = amount == 0 || chargeable(defaultCard(str(sub, "customer")));
      if (!paid && pendingIfIncomplete) {
        JsonObject invoice = invoiceFor(sub, amount, false, new JsonArray(), lines);
        sub.add(
            "pending_update",
            obj(
                "expires_at",
                now() + 23 * 3600,
                "subscription_items",
                array(obj("id", str(item, "id"), "price", newPrice.deepCopy()))));
        previous.add("pending_update", Json.value(null));
        sub.addProperty("latest_invoice", str(invoice, "id"));
        pendingInvoices.put(str(invoice, "id"), str(sub, "id"));
        emit("customer.subscription.updated", sub, previous);
        return sub.deepCopy();
      }
      invoiceFor(sub, amount, paid, new JsonArray(), lines);
    }
    applyPrice(sub, newPrice, previous);
    return sub.deepCopy();
  }

  private static boolean chargeable(TestCards card) {
    return card == TestCards.SUCCESS;
  }

  /** Invoices whose payment would apply their subscription's pending update. */
  private final Map<String, String> pendingInvoices = new HashMap<>();

  /**
   * {@code POST /v1/invoices/{id}/pay} (with an optional {@code payment_method}): charges an open
   * invoice. Paid, a subscription's pending update applies (or an incomplete subscription becomes
   * active); declined, 402 with the card error.
   */
  synchronized JsonObject payInvoice(String id, Params p) {
    JsonObject invoice = require(invoices, id, "invoice");
    if (!"open".equals(str(invoice, "status"))) {
      throw EmulatorError.invalid("Invoice is already " + str(invoice, "status") + ".", "invoice");
    }
    return atClockOf(
        str(invoice, "customer"),
        () -> {
          JsonObject payment =
              invoice
                  .getAsJsonObject("payments")
                  .getAsJsonArray("data")
                  .get(0)
                  .getAsJsonObject()
                  .getAsJsonObject("payment");
          JsonObject pi = intents.get(str(payment, "payment_intent"));
          TestCards card =
              p.has("payment_method")
                  ? cardBehind.getOrDefault(
                      str(paymentMethod(p.string("payment_method"), "payment_method"), "id"),
                      TestCards.GENERIC_DECLINE)
                  : defaultCard(str(invoice, "customer"));
          if (firstInvoiceIntents.containsKey(str(pi, "id"))) {
            settleIntent(pi, card); // throws on a decline; a success pays the first invoice
            return invoices.get(id).deepCopy();
          }
          if (!chargeable(card)) {
            throw card.error();
          }
          pi.addProperty("status", "succeeded");
          pi.addProperty("amount_received", num(pi, "amount"));
          pi.add("last_payment_error", Json.value(null));
          JsonObject charge = charge(pi, "succeeded");
          pi.addProperty("latest_charge", str(charge, "id"));
          emit("charge.succeeded", charge);
          emit("payment_intent.succeeded", pi);
          invoice.addProperty("status", "paid");
          invoice.addProperty("amount_paid", num(invoice, "amount_due"));
          invoice.addProperty("amount_remaining", 0);
          emit("invoice.paid", invoice);
          emit("invoice.payment_succeeded", invoice);
          String subId = pendingInvoices.remove(id);
          JsonObject sub = subId == null ? null : subscriptions.get(subId);
          if (sub != null && sub.has("pending_update") && !sub.get("pending_update").isJsonNull()) {
            JsonObject price =
                sub.getAsJsonObject("pending_update")
                    .getAsJsonArray("subscription_items")
                    .get(0)
                    .getAsJsonObject()
                    .getAsJsonObject("price");
            applyPrice(sub, priceObject(str(price, "id")), new JsonObject());
          }
          return invoice.deepCopy();
        });
  }

  /** Pending updates past their expiry are discarded, and their invoices voided. */
  private void expirePendingUpdates(String clockId, long now) {
    for (JsonObject sub : subscriptions.values()) {
      JsonObject customer = customers.get(str(sub, "customer"));
      if (customer == null
          || !clockId.equals(str(customer, "test_clock"))
          || !sub.has("pending_update")
          || sub.get("pending_update").isJsonNull()
          || num(sub.getAsJsonObject("pending_update"), "expires_at") > now) {
        continue;
      }
      JsonObject previous = obj("pending_update", sub.get("pending_update").deepCopy());
      sub.add("pending_update", Json.value(null));
      pendingInvoices
          .entrySet()
          .removeIf(
              e -> {
                if (!e.getValue().equals(str(sub, "id"))) {
                  return false;
                }
                JsonObject invoice = invoices.get(e.getKey());
                if (invoice != null && "open".equals(str(invoice, "status"))) {
                  invoice.addProperty("status", "void");
                  emit("invoice.voided", invoice);
                }
                return true;
              });
      emit("customer.subscription.updated", sub, previous);
    }
  }

  private void applyPrice(JsonObject sub, JsonObject newPrice, JsonObject previous) {
    JsonObject item = firstItem(sub);
    previous.add(
        "items",
        obj("data", array(obj("id", str(item, "id"), "price", item.get("price").deepCopy()))));
    item.add("price", newPrice.deepCopy());
    item.add("plan", newPrice.deepCopy());
    if (sub.has("pending_update") && !sub.get("pending_update").isJsonNull()) {
      previous.add("pending_update", sub.get("pending_update"));
      sub.add("pending_update", Json.value(null));
    }
    emit("customer.subscription.updated", sub, previous);
  }

  /**
   * {@code POST /v1/invoices/create_preview} for a subscription with {@code
   * subscription_details[items][0][price]}: with {@code proration_behavior=always_invoice}, the
   * invoice the change would create now (its prorations); otherwise the next period's invoice at
   * the new price. Nothing changes.
   */
  synchronized JsonObject previewInvoice(Params p) {
    String subId = p.string("subscription");
    if (subId == null) {
      throw EmulatorError.invalid(
          "subscription is required by the local emulator.", "subscription");
    }
    JsonObject sub = require(subscriptions, subId, "subscription");
    return atClockOf(
        str(sub, "customer"),
        () -> {
          String priceId = p.string("subscription_details.items.0.price");
          JsonObject newPrice =
              priceId == null ? firstItem(sub).getAsJsonObject("price") : priceObject(priceId);
          long at = p.longValue("subscription_details.proration_date", now());
          String behavior = p.string("subscription_details.proration_behavior");
          JsonObject item = firstItem(sub);
          JsonArray lines;
          long periodStart;
          long periodEnd;
          if ("always_invoice".equals(behavior)) {
            lines = prorations(sub, newPrice, at);
            periodStart = Math.max(num(item, "current_period_start"), at);
            periodEnd = num(item, "current_period_end");
          } else {
            periodStart = num(item, "current_period_end");
            periodEnd = periodStart + 30 * DAY;
            lines =
                array(
                    prorationLine(
                        sub,
                        newPrice,
                        num(newPrice, "unit_amount"),
                        "1 × " + str(newPrice, "nickname"),
                        periodStart,
                        periodEnd));
            lines
                .get(0)
                .getAsJsonObject()
                .getAsJsonObject("parent")
                .getAsJsonObject("subscription_item_details")
                .addProperty("proration", false);
          }
          long total = sum(lines);
          return obj(
              "object",
              "invoice",
              "customer",
              str(sub, "customer"),
              "subscription",
              subId,
              "currency",
              str(sub, "currency"),
              "subtotal",
              total,
              "total",
              total,
              "amount_due",
              Math.max(0, total),
              "period_start",
              periodStart,
              "period_end",
              periodEnd,
              "lines",
              list(lines, "/v1/invoices/upcoming/lines", false));
        });
  }

  synchronized JsonObject cancelSubscription(String id) {
    JsonObject sub = require(subscriptions, id, "subscription");
    if ("canceled".equals(str(sub, "status"))) {
      throw EmulatorError.invalid(
          "No such subscription: '" + id + "' (it is already canceled)", "id");
    }
    sub.addProperty("status", "canceled");
    sub.addProperty("canceled_at", now());
    sub.addProperty("ended_at", now());
    emit("customer.subscription.deleted", sub);
    return sub.deepCopy();
  }

  // ---------------------------------------------------------------- payments

  /** {@code GET /v1/payment_intents?customer=}: a customer's payment intents, newest first. */
  synchronized JsonObject listPaymentIntents(Params p) {
    String customer = p.string("customer");
    int limit = (int) Math.min(100, Math.max(1, p.longValue("limit", 10)));
    String after = p.string("starting_after");
    List<JsonObject> matching = new ArrayList<>();
    for (JsonObject pi : intents.values()) {
      if (customer == null || customer.equals(str(pi, "customer"))) {
        matching.add(pi);
      }
    }
    java.util.Collections.reverse(matching);
    return page(matching, after, limit, "/v1/payment_intents");
  }

  synchronized JsonObject paymentIntent(String id) {
    return require(intents, id, "payment_intent").deepCopy();
  }

  synchronized JsonObject charge(String id) {
    return require(charges, id, "charge").deepCopy();
  }

  synchronized JsonObject invoice(String id) {
    return require(invoices, id, "invoice").deepCopy();
  }

  synchronized JsonObject createRefund(Params p) {
    String piId = p.string("payment_intent");
    String chargeId = p.string("charge");
    JsonObject charge;
    if (chargeId != null) {
      charge = require(charges, chargeId, "charge");
    } else if (piId != null) {
      JsonObject pi = require(intents, piId, "payment_intent");
      String latest = str(pi, "latest_charge");
      charge = latest == null ? null : charges.get(latest);
      if (charge == null || !"succeeded".equals(str(charge, "status"))) {
        throw EmulatorError.invalid(
            "This PaymentIntent does not have a successful charge to refund.", "payment_intent");
      }
    } else {
      throw EmulatorError.invalid(
          "One of the following params should be provided for this request: payment_intent or charge.",
          null);
    }
    long refundable = num(charge, "amount") - num(charge, "amount_refunded");
    long amount = p.longValue("amount", refundable);
    if (amount <= 0 || amount > refundable) {
      throw new EmulatorError(
          400,
          "invalid_request_error",
          "Refund amount ($"
              + amount / 100.0
              + ") is greater than unrefunded amount on charge ($"
              + refundable / 100.0
              + ")",
          "amount",
          "amount_too_large");
    }
    JsonObject refund =
        obj(
            "id",
            newId("re"),
            "object",
            "refund",
            "amount",
            amount,
            "charge",
            str(charge, "id"),
            "payment_intent",
            str(charge, "payment_intent"),
            "currency",
            str(charge, "currency"),
            "status",
            "succeeded",
            "reason",
            p.string("reason"),
            "created",
            now(),
            "metadata",
            p.stringMap("metadata"));
    refunds.put(str(refund, "id"), refund);
    charge.addProperty("amount_refunded", num(charge, "amount_refunded") + amount);
    charge.addProperty("refunded", num(charge, "amount_refunded") == num(charge, "amount"));
    JsonArray refundList = charge.getAsJsonObject("refunds").getAsJsonArray("data");
    refundList.add(refund.deepCopy());
    emit("refund.created", refund);
    emit(
        "charge.refunded", charge, obj("amount_refunded", num(charge, "amount_refunded") - amount));
    return refund.deepCopy();
  }

  // ---------------------------------------------------------------- portal

  synchronized JsonObject createPortalSession(Params p, String baseUrl) {
    String customer = p.string("customer");
    if (customer == null) {
      throw EmulatorError.invalid("Missing required param: customer.", "customer");
    }
    require(customers, customer, "customer");
    String id = newId("bps");
    JsonObject s =
        obj(
            "id",
            id,
            "object",
            "billing_portal.session",
            "customer",
            customer,
            "return_url",
            p.string("return_url"),
            "created",
            now(),
            "livemode",
            false,
            "url",
            baseUrl + "/portal/" + id);
    portalSessions.put(id, s);
    return s.deepCopy();
  }

  synchronized JsonObject portalSession(String id) {
    JsonObject s = portalSessions.get(id);
    return s == null ? null : s.deepCopy();
  }

  synchronized List<JsonObject> subscriptionsOf(String customerId) {
    return subscriptions.values().stream()
        .filter(s -> customerId.equals(str(s, "customer")))
        .map(JsonObject::deepCopy)
        .toList();
  }

  // ---------------------------------------------------------------- trigger

  static final List<String> TRIGGERS =
      List.of(
          "checkout.session.completed",
          "checkout.session.expired",
          "customer.subscription.created",
          "customer.subscription.updated",
          "customer.subscription.deleted",
          "customer.subscription.trial_will_end",
          "invoice.paid",
          "invoice.payment_failed",
          "payment_intent.succeeded",
          "payment_intent.payment_failed",
          "payment_intent.canceled",
          "charge.refunded");

  /**
   * Makes the account emit {@code type} for {@code userId}, with the objects real Stripe would
   * create.
   */
  synchronized List<String> trigger(String type, String userId, String baseUrl) {
    if (!TRIGGERS.contains(type)) {
      throw EmulatorError.invalid(
          "Cannot trigger '" + type + "'. Supported: " + String.join(", ", TRIGGERS), "event");
    }
    int before = events.size();
    JsonObject customer = customerForUser(userId);
    Plan plan = null;
    switch (type) {
      case "checkout.session.completed", "checkout.session.expired" -> {
        JsonObject s = creditsSession(customer, userId, baseUrl);
        if (type.endsWith("completed")) {
          completePayment(s, customer, num(s, "amount_total"));
        } else {
          s.addProperty("status", "expired");
          emit("checkout.session.expired", publicSession(s));
        }
      }
      case "customer.subscription.created" -> newSubscriptionFor(customer, userId);
      case "customer.subscription.updated" -> {
        JsonObject sub = latestSubscription(customer, userId);
        boolean cancel = !sub.get("cancel_at_period_end").getAsBoolean();
        Params p = Params.decode("cancel_at_period_end=" + cancel);
        updateSubscription(str(sub, "id"), p);
      }
      case "customer.subscription.deleted" -> {
        JsonObject sub = latestSubscription(customer, userId);
        sub.addProperty("status", "canceled");
        sub.addProperty("canceled_at", now());
        sub.addProperty("ended_at", now());
        emit("customer.subscription.deleted", sub);
      }
      case "customer.subscription.trial_will_end" ->
          emit(type, latestSubscription(customer, userId));
      case "invoice.paid" -> {
        JsonObject sub = latestSubscription(customer, userId);
        JsonObject previous = obj("status", str(sub, "status"));
        invoiceFor(sub, priceOf(sub), true);
        if (!"active".equals(str(sub, "status"))) {
          sub.addProperty("status", "active");
          emit("customer.subscription.updated", sub, previous);
        }
      }
      case "invoice.payment_failed" -> {
        JsonObject sub = latestSubscription(customer, userId);
        JsonObject previous = obj("status", str(sub, "status"));
        invoiceFor(sub, priceOf(sub), false);
        sub.addProperty("status", "past_due");
        emit("customer.subscription.updated", sub, previous);
      }
      case "payment_intent.succeeded", "charge.refunded" -> {
        JsonObject s = creditsSession(customer, userId, baseUrl);
        completePayment(s, customer, num(s, "amount_total"));
        if (type.equals("charge.refunded")) {
          createRefund(Params.decode("payment_intent=" + str(s, "payment_intent")));
        }
      }
      case "payment_intent.payment_failed" -> {
        JsonObject s = creditsSession(customer, userId, baseUrl);
        failedPayment(
            s,
            customer,
            num(s, "amount_total"),
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
            false);
      }
      case "payment_intent.canceled" -> {
        JsonObject pi = intent(customer, 1000, "usd", Map.of("user_id", userId), "canceled");
        pi.addProperty("cancellation_reason", "abandoned");
        emit("payment_intent.canceled", pi);
      }
      default -> throw new IllegalStateException(type + " listed but not handled");
    }
    List<String> emitted = new ArrayList<>();
    for (int i = before; i < events.size(); i++) {
      emitted.add(str(events.get(i), "type") + " " + str(events.get(i), "id"));
    }
    return emitted;
  }

  private long priceOf(JsonObject sub) {
    JsonObject item = sub.getAsJsonObject("items").getAsJsonArray("data").get(0).getAsJsonObject();
    return num(item.getAsJsonObject("price"), "unit_amount");
  }

  private JsonObject creditsSession(JsonObject customer, String userId, String baseUrl) {
    String paymentId = newId("pay").substring(0, 28);
    Params p =
        Params.decode(
            "mode=payment&customer="
                + str(customer, "id")
                + "&client_reference_id="
                + userId
                + "&success_url="
                + baseUrl
                + "/done&line_items[0][quantity]=1"
                + "&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1000"
                + "&line_items[0][price_data][product_data][name]=1000%20credits"
                + "&metadata[user_id]="
                + userId
                + "&metadata[credits]=1000&metadata[payment_id]="
                + paymentId
                + "&payment_intent_data[metadata][user_id]="
                + userId
                + "&payment_intent_data[metadata][credits]=1000&payment_intent_data[metadata][payment_id]="
                + paymentId);
    JsonObject created = createCheckoutSession(p, baseUrl);
    return sessions.get(str(created, "id"));
  }

  private JsonObject newSubscriptionFor(JsonObject customer, String userId) {
    JsonObject price = prices.values().iterator().next();
    JsonObject sub = newSubscription(customer, price, 0, Map.of("user_id", userId), null);
    emit("customer.subscription.created", sub);
    invoiceFor(sub, num(price, "unit_amount"), true);
    return sub;
  }

  private JsonObject latestSubscription(JsonObject customer, String userId) {
    JsonObject latest = null;
    for (JsonObject s : subscriptions.values()) {
      if (str(customer, "id").equals(str(s, "customer")) && !"canceled".equals(str(s, "status"))) {
        latest = s;
      }
    }
    return latest != null ? latest : newSubscriptionFor(customer, userId);
  }

  private static JsonObject require(Map<String, JsonObject> map, String id, String kind) {
    JsonObject o = id == null ? null : map.get(id);
    if (o == null) {
      throw EmulatorError.missing(kind, String.valueOf(id), "id");
    }
    return o;
  }
}
