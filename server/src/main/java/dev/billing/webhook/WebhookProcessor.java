package dev.billing.webhook;

import dev.billing.config.BillingConfig.WebhookConfig;
import dev.billing.db.Transactions;
import dev.billing.error.BillingException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbox. An event is stored, applied and marked processed in ONE transaction, so it takes
 * effect exactly once: the event id is the inbox's primary key, and a redelivery finds it there.
 * When applying fails, the event is still stored (pending) and acknowledged; a background worker
 * retries it with exponential backoff and dead-letters it after {@code maxAttempts}.
 */
public final class WebhookProcessor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookProcessor.class);

  /** What happened to a delivery. */
  public enum Outcome {
    APPLIED,
    DUPLICATE,
    STORED_FOR_RETRY
  }

  private final Transactions tx;
  private final EventApplier applier;
  private final WebhookConfig config;
  private final Clock clock;
  private final ScheduledExecutorService worker =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("webhook-retry").unstarted(r));
  private final Counter applied;
  private final Counter duplicates;
  private final Counter deferred;
  private final Counter dead;

  public WebhookProcessor(
      Transactions tx,
      EventApplier applier,
      WebhookConfig config,
      Clock clock,
      MeterRegistry meters) {
    this.tx = tx;
    this.applier = applier;
    this.config = config;
    this.clock = clock;
    this.applied = meters.counter("billing_webhook_events_total", "outcome", "applied");
    this.duplicates = meters.counter("billing_webhook_events_total", "outcome", "duplicate");
    this.deferred = meters.counter("billing_webhook_events_total", "outcome", "deferred");
    this.dead = meters.counter("billing_webhook_events_total", "outcome", "dead");
  }

  public void start() {
    long scan = Math.max(10, config.retryScan().toMillis());
    worker.scheduleWithFixedDelay(this::retryDueSafely, scan, scan, TimeUnit.MILLISECONDS);
  }

  /**
   * Stores and applies a verified event. Throws {@link BillingException.Unavailable} when the
   * database cannot store it (the caller answers 503 so Stripe retries).
   */
  public Outcome ingest(StripeEvent event) {
    try {
      Outcome outcome =
          tx.execute(
              uow -> {
                StripeEventMapper inbox = uow.mapper(StripeEventMapper.class);
                if (inbox.insertIfAbsent(event, StoredEvent.PROCESSED, 1, null, null) == 0) {
                  return Outcome.DUPLICATE;
                }
                applier.apply(uow, event);
                return Outcome.APPLIED;
              });
      (outcome == Outcome.APPLIED ? applied : duplicates).increment();
      return outcome;
    } catch (BillingException.Unavailable e) {
      throw e;
    } catch (RuntimeException e) {
      log.warn(
          "event {} ({}) failed to apply, stored for retry: {}",
          event.id(),
          event.type(),
          describe(e));
      String error = describe(e);
      long next = clock.millis() + config.retryBase().toMillis();
      boolean stored =
          tx.execute(
              uow ->
                  uow.mapper(StripeEventMapper.class)
                          .insertIfAbsent(event, StoredEvent.PENDING, 1, error, next)
                      > 0);
      deferred.increment();
      return stored ? Outcome.STORED_FOR_RETRY : Outcome.DUPLICATE;
    }
  }

  private void retryDueSafely() {
    try {
      retryDue();
    } catch (RuntimeException e) {
      log.warn("webhook retry scan failed: {}", describe(e));
    }
  }

  /** Retries the pending events whose time has come; returns how many were applied. */
  public int retryDue() {
    List<String> due =
        tx.read(s -> s.getMapper(StripeEventMapper.class).findDue(clock.millis(), 50));
    int done = 0;
    for (String id : due) {
      if (retry(id)) {
        done++;
      }
    }
    return done;
  }

  private boolean retry(String id) {
    StoredEvent[] seen = new StoredEvent[1];
    try {
      return tx.execute(
          uow -> {
            StripeEventMapper inbox = uow.mapper(StripeEventMapper.class);
            StoredEvent stored = inbox.lockPending(id);
            seen[0] = stored;
            if (stored == null) {
              return false;
            }
            applier.apply(uow, StripeEvent.parse(stored.payload()));
            inbox.markProcessed(id);
            applied.increment();
            return true;
          });
    } catch (BillingException.Unavailable e) {
      throw e;
    } catch (RuntimeException e) {
      StoredEvent stored = seen[0];
      int attempts = (stored == null ? 0 : stored.attempts()) + 1;
      boolean giveUp = attempts >= config.maxAttempts();
      long delay = config.retryBase().toMillis() << Math.min(attempts - 1, 16);
      tx.execute(
          uow -> {
            uow.mapper(StripeEventMapper.class)
                .markFailed(
                    id,
                    giveUp ? StoredEvent.DEAD : StoredEvent.PENDING,
                    attempts,
                    describe(e),
                    giveUp ? null : clock.millis() + delay);
            return null;
          });
      if (giveUp) {
        dead.increment();
        log.error("event {} dead-lettered after {} attempts: {}", id, attempts, describe(e));
      } else {
        log.warn("event {} attempt {} failed, next in {} ms: {}", id, attempts, delay, describe(e));
      }
      return false;
    }
  }

  /** Makes a dead-lettered event due again; true when there was such an event. */
  public boolean replay(String eventId) {
    return tx.execute(
        uow -> uow.mapper(StripeEventMapper.class).requeue(eventId, clock.millis()) > 0);
  }

  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getClass().getSimpleName() + ": " + root.getMessage();
    return msg.length() > 1000 ? msg.substring(0, 1000) : msg;
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
