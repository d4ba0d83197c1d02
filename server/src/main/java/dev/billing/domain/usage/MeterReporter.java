package dev.billing.domain.usage;

import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import dev.billing.util.PeriodicTask;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the meter outbox to Stripe's Billing Meter Events API, off the RecordUsage path. Each row
 * is leased (so replicas share the work without sending a row twice at once), sent with its
 * record's deterministic identifier, and marked sent; Stripe refusing a repeated identifier means
 * it was counted before. Stripe unreachable: retried with exponential backoff (1 s doubling to 5
 * minutes). Refused for good, or older than Stripe accepts (35 days): a dead letter, kept for
 * admins ({@code ListMeterEvents}) and counted. The lag (age of the oldest pending record) is a
 * gauge to alert on long before Stripe's 24-hour identifier window and 35-day limit.
 */
public final class MeterReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MeterReporter.class);

  /** Stripe refuses meter events older than 35 days; stop a little before. */
  static final Duration MAX_AGE = Duration.ofDays(35).minusHours(1);

  private static final int BATCH = 100;
  private static final long LEASE_MS = 60_000;
  private static final long MAX_BACKOFF_MS = 300_000;

  private final Transactions tx;
  private final StripeGateway stripe;
  private final CustomerService customers;
  private final Clock clock;
  private final Counter sent;
  private final Counter duplicates;
  private final Counter retried;
  private final Counter dead;
  private final AtomicLong lagSeconds = new AtomicLong();
  private PeriodicTask task;

  public MeterReporter(
      Transactions tx,
      StripeGateway stripe,
      CustomerService customers,
      Clock clock,
      MeterRegistry meters) {
    this.tx = tx;
    this.stripe = stripe;
    this.customers = customers;
    this.clock = clock;
    this.sent = meters.counter("billing_meter_events_total", "outcome", "sent");
    this.duplicates = meters.counter("billing_meter_events_total", "outcome", "duplicate");
    this.retried = meters.counter("billing_meter_events_total", "outcome", "retry");
    this.dead = meters.counter("billing_meter_events_total", "outcome", "dead");
    Gauge.builder("billing_meter_outbox_lag_seconds", lagSeconds, AtomicLong::get)
        .description("age of the oldest usage record not yet reported to Stripe")
        .register(meters);
  }

  public void start(Duration interval) {
    if (!interval.isZero() && !interval.isNegative()) {
      task = PeriodicTask.every(interval, "meter-reporter", this::reportDue);
    }
  }

  /** Sends what is due now; returns how many rows were settled (sent or dead-lettered). */
  public int reportDue() {
    long now = clock.millis();
    List<MeterEventRow> due =
        tx.execute(
            uow -> {
              MeterOutboxStore store = uow.store(MeterOutboxStore.class);
              List<MeterEventRow> rows = store.lockDue(now, BATCH);
              if (!rows.isEmpty()) {
                store.lease(rows.stream().map(MeterEventRow::id).toList(), now + LEASE_MS);
              }
              return rows;
            });
    int settled = 0;
    for (MeterEventRow row : due) {
      if (send(row)) {
        settled++;
      }
    }
    Long oldest = tx.read(s -> s.store(MeterOutboxStore.class).oldestPendingTs());
    lagSeconds.set(oldest == null ? 0 : Math.max(0, clock.millis() / 1000 - oldest));
    return settled;
  }

  private boolean send(MeterEventRow row) {
    int attempts = row.attempts() + 1;
    long nowSeconds = clock.millis() / 1000;
    if (nowSeconds - row.eventTs() > MAX_AGE.toSeconds()) {
      return deadLetter(row, attempts, "older than Stripe accepts (35 days); not reported");
    }
    String customer;
    try {
      customer = customers.customerOf(row.userId());
    } catch (BillingException.Unavailable e) {
      return retry(row, attempts, e.getMessage());
    }
    if (customer == null) {
      return deadLetter(row, attempts, "user " + row.userId() + " has no Stripe customer");
    }
    StripeGateway.MeterOutcome outcome;
    try {
      outcome =
          stripe.reportMeterEvent(
              row.eventName(), customer, row.value(), row.identifier(), row.eventTs());
    } catch (BillingException.Unavailable e) {
      return retry(row, attempts, e.getMessage());
    } catch (BillingException e) {
      return deadLetter(row, attempts, e.getMessage());
    }
    (outcome == StripeGateway.MeterOutcome.DUPLICATE ? duplicates : sent).increment();
    tx.execute(
        uow -> {
          uow.store(MeterOutboxStore.class).markSent(row.id(), clock.millis());
          return null;
        });
    return true;
  }

  private boolean retry(MeterEventRow row, int attempts, String error) {
    long delay = Math.min(MAX_BACKOFF_MS, 1_000L << Math.min(attempts - 1, 20));
    retried.increment();
    log.warn(
        "meter event {} (record of {}) attempt {} failed, next in {} ms: {}",
        row.identifier(),
        row.userId(),
        attempts,
        delay,
        error);
    tx.execute(
        uow -> {
          uow.store(MeterOutboxStore.class)
              .markRetry(row.id(), attempts, clock.millis() + delay, cut(error));
          return null;
        });
    return false;
  }

  private boolean deadLetter(MeterEventRow row, int attempts, String error) {
    dead.increment();
    log.error("meter event {} dead-lettered: {}", row.identifier(), error);
    tx.execute(
        uow -> {
          uow.store(MeterOutboxStore.class).markDead(row.id(), attempts, cut(error));
          return null;
        });
    return true;
  }

  private static String cut(String s) {
    return s == null || s.length() <= 1000 ? s : s.substring(0, 1000);
  }

  /** Rows of the outbox with this status, newest first (admins look at dead letters here). */
  public List<MeterEventRow> list(String status, long beforeId, int limit) {
    return tx.read(s -> s.store(MeterOutboxStore.class).findByStatus(status, beforeId, limit));
  }

  @Override
  public void close() {
    if (task != null) {
      task.close();
    }
  }
}
