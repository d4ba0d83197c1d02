package dev.billing.domain.inbox;

import dev.billing.config.BillingConfig.WebhookConfig;
import dev.billing.error.BillingException;
import dev.billing.persistence.DatabaseHealth;
import dev.billing.persistence.GroupWriters;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import dev.billing.util.PeriodicTask;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.function.IntSupplier;
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
  private final Function<String, InboundEvent> parser;
  private final WebhookConfig config;
  private final Clock clock;
  private final DatabaseHealth health;
  private final Duration storeWait;
  private PeriodicTask retryWorker;
  private PeriodicTask overdue;
  private final Counter applied;
  private final Counter duplicates;
  private final Counter deferred;
  private final Counter dead;
  private final Counter batchedGroups;
  private final Counter isolatedGroups;

  /**
   * False for a twin that rehearses its groups instead of committing them ({@link #rehearsalTwin}).
   * Passed on as it is: the compiled group code has no branch on it, so the twin's warm-up does not
   * compile code that a real group throws away (a branch never taken while warming up is compiled
   * as a trap).
   */
  private final boolean commit;

  public WebhookProcessor(
      Transactions tx,
      EventApplier applier,
      Function<String, InboundEvent> parser,
      WebhookConfig config,
      DatabaseHealth health,
      Duration storeWait,
      Clock clock,
      MeterRegistry meters) {
    this.health = health;
    this.storeWait = storeWait;
    // The database stopped answering: what waits in the queue is answered 503 now (Stripe
    // retries it), not when its turn to fail comes. A group being written fails with its
    // aborted connection.
    health.addListener(this::refuseQueued);
    this.tx = tx;
    this.applier = applier;
    this.parser = parser;
    this.config = config;
    this.clock = clock;
    this.applied = meters.counter("billing_webhook_events_total", "outcome", "applied");
    this.duplicates = meters.counter("billing_webhook_events_total", "outcome", "duplicate");
    this.deferred = meters.counter("billing_webhook_events_total", "outcome", "deferred");
    this.dead = meters.counter("billing_webhook_events_total", "outcome", "dead");
    this.batchedGroups = meters.counter("billing_webhook_groups_total", "path", "batched");
    this.isolatedGroups = meters.counter("billing_webhook_groups_total", "path", "isolated");
    this.commit = true;
  }

  /** The twin of {@code of}, counting into {@code uncounted}: see {@link #rehearsalTwin}. */
  private WebhookProcessor(WebhookProcessor of, MeterRegistry uncounted) {
    this.health = of.health;
    this.storeWait = of.storeWait;
    this.tx = of.tx;
    this.applier = of.applier;
    this.parser = of.parser;
    this.config = of.config;
    this.clock = of.clock;
    this.applied = uncounted.counter("applied");
    this.duplicates = uncounted.counter("duplicates");
    this.deferred = uncounted.counter("deferred");
    this.dead = uncounted.counter("dead");
    this.batchedGroups = uncounted.counter("batched");
    this.isolatedGroups = uncounted.counter("isolated");
    this.commit = false;
  }

  /**
   * A twin of this processor for warming the path up: deliveries submitted to it take the same
   * queue, writer threads and group code, but each group is rehearsed (its transaction rolled back,
   * see {@link Transactions#rehearseGroup}) and its deliveries answered with their outcomes (a
   * failing one with its failure); nothing is kept, published or set aside for retry, and its
   * counts go to {@code uncounted}, a scratch registry (of the service's registry's kind, so the
   * counters are of the classes the real ones are and the compiled code calls them as it will call
   * those). Started here; close it when done.
   */
  public WebhookProcessor rehearsalTwin(MeterRegistry uncounted) {
    WebhookProcessor twin = new WebhookProcessor(this, uncounted);
    twin.startWriters();
    return twin;
  }

  public void start() {
    startWriters();
    retryWorker = PeriodicTask.every(config.retryScan(), "webhook-retry", this::retryDue);
  }

  /**
   * Stores and applies a verified event. Throws {@link BillingException.Unavailable} when the
   * database cannot store it (the caller answers 503 so Stripe retries).
   *
   * <p>Concurrent deliveries are grouped: a few writer threads each take whatever events are
   * waiting and apply them in one transaction (one savepoint per event), so one commit, one
   * change-log reservation and one log flush cover many events. The caller gets its answer once the
   * group has committed.
   */
  public Outcome ingest(InboundEvent event) {
    try {
      return submit(event).get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BillingException.Unavailable("INTERRUPTED", "interrupted", e);
    }
  }

  /**
   * Queues a verified event for the writers without waiting; the future completes once its group
   * has committed (or fails with {@link BillingException.Unavailable}: shutting down, overloaded,
   * the database unreachable, or not stored within the store wait). An event answered 503 may still
   * be stored later; Stripe's retry then finds it and has no second effect.
   */
  public CompletableFuture<Outcome> submit(InboundEvent event) {
    if (!running) {
      return CompletableFuture.failedFuture(
          new BillingException.Unavailable("SHUTTING_DOWN", "server is shutting down", null));
    }
    if (!health.isUp()) {
      return CompletableFuture.failedFuture(BillingException.Unavailable.database(null));
    }
    Pending p =
        new Pending(event, new CompletableFuture<>(), System.nanoTime() + storeWait.toNanos());
    if (!writers.offer(p)) {
      return CompletableFuture.failedFuture(
          new BillingException.Unavailable("OVERLOADED", "too many webhooks waiting; retry", null));
    }
    return p.result();
  }

  private void startWriters() {
    writers.start(config.writers());
    overdue = PeriodicTask.every(overdueScan(storeWait), "webhook-store-wait", this::failOverdue);
  }

  /**
   * How often deliveries are checked against the store wait: a twentieth of it, between 10 and 100
   * ms (a delivery is answered at most that much later than its wait).
   */
  static Duration overdueScan(Duration storeWait) {
    long ms = Math.clamp(storeWait.toMillis() / 20, 10, 100);
    return Duration.ofMillis(ms);
  }

  /**
   * Fails the deliveries still waiting or being written past their store wait with {@link
   * BillingException.Unavailable} (the caller answers 503; Stripe retries, and finds the event if
   * its group commits after all). One scan for all of them instead of a timer per delivery: a timer
   * scheduled and cancelled per delivery woke the common pool's scheduler thread for each
   * (0.02-0.03 ms of CPU per event, measured at 16 in flight).
   */
  private void failOverdue() {
    long now = System.nanoTime();
    writers.forEachWaiting(p -> failIfOverdue(p, now));
    for (Pending p : writing) {
      failIfOverdue(p, now);
    }
  }

  private static void failIfOverdue(Pending p, long now) {
    if (now - p.deadline() >= 0 && !p.result().isDone()) {
      p.result()
          .completeExceptionally(
              new BillingException.Unavailable(
                  "TIMEOUT", "the event was not stored in time; retry", null));
    }
  }

  /**
   * Applies these events as one group, in the calling thread, the way a writer applies deliveries
   * that arrive together; returns each event's outcome, in order.
   */
  public List<Outcome> ingestGroup(List<InboundEvent> events) {
    // Never checked against the store wait (neither queued nor the writers' group): no deadline.
    long never = System.nanoTime() + Long.MAX_VALUE / 2;
    List<Pending> group =
        events.stream().map(e -> new Pending(e, new CompletableFuture<Outcome>(), never)).toList();
    writeGroup(group);
    return group.stream().map(p -> p.result().join()).toList();
  }

  /**
   * A delivery waiting for its group: its answer, and when it is due ({@link System#nanoTime}) at
   * the latest ({@link #failOverdue}).
   */
  private record Pending(InboundEvent event, CompletableFuture<Outcome> result, long deadline) {}

  private static final int MAX_GROUP = 64;
  private final GroupWriters<Pending> writers =
      new GroupWriters<>(
          "webhook-writer",
          10_000,
          MAX_GROUP,
          null,
          null,
          group -> {
            writing = group;
            try {
              writeGroup(group);
            } finally {
              writing = List.of();
            }
          },
          (group, e) -> {
            log.error("webhook group failed unexpectedly: {}", describe(e));
            group.forEach(p -> p.result().completeExceptionally(Transactions.translate(e)));
          });
  private volatile boolean running = true;

  /** The group a writer is applying (answered 503 at once if the database stops answering). */
  private volatile List<Pending> writing = List.of();

  /**
   * One transaction for the whole group (group commit, see {@link Transactions#executeGroup}); an
   * event that fails is rolled back alone and kept for retry.
   */
  private void writeGroup(List<Pending> group) {
    List<InboundEvent> events = group.stream().map(Pending::event).toList();
    Transactions.GroupOutcome<Outcome> done;
    boolean batched = batchable(events);
    try {
      done = tx.group(events, batched, work, commit);
    } catch (BillingException.Unavailable e) {
      group.forEach(p -> p.result().completeExceptionally(e));
      return;
    }
    if (done.isolated()) {
      isolatedGroups.increment();
    } else if (batched) {
      batchedGroups.increment();
    }
    for (int i = 0; i < group.size(); i++) {
      Pending p = group.get(i);
      Outcome o = done.results().get(i);
      if (o != null) {
        (o == Outcome.APPLIED ? applied : duplicates).increment();
        p.result().complete(o);
        continue;
      }
      if (!commit) { // a rehearsal keeps nothing, not even for retry
        p.result().completeExceptionally(done.failures().get(i));
        continue;
      }
      try {
        p.result().complete(storeForRetry(p.event(), done.failures().get(i)));
      } catch (RuntimeException storeFailure) {
        p.result().completeExceptionally(Transactions.translate(storeFailure));
      }
    }
  }

  /**
   * The inbox's part of a group: the common case stores the whole group with one insert and locks
   * what its events touch, all in one round trip; a duplicate in the group (the insert stores fewer
   * rows) sends the group down the careful path, one event at a time.
   */
  private final Transactions.GroupWork<InboundEvent, Outcome> work =
      new Transactions.GroupWork<>() {
        @Override
        public boolean prepare(UnitOfWork uow, List<InboundEvent> events) {
          // One round trip: the inbox insert, then what the events will lock and read.
          ReadBatch reads = uow.reads();
          IntSupplier stored =
              reads.countAll(InboxStore.class, events, InboxStore::insertProcessedIfAbsent);
          Runnable prefetched = applier.prefetch(uow, reads, events);
          reads.send();
          if (stored.getAsInt() != events.size()) {
            return false;
          }
          prefetched.run();
          return true;
        }

        @Override
        public Outcome apply(UnitOfWork uow, InboundEvent event, boolean batched) {
          if (!batched
              && uow.store(InboxStore.class)
                      .insertIfAbsent(event, StoredEvent.PROCESSED, 1, null, null)
                  == 0) {
            return Outcome.DUPLICATE;
          }
          applier.apply(uow, event);
          return Outcome.APPLIED;
        }
      };

  /** A group's payloads go in one statement up to this size (well below max_allowed_packet). */
  private static final long MAX_BATCH_CHARS = 1 << 20;

  /** Whether a group's events are stored with one insert and prefetched together. */
  private static boolean batchable(List<InboundEvent> group) {
    long chars = 0;
    for (InboundEvent e : group) {
      chars += e.payload().length();
    }
    return group.size() > 1 && chars <= MAX_BATCH_CHARS;
  }

  /**
   * Runs {@code body}, in which the groups of {@link #rehearsalTwin twins} see each other's writes,
   * all rolled back when it returns (see {@link Transactions#rehearsing}).
   */
  public void rehearsing(Runnable body) {
    tx.rehearsing(body);
  }

  private Outcome storeForRetry(InboundEvent event, RuntimeException e) {
    String error = describe(e);
    log.warn(
        "event {} ({}) failed to apply, stored for retry: {}", event.id(), event.type(), error);
    long next = clock.millis() + config.retryBase().toMillis();
    boolean stored =
        tx.execute(
            uow ->
                uow.store(InboxStore.class)
                        .insertIfAbsent(event, StoredEvent.PENDING, 1, error, next)
                    > 0);
    deferred.increment();
    return stored ? Outcome.STORED_FOR_RETRY : Outcome.DUPLICATE;
  }

  /** Retries the pending events whose time has come; returns how many were applied. */
  public int retryDue() {
    List<String> due = tx.read(s -> s.store(InboxStore.class).findDue(clock.millis(), 50));
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
            InboxStore inbox = uow.store(InboxStore.class);
            StoredEvent stored = inbox.lockPending(id);
            seen[0] = stored;
            if (stored == null) {
              return false;
            }
            applier.apply(uow, parser.apply(stored.payload()));
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
            uow.store(InboxStore.class)
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

  /** Makes a dead-lettered (or pending) event due now with a fresh attempt budget. */
  public StoredEvent replay(String eventId) {
    // Read back in the same transaction: the answer is the state the replay set, not whatever the
    // retry worker (which may take the event up the moment this commits) has made of it since.
    StoredEvent requeued =
        tx.execute(
            uow -> {
              InboxStore inbox = uow.store(InboxStore.class);
              return inbox.requeue(eventId, clock.millis()) > 0 ? inbox.find(eventId) : null;
            });
    if (requeued == null) {
      throw new BillingException.NotFound(
          "EVENT_NOT_REPLAYABLE", "no dead-lettered or pending event " + eventId);
    }
    log.info("event {} requeued for replay", eventId);
    return requeued;
  }

  /** A stored event with its payload, or null. */
  public StoredEvent event(String eventId) {
    return tx.read(s -> s.store(InboxStore.class).find(eventId));
  }

  /** Those of these event ids that are in the inbox. */
  public java.util.Set<String> stored(List<String> ids) {
    if (ids.isEmpty()) {
      return java.util.Set.of();
    }
    return java.util.Set.copyOf(tx.read(s -> s.store(InboxStore.class).findExisting(ids)));
  }

  /** The newest stored event's {@code created} (epoch seconds), or null when none is. */
  public Long newestStoredCreated() {
    return tx.read(s -> s.store(InboxStore.class).newestCreated());
  }

  /** Stored events with this status, oldest first, without payloads. */
  public List<StoredEvent> events(String status, int offset, int limit) {
    return tx.read(s -> s.store(InboxStore.class).findByStatus(status, offset, limit));
  }

  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getClass().getSimpleName() + ": " + root.getMessage();
    return msg.length() > 1000 ? msg.substring(0, 1000) : msg;
  }

  private void refuseQueued() {
    BillingException.Unavailable down = BillingException.Unavailable.database(null);
    writing.forEach(p -> p.result().completeExceptionally(down));
    writers.drain().forEach(p -> p.result().completeExceptionally(down));
  }

  @Override
  public void close() {
    running = false;
    writers.close();
    for (Pending left : writers.drain()) {
      left.result()
          .completeExceptionally(
              new BillingException.Unavailable("SHUTTING_DOWN", "server is shutting down", null));
    }
    if (retryWorker != null) {
      retryWorker.close();
    }
    if (overdue != null) {
      overdue.close();
    }
  }
}
