package dev.billing.transport.http;

import com.google.gson.JsonObject;
import com.stripe.exception.SignatureVerificationException;
import dev.billing.domain.inbox.InboundEvent;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.error.BillingException;
import dev.billing.stripe.SignatureVerifier;
import dev.billing.stripe.StripeEventParser;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;

/**
 * {@code POST /webhooks/stripe}: verify the signature on the raw bytes, store, apply, answer. 2xx
 * only once the event is durably stored; 400 for anything Stripe did not sign; 503 when the
 * database cannot take it, so Stripe retries.
 */
public final class WebhookHttpHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(WebhookHttpHandler.class);
  private static final HttpString STRIPE_SIGNATURE = new HttpString("Stripe-Signature");

  /** Stripe's events are far smaller; anything bigger is not from Stripe. */
  public static final long MAX_BODY_BYTES = 1024 * 1024;

  private final SignatureVerifier verifier;
  private final WebhookProcessor processor;

  public WebhookHttpHandler(SignatureVerifier verifier, WebhookProcessor processor) {
    this.verifier = verifier;
    this.processor = processor;
  }

  /**
   * Runs on the I/O thread and never blocks it: the body is received asynchronously, verified and
   * parsed as it arrives, queued for the writers, and answered when its group has committed. No
   * worker thread waits per delivery, so as many deliveries can be in flight (and grouped) as the
   * senders send.
   */
  @Override
  public void handleRequest(HttpServerExchange exchange) {
    if (!Methods.POST.equals(exchange.getRequestMethod())) {
      exchange.getResponseHeaders().put(Headers.ALLOW, "POST");
      respond(exchange, 405, "method_not_allowed", "use POST");
      return;
    }
    String contentType = exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
    if (contentType == null
        || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      respond(exchange, 415, "unsupported_media_type", "Stripe events are application/json");
      return;
    }
    exchange.setMaxEntitySize(MAX_BODY_BYTES);
    exchange
        .getRequestReceiver()
        .receiveFullBytes(this::receivedSafely, WebhookHttpHandler::failed);
  }

  private void receivedSafely(HttpServerExchange exchange, byte[] body) {
    try {
      received(exchange, body);
    } catch (RuntimeException e) {
      log.error("webhook handling failed: {}", e.toString());
      respond(exchange, 500, "internal", "the event could not be handled");
    }
  }

  private static void failed(HttpServerExchange exchange, IOException e) {
    if (e instanceof RequestTooBigException || e.getCause() instanceof RequestTooBigException) {
      respond(exchange, 413, "payload_too_large", "the body exceeds " + MAX_BODY_BYTES + " bytes");
      return;
    }
    log.debug("webhook body not received: {}", e.getMessage());
    IoUtils.safeClose(exchange.getConnection());
  }

  private void received(HttpServerExchange exchange, byte[] body) {
    String header = exchange.getRequestHeaders().getFirst(STRIPE_SIGNATURE);
    if (header == null || header.isBlank()) {
      respond(exchange, 400, "missing_signature", "the Stripe-Signature header is required");
      return;
    }
    String payload = new String(body, StandardCharsets.UTF_8);
    try {
      verifier.verify(payload, header);
    } catch (SignatureVerificationException e) {
      log.warn("rejected webhook: signature verification failed ({})", e.getMessage());
      respond(exchange, 400, "invalid_signature", "the signature does not verify");
      return;
    }
    InboundEvent event;
    try {
      event = StripeEventParser.parse(payload);
    } catch (BillingException.InvalidArgument e) {
      log.warn("rejected signed webhook with an invalid body: {}", e.getMessage());
      respond(exchange, 400, "invalid_event", e.getMessage());
      return;
    }
    CompletableFuture<WebhookProcessor.Outcome> stored = processor.submit(event);
    // Dispatched: the exchange stays open after this returns, until the answer is sent.
    exchange.dispatch(
        SameThreadExecutor.INSTANCE,
        () ->
            stored.whenComplete(
                (outcome, failure) ->
                    exchange
                        .getIoThread()
                        .execute(() -> answer(exchange, event, outcome, failure))));
  }

  private static void answer(
      HttpServerExchange exchange,
      InboundEvent event,
      WebhookProcessor.Outcome outcome,
      Throwable failure) {
    if (failure == null) {
      log.debug("event {} {} -> {}", event.id(), event.type(), outcome);
      JsonObject answer = new JsonObject();
      answer.addProperty("received", true);
      answer.addProperty("id", event.id());
      answer.addProperty("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT));
      respondJson(exchange, 200, answer.toString());
    } else if (failure instanceof BillingException.Unavailable) {
      log.warn("database unavailable, asking Stripe to retry event {}", event.id());
      respond(exchange, 503, "unavailable", "storage unavailable, retry later");
    } else {
      log.error("event {} could not be stored: {}", event.id(), failure.toString());
      respond(exchange, 500, "internal", "the event could not be stored");
    }
  }

  private static void respond(
      HttpServerExchange exchange, int status, String code, String message) {
    JsonObject error = new JsonObject();
    error.addProperty("code", code);
    error.addProperty("message", message);
    JsonObject body = new JsonObject();
    body.add("error", error);
    respondJson(exchange, status, body.toString());
  }

  private static void respondJson(HttpServerExchange exchange, int status, String json) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseSender().send(json);
  }
}
