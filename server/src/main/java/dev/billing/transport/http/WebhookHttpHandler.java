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

  /** Where verified events go: the writers' queue ({@link WebhookProcessor#submit}). */
  private final WebhookProcessor processor;

  public WebhookHttpHandler(SignatureVerifier verifier, WebhookProcessor processor) {
    this.verifier = verifier;
    this.processor = processor;
  }

  /** The same handler, with its verified events going to {@code other} (a warm-up's twin). */
  WebhookHttpHandler to(WebhookProcessor other) {
    return new WebhookHttpHandler(verifier, other);
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
    if (!isJson(exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE))) {
      respond(exchange, 415, "unsupported_media_type", "Stripe events are application/json");
      return;
    }
    // A declared Content-Length over the limit is refused before anything is read; a chunked body
    // is counted as it arrives.
    exchange.setMaxEntitySize(MAX_BODY_BYTES);
    BoundedBody body = new BoundedBody();
    exchange.getRequestReceiver().receivePartialBytes(body, WebhookHttpHandler::failed);
  }

  /**
   * Collects a body up to {@link #MAX_BODY_BYTES}. Past the limit it answers 413 at once, then
   * reads and drops what the sender still sends (so the answer is not lost to a reset) until the
   * body ends or another {@link #MAX_BODY_BYTES} has been dropped, and closes the connection.
   */
  private final class BoundedBody implements io.undertow.io.Receiver.PartialBytesCallback {
    private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(4096);
    private long dropped = -1;

    @Override
    public void handle(HttpServerExchange exchange, byte[] chunk, boolean last) {
      if (dropped >= 0) {
        dropped += chunk.length;
        if (last || dropped > MAX_BODY_BYTES) {
          exchange.getRequestReceiver().pause();
          IoUtils.safeClose(exchange.getConnection());
        }
        return;
      }
      bytes.write(chunk, 0, chunk.length);
      if (bytes.size() > MAX_BODY_BYTES) {
        dropped = 0;
        exchange.setPersistent(false);
        respond(
            exchange, 413, "payload_too_large", "the body exceeds " + MAX_BODY_BYTES + " bytes");
        return;
      }
      if (last) {
        receivedSafely(exchange, bytes.toByteArray());
      }
    }
  }

  /**
   * {@code application/json}, with parameters or not ({@code ; charset=utf-8}); not {@code
   * application/jsonx} or {@code application/json-patch+json}.
   */
  static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semicolon = contentType.indexOf(';');
    String type = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
    return type.strip().equalsIgnoreCase("application/json");
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
    if (tooBig(e)) {
      // A chunked body crosses the limit while it is read: answer, and close the connection
      // rather than read the rest.
      exchange.setPersistent(false);
      respond(exchange, 413, "payload_too_large", "the body exceeds " + MAX_BODY_BYTES + " bytes");
      return;
    }
    log.debug("webhook body not received: {}", e.getMessage());
    IoUtils.safeClose(exchange.getConnection());
  }

  private static boolean tooBig(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RequestTooBigException) {
        return true;
      }
    }
    return false;
  }

  private void received(HttpServerExchange exchange, byte[] body) {
    InboundEvent event;
    try {
      event = verified(body, exchange.getRequestHeaders().getFirst(STRIPE_SIGNATURE));
    } catch (Refused e) {
      respond(exchange, 400, e.code, e.getMessage());
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

  /** A delivery refused before it is stored: a 400 with this code. */
  static final class Refused extends Exception {
    final String code;

    Refused(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /** The event a delivery carries, once its signature verifies and its body parses. */
  InboundEvent verified(byte[] body, String header) throws Refused {
    if (header == null || header.isBlank()) {
      throw new Refused("missing_signature", "the Stripe-Signature header is required");
    }
    try {
      verifier.verify(body, header);
    } catch (SignatureVerificationException e) {
      log.warn("rejected webhook: signature verification failed ({})", e.getMessage());
      throw new Refused("invalid_signature", "the signature does not verify");
    }
    String payload;
    try {
      payload =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
              .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(body))
              .toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      log.warn("rejected signed webhook: the body is not valid UTF-8");
      throw new Refused("invalid_event", "the body is not valid UTF-8");
    }
    try {
      return StripeEventParser.parse(payload);
    } catch (BillingException.InvalidArgument e) {
      log.warn("rejected signed webhook with an invalid body: {}", e.getMessage());
      throw new Refused("invalid_event", e.getMessage());
    }
  }

  private static void answer(
      HttpServerExchange exchange,
      InboundEvent event,
      WebhookProcessor.Outcome outcome,
      Throwable thrown) {
    Throwable failure =
        thrown instanceof java.util.concurrent.CompletionException && thrown.getCause() != null
            ? thrown.getCause()
            : thrown;
    if (failure == null) {
      log.debug("event {} {} -> {}", event.id(), event.type(), outcome);
      // Built by hand: this answer goes out for every delivery, and a JSON tree and its writer
      // cost more (to run, and to compile) than the string.
      respondJson(
          exchange,
          200,
          "{\"received\":true,\"id\":"
              + jsonString(event.id())
              + ",\"outcome\":\""
              + outcome.name().toLowerCase(java.util.Locale.ROOT)
              + "\"}");
    } else if (failure instanceof BillingException.Unavailable) {
      log.warn("database unavailable, asking Stripe to retry event {}", event.id());
      respond(exchange, 503, "unavailable", "storage unavailable, retry later");
    } else {
      log.error("event {} could not be stored: {}", event.id(), failure.toString());
      respond(exchange, 500, "internal", "the event could not be stored");
    }
  }

  /** A JSON string literal of {@code s} (quotes, backslashes and control characters escaped). */
  static String jsonString(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
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
