package dev.billing.stripe.emulator;

import com.google.gson.JsonObject;
import dev.billing.stripe.WebhookSigner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events like Stripe does: signed POSTs to the endpoint, in the order they happen, and a
 * failed delivery (non-2xx or no answer) is retried later with exponential backoff while later
 * events go on, so the endpoint sees out-of-order deliveries just as it would from Stripe.
 */
final class WebhookSender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("emulator-webhooks").unstarted(r));
  private final String secret;
  private final Clock clock;
  private final Duration retryBase;
  private final int maxAttempts;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private volatile String endpoint;

  WebhookSender(String secret, Clock clock, Duration retryBase, int maxAttempts) {
    this.secret = secret;
    this.clock = clock;
    this.retryBase = retryBase;
    this.maxAttempts = maxAttempts;
  }

  void setEndpoint(String endpoint) {
    this.endpoint = endpoint;
  }

  private final java.util.concurrent.atomic.AtomicInteger toDrop =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * The next {@code n} events are never delivered (Stripe gave up on them); a negative {@code n}
   * takes back drops not used yet.
   */
  void dropNext(int n) {
    toDrop.updateAndGet(left -> Math.max(0, left + n));
  }

  void send(JsonObject event) {
    if (toDrop.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      log.info("emulator: dropping event {} on purpose", event.get("id").getAsString());
      return;
    }
    String payload = event.toString();
    executor.execute(() -> attempt(event.get("id").getAsString(), payload, 1));
  }

  private void attempt(String eventId, String payload, int attempt) {
    String target = endpoint;
    if (target == null) {
      return;
    }
    int status;
    try {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(target))
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/json; charset=utf-8")
              .header("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
              .header(
                  "Stripe-Signature",
                  WebhookSigner.header(payload, secret, clock.instant().getEpochSecond()))
              .POST(HttpRequest.BodyPublishers.ofString(payload))
              .build();
      status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      status = -1;
    }
    if (status >= 200 && status < 300) {
      delivered.incrementAndGet();
      return;
    }
    failedAttempts.incrementAndGet();
    if (attempt >= maxAttempts) {
      log.warn(
          "emulator: giving up on event {} after {} attempts (last status {})",
          eventId,
          attempt,
          status);
      return;
    }
    long delay = retryBase.toMillis() << Math.min(attempt - 1, 12);
    log.info(
        "emulator: event {} got status {}; retry {} in {} ms", eventId, status, attempt + 1, delay);
    if (!executor.isShutdown()) {
      executor.schedule(() -> attempt(eventId, payload, attempt + 1), delay, TimeUnit.MILLISECONDS);
    }
  }

  long delivered() {
    return delivered.get();
  }

  long failedAttempts() {
    return failedAttempts.get();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
