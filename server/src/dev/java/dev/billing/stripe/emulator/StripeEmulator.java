package dev.billing.stripe.emulator;

import static dev.billing.stripe.emulator.Json.obj;
import static dev.billing.stripe.emulator.Json.str;

import com.google.gson.JsonObject;
import dev.billing.config.Catalog;
import dev.billing.util.PeriodicTask;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local Stripe for development and tests: the subset of Stripe's REST API this service uses
 * (form-encoded in, Stripe-shaped JSON and errors out, so the real stripe-java HTTP path runs
 * against it), a hosted checkout page where a person pays with Stripe's test cards, a customer
 * portal page, and signed webhook delivery with retries. Not for production: it takes no money.
 */
public final class StripeEmulator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StripeEmulator.class);
  private static final HttpString IDEMPOTENCY_KEY = new HttpString("Idempotency-Key");

  private final Undertow undertow;
  private final StripeState state;
  private final WebhookSender sender;
  private PeriodicTask expiry;
  private final Map<String, CachedResponse> idempotency = new ConcurrentHashMap<>();
  private volatile String baseUrl;

  private record CachedResponse(String requestBody, int status, String body) {}

  /**
   * @param webhookSecret the secret deliveries are signed with (the service's
   *     STRIPE_WEBHOOK_SECRET)
   * @param retryBase first webhook retry delay (Stripe waits minutes; tests use milliseconds)
   */
  public StripeEmulator(
      int port, Catalog catalog, String webhookSecret, Clock clock, Duration retryBase) {
    this.sender = new WebhookSender(webhookSecret, clock, retryBase, 8);
    this.state = new StripeState(catalog, clock, sender::send);
    RoutingHandler routes =
        Handlers.routing()
            .post("/v1/customers", api(ex -> state.createCustomer(form(ex))))
            .get("/v1/customers", api(ex -> state.listCustomers(form(ex))))
            .get("/v1/customers/{id}", api(ex -> state.customer(param(ex, "id"))))
            .post(
                "/v1/checkout/sessions", api(ex -> state.createCheckoutSession(form(ex), baseUrl)))
            .get("/v1/checkout/sessions/{id}", api(ex -> state.session(param(ex, "id"))))
            .post(
                "/v1/checkout/sessions/{id}/expire",
                api(ex -> state.expireSession(param(ex, "id"))))
            .post(
                "/v1/billing_portal/sessions",
                api(ex -> state.createPortalSession(form(ex), baseUrl)))
            .get("/v1/subscriptions", api(ex -> state.listSubscriptions(form(ex))))
            .post("/v1/subscriptions", api(ex -> state.createSubscription(form(ex))))
            .get("/v1/subscriptions/{id}", api(ex -> state.subscription(param(ex, "id"))))
            .post(
                "/v1/subscriptions/{id}",
                api(ex -> state.updateSubscription(param(ex, "id"), form(ex))))
            .delete("/v1/subscriptions/{id}", api(ex -> state.cancelSubscription(param(ex, "id"))))
            .post("/v1/refunds", api(ex -> state.createRefund(form(ex))))
            .post("/v1/billing/meter_events", api(ex -> state.createMeterEvent(form(ex))))
            .post("/v1/invoices/create_preview", api(ex -> state.previewInvoice(form(ex))))
            .post("/v1/invoices/{id}/pay", api(ex -> state.payInvoice(param(ex, "id"), form(ex))))
            .post("/v1/payment_intents", api(ex -> state.createPaymentIntent(form(ex))))
            .post(
                "/v1/payment_intents/{id}/confirm",
                api(ex -> state.confirmPaymentIntent(param(ex, "id"), form(ex))))
            .post("/v1/setup_intents", api(ex -> state.createSetupIntent(form(ex))))
            .get("/v1/setup_intents/{id}", api(ex -> state.setupIntent(param(ex, "id"))))
            .post(
                "/v1/setup_intents/{id}/confirm",
                api(ex -> state.confirmSetupIntent(param(ex, "id"), form(ex))))
            .get("/v1/payment_methods", api(ex -> state.listPaymentMethods(form(ex))))
            .get(
                "/v1/payment_methods/{id}", api(ex -> state.retrievePaymentMethod(param(ex, "id"))))
            .post(
                "/v1/payment_methods/{id}/detach",
                api(ex -> state.detachPaymentMethod(param(ex, "id"))))
            .post("/v1/customers/{id}", api(ex -> state.updateCustomer(param(ex, "id"), form(ex))))
            .post("/v1/subscription_schedules", api(ex -> state.createSchedule(form(ex))))
            .get("/v1/subscription_schedules/{id}", api(ex -> state.schedule(param(ex, "id"))))
            .post(
                "/v1/subscription_schedules/{id}",
                api(ex -> state.updateSchedule(param(ex, "id"), form(ex))))
            .post(
                "/v1/subscription_schedules/{id}/release",
                api(ex -> state.releaseSchedule(param(ex, "id"))))
            .get("/v1/events", api(ex -> state.listEvents(form(ex))))
            .get("/v1/events/{id}", api(ex -> state.event(param(ex, "id"))))
            .get("/v1/payment_intents", api(ex -> state.listPaymentIntents(form(ex))))
            .get("/v1/payment_intents/{id}", api(ex -> state.paymentIntent(param(ex, "id"))))
            .get("/v1/charges/{id}", api(ex -> state.charge(param(ex, "id"))))
            .get("/v1/invoices/{id}", api(ex -> state.invoice(param(ex, "id"))))
            .post("/v1/test_helpers/trigger", api(this::trigger))
            .post("/v1/test_helpers/test_clocks", api(ex -> state.createTestClock(form(ex))))
            .get("/v1/test_helpers/test_clocks/{id}", api(ex -> state.testClock(param(ex, "id"))))
            .delete(
                "/v1/test_helpers/test_clocks/{id}",
                api(ex -> state.deleteTestClock(param(ex, "id"))))
            .post(
                "/v1/test_helpers/test_clocks/{id}/advance",
                api(ex -> state.advanceTestClock(param(ex, "id"), form(ex))))
            .get("/v1/customers/search", api(ex -> state.searchCustomers(form(ex))))
            .get("/checkout/{id}", this::checkoutPage)
            .post("/checkout/{id}/pay", this::pay)
            .get("/confirm", this::confirmPage)
            .post("/confirm", this::confirmSubmit)
            .post("/confirm/authenticate", this::confirmAuthenticate)
            .get("/portal/{id}", this::portalPage)
            .post("/portal/{id}/cancel", this::portalCancel)
            .setFallbackHandler(
                ex ->
                    sendError(
                        ex,
                        new EmulatorError(
                            404,
                            "invalid_request_error",
                            "Unrecognized request URL ("
                                + ex.getRequestMethod()
                                + ": "
                                + ex.getRequestPath()
                                + ").",
                            null,
                            null)));
    this.undertow =
        Undertow.builder()
            .addHttpListener(port, "127.0.0.1")
            .setHandler(new BlockingHandler(routes))
            .build();
  }

  public void start() {
    undertow.start();
    this.baseUrl = "http://localhost:" + port();
    expiry = PeriodicTask.every(Duration.ofSeconds(1), "emulator-expiry", state::expireDue);
    log.warn(
        "LOCAL STRIPE EMULATOR on {}: no real payments are taken (set STRIPE_SECRET_KEY for Stripe)",
        baseUrl);
  }

  /** Where webhooks go, e.g. {@code http://localhost:8080/webhooks/stripe}. */
  public void setWebhookEndpoint(String url) {
    sender.setEndpoint(url);
  }

  public int port() {
    return ((InetSocketAddress) undertow.getListenerInfo().getFirst().getAddress()).getPort();
  }

  public String apiBase() {
    return baseUrl;
  }

  /** Successful webhook deliveries so far (for tests). */
  /**
   * Drops the next {@code n} webhook deliveries on purpose (they stay listed in {@code GET
   * /v1/events}), as a long outage of the endpoint or a wrongly rotated secret would: for testing
   * reconciliation.
   */
  public void dropNextDeliveries(int n) {
    sender.dropNext(n);
  }

  private volatile boolean apiDown;

  /** While down, every API call is answered 503 (an outage of Stripe's API, for testing). */
  public void setApiDown(boolean down) {
    apiDown = down;
  }

  /** The sum of a customer's meter events of {@code eventName}. */
  public long meterTotal(String customerId, String eventName) {
    return state.meterTotal(customerId, eventName);
  }

  public long deliveredWebhooks() {
    return sender.delivered();
  }

  /** Failed webhook delivery attempts so far (each retried later). */
  public long failedWebhookAttempts() {
    return sender.failedAttempts();
  }

  @Override
  public void close() {
    if (expiry != null) {
      expiry.close();
    }
    sender.close();
    undertow.stop();
  }

  // ---------------------------------------------------------------- API plumbing

  @FunctionalInterface
  private interface ApiCall {
    JsonObject handle(HttpServerExchange exchange) throws IOException;
  }

  private io.undertow.server.HttpHandler api(ApiCall call) {
    return exchange -> {
      if (apiDown) {
        sendError(
            exchange,
            new EmulatorError(
                503, "api_error", "Stripe is unavailable (emulated outage).", null, null));
        return;
      }
      String auth = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
      if (auth == null
          || !(auth.startsWith("Bearer sk_test_") || auth.startsWith("Bearer rk_test_"))) {
        sendError(
            exchange,
            new EmulatorError(
                401,
                "invalid_request_error",
                "You did not provide a test API key (sk_test_...). The local emulator accepts any test key.",
                null,
                null));
        return;
      }
      String body = readBody(exchange);
      exchange.putAttachment(BODY, body);
      String key = exchange.getRequestHeaders().getFirst(IDEMPOTENCY_KEY);
      String cacheKey =
          key == null
              ? null
              : exchange.getRequestMethod() + " " + exchange.getRequestPath() + " " + key;
      if (cacheKey != null && exchange.getRequestMethod().equalToString("POST")) {
        CachedResponse cached = idempotency.get(cacheKey);
        if (cached != null) {
          if (!cached.requestBody().equals(body)) {
            sendError(
                exchange,
                new EmulatorError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    null,
                    "idempotency_key_in_use"));
            return;
          }
          exchange.getResponseHeaders().put(new HttpString("Idempotent-Replayed"), "true");
          send(exchange, cached.status(), cached.body());
          return;
        }
      }
      int status;
      String response;
      try {
        response = call.handle(exchange).toString();
        status = 200;
      } catch (EmulatorError e) {
        status = e.status;
        response = e.toJson().toString();
      }
      if (cacheKey != null && exchange.getRequestMethod().equalToString("POST") && status < 500) {
        idempotency.putIfAbsent(cacheKey, new CachedResponse(body, status, response));
      }
      send(exchange, status, response);
    };
  }

  private static final io.undertow.util.AttachmentKey<String> BODY =
      io.undertow.util.AttachmentKey.create(String.class);

  private static String readBody(HttpServerExchange exchange) throws IOException {
    exchange.startBlocking();
    return new String(exchange.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  private static Params form(HttpServerExchange exchange) {
    String body = exchange.getAttachment(BODY);
    if (body == null) {
      try {
        body = readBody(exchange);
      } catch (IOException e) {
        throw EmulatorError.invalid("unreadable body", null);
      }
    }
    Params p = Params.decode(body);
    return p.withQuery(Map.copyOf(queryWithoutPathParams(exchange)));
  }

  private static Map<String, java.util.Deque<String>> queryWithoutPathParams(
      HttpServerExchange exchange) {
    Map<String, java.util.Deque<String>> q = new java.util.HashMap<>(exchange.getQueryParameters());
    q.remove("id");
    return q;
  }

  private static String param(HttpServerExchange exchange, String name) {
    return exchange.getQueryParameters().get(name).getFirst();
  }

  private static void send(HttpServerExchange exchange, int status, String json) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseHeaders().put(new HttpString("Request-Id"), "req_emulator");
    exchange.getResponseSender().send(json);
  }

  private static void sendError(HttpServerExchange exchange, EmulatorError e) {
    send(exchange, e.status, e.toJson().toString());
  }

  private JsonObject trigger(HttpServerExchange exchange) {
    Params p = form(exchange);
    String event = p.string("event");
    String user = p.string("user_id");
    if (event == null || user == null) {
      throw EmulatorError.invalid("Give event and user_id.", event == null ? "event" : "user_id");
    }
    var emitted = state.trigger(event, user, baseUrl);
    com.google.gson.JsonArray list = new com.google.gson.JsonArray();
    emitted.forEach(list::add);
    return obj("object", "trigger", "event", event, "user_id", user, "emitted", list);
  }

  // ---------------------------------------------------------------- hosted pages

  /** A front end's stand-in for Stripe.js: {@code /confirm?client_secret=...}. */
  public String confirmUrl(String clientSecret) {
    return baseUrl
        + "/confirm?client_secret="
        + java.net.URLEncoder.encode(clientSecret, StandardCharsets.UTF_8);
  }

  private void confirmPage(HttpServerExchange exchange) {
    var q = exchange.getQueryParameters().get("client_secret");
    String secret = q == null ? null : q.getFirst();
    JsonObject intent = state.intentBySecret(secret);
    if (intent == null) {
      html(exchange, 404, Pages.message("Not found", "No payment waits for this secret.", null));
      return;
    }
    confirmOutcome(exchange, intent, secret, null);
  }

  private void confirmSubmit(HttpServerExchange exchange) throws IOException {
    Params p = Params.decode(readBody(exchange));
    String secret = p.string("client_secret");
    try {
      JsonObject intent = state.confirmWithCard(secret, p.string("card_number"));
      confirmOutcome(exchange, intent, secret, null);
    } catch (EmulatorError e) {
      JsonObject intent = state.intentBySecret(secret);
      if (intent == null) {
        html(exchange, 404, Pages.message("Not found", e.getMessage(), null));
      } else {
        html(exchange, e.status, Pages.confirm(intent, secret, e.getMessage()));
      }
    }
  }

  private void confirmAuthenticate(HttpServerExchange exchange) throws IOException {
    Params p = Params.decode(readBody(exchange));
    String secret = p.string("client_secret");
    try {
      JsonObject intent = state.authenticate(secret, "complete".equals(p.string("result")));
      confirmOutcome(exchange, intent, secret, null);
    } catch (EmulatorError e) {
      JsonObject intent = state.intentBySecret(secret);
      html(
          exchange,
          e.status,
          intent == null
              ? Pages.message("Not found", e.getMessage(), null)
              : Pages.confirm(intent, secret, e.getMessage()));
    }
  }

  /** The page for where an intent stands: its form, the 3-D Secure step, or the result. */
  private void confirmOutcome(
      HttpServerExchange exchange, JsonObject intent, String secret, String error) {
    String status = str(intent, "status");
    boolean setup = "setup_intent".equals(str(intent, "object"));
    switch (status) {
      case "succeeded" ->
          html(
              exchange,
              200,
              Pages.message(
                  setup ? "Card saved" : "Payment succeeded",
                  setup
                      ? "The card is saved for later payments."
                      : "The payment went through. The service has been notified by webhook.",
                  null));
      case "requires_action" -> html(exchange, 200, Pages.confirmAuthentication(intent, secret));
      default -> {
        JsonObject lastError =
            intent.has(setup ? "last_setup_error" : "last_payment_error")
                    && intent.get(setup ? "last_setup_error" : "last_payment_error").isJsonObject()
                ? intent.getAsJsonObject(setup ? "last_setup_error" : "last_payment_error")
                : null;
        html(
            exchange,
            200,
            Pages.confirm(intent, secret, lastError == null ? error : str(lastError, "message")));
      }
    }
  }

  private void checkoutPage(HttpServerExchange exchange) {
    JsonObject s = state.sessionForPage(param(exchange, "id"));
    if (s == null) {
      html(
          exchange,
          404,
          Pages.message("Checkout not found", "There is no checkout session with this id.", null));
      return;
    }
    if (!"open".equals(str(s, "status"))) {
      html(
          exchange,
          410,
          Pages.message(
              "Checkout " + str(s, "status"),
              "This checkout session is " + str(s, "status") + ".",
              str(s, "cancel_url")));
      return;
    }
    html(exchange, 200, Pages.checkout(s, null));
  }

  private void pay(HttpServerExchange exchange) throws IOException {
    String id = param(exchange, "id");
    Params p = Params.decode(readBody(exchange));
    boolean wantsJson =
        String.valueOf(exchange.getRequestHeaders().getFirst(Headers.ACCEPT))
            .contains("application/json");
    StripeState.PayResult result;
    try {
      result =
          state.pay(
              id,
              p.string("card_number"),
              p.string("three_d_secure"),
              p.string("email"),
              p.string("promotion_code"));
    } catch (EmulatorError e) {
      if (wantsJson) {
        sendError(exchange, e);
      } else {
        html(exchange, e.status, Pages.message("Checkout not found", e.getMessage(), null));
      }
      return;
    }
    if (wantsJson) {
      JsonObject body =
          obj(
              "status",
              result.outcome().name().toLowerCase(Locale.ROOT),
              "message",
              result.message(),
              "decline_code",
              result.declineCode(),
              "session",
              result.session());
      send(
          exchange,
          switch (result.outcome()) {
            case SUCCEEDED -> 200;
            case REQUIRES_ACTION -> 202;
            case DECLINED -> 402;
            case NOT_OPEN -> 409;
          },
          body.toString());
      return;
    }
    JsonObject page = state.sessionForPage(id);
    switch (result.outcome()) {
      case SUCCEEDED -> html(exchange, 200, Pages.success(result.session()));
      case REQUIRES_ACTION ->
          html(exchange, 200, Pages.authenticate(page, p.string("card_number"), p.string("email")));
      case DECLINED -> html(exchange, 402, Pages.checkout(page, result.message()));
      case NOT_OPEN ->
          html(
              exchange,
              409,
              Pages.message(
                  "Checkout " + str(page, "status"), result.message(), str(page, "cancel_url")));
    }
  }

  private void portalPage(HttpServerExchange exchange) {
    JsonObject portal = state.portalSession(param(exchange, "id"));
    if (portal == null) {
      html(
          exchange,
          404,
          Pages.message("Portal not found", "There is no portal session with this id.", null));
      return;
    }
    html(exchange, 200, Pages.portal(portal, state.subscriptionsOf(str(portal, "customer"))));
  }

  private void portalCancel(HttpServerExchange exchange) throws IOException {
    JsonObject portal = state.portalSession(param(exchange, "id"));
    Params p = Params.decode(readBody(exchange));
    if (portal == null || p.string("subscription") == null) {
      html(
          exchange,
          404,
          Pages.message("Portal not found", "Unknown portal session or subscription.", null));
      return;
    }
    JsonObject sub = state.subscription(p.string("subscription"));
    if (!str(portal, "customer").equals(str(sub, "customer"))) {
      html(
          exchange,
          403,
          Pages.message("Not yours", "That subscription belongs to another customer.", null));
      return;
    }
    state.updateSubscription(str(sub, "id"), Params.decode("cancel_at_period_end=true"));
    html(exchange, 200, Pages.portal(portal, state.subscriptionsOf(str(portal, "customer"))));
  }

  private static void html(HttpServerExchange exchange, int status, String page) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/html; charset=utf-8");
    exchange.getResponseSender().send(page);
  }

  static String money(long minor, String currency) {
    return String.format(
        Locale.ROOT,
        "%s %d.%02d",
        currency == null ? "" : currency.toUpperCase(Locale.ROOT),
        minor / 100,
        minor % 100);
  }
}
