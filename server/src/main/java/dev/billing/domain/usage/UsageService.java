package dev.billing.domain.usage;

import dev.billing.config.Catalog;
import dev.billing.config.Metric;
import dev.billing.config.Plan;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.entitlement.ChangeKind;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.UsageCount;
import dev.billing.domain.entitlement.UsageCounters;
import dev.billing.domain.idempotency.Idempotency;
import dev.billing.domain.idempotency.OwnedKey;
import dev.billing.domain.idempotency.RecordedOutcome;
import dev.billing.error.BillingException;
import dev.billing.persistence.GroupWriters;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Usage of the metered features of a user's plan. A record and its period's counter change in one
 * transaction under the user's lock, so concurrent records never take a counter past its allowance
 * (enforce mode), and the counter always equals the sum of its records. A period is the user's
 * current billing period from Stripe (its counter is keyed by when it resets, so a renewal starts a
 * new one), or the calendar month in UTC for a user without a subscription; a running allowance
 * (seats) never resets. A plan change takes the new plan's allowance at once; what was recorded in
 * the period stays counted.
 */
public final class UsageService implements UsageCounters {
  static final String OPERATION = "usage";
  public static final String LIMIT_REACHED = "LIMIT_REACHED";
  public static final String NOT_IN_PLAN = "NOT_IN_PLAN";
  public static final String INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS";

  private final Transactions tx;
  private final Catalog catalog;
  private final EntitlementService entitlements;
  private final CreditService credits;
  private final Clock clock;

  public UsageService(
      Transactions tx,
      Catalog catalog,
      EntitlementService entitlements,
      CreditService credits,
      Clock clock) {
    this.tx = tx;
    this.catalog = catalog;
    this.entitlements = entitlements;
    this.credits = credits;
    this.clock = clock;
    if (entitlements != null) {
      entitlements.useCounters(this); // every change carries the user's counters
    }
  }

  @Override
  public Supplier<List<UserCount>> newest(ReadBatch reads, java.util.Collection<String> userIds) {
    if (userIds.isEmpty()) {
      return List::of;
    }
    List<String> users = List.copyOf(userIds);
    long liveAfter = liveAfter();
    Supplier<List<CounterRow>> rows =
        reads.rows(UsageStore.class, s -> s.liveCounters(users, liveAfter));
    return () -> {
      List<UserCount> out = new ArrayList<>();
      for (CounterRow r : rows.get()) {
        out.add(new UserCount(r.userId(), count(r)));
      }
      return out;
    };
  }

  /** Counters of periods that ended before this are of no more use (running ones are kept). */
  @Override
  public Long liveAfter() {
    return clock.instant().getEpochSecond() - 1;
  }

  private static UsageCount count(CounterRow r) {
    return new UsageCount(r.metric(), r.periodKey(), r.used(), r.version());
  }

  /** A usage record request (validated by the caller: known metric, quantity in bounds). */
  public record Command(
      String userId, String metric, long quantity, String idempotencyKey, boolean enforce) {}

  /**
   * Records usage, exactly once per idempotency key: the same key answers its first outcome
   * (replayed, or its refusal again), another request under it is {@code IDEMPOTENCY_KEY_REUSED}.
   * Refusals are {@link BillingException.FailedPrecondition}: {@code NOT_IN_PLAN}, {@code
   * LIMIT_REACHED} (enforce mode past the allowance, overage credits not covering it), {@code
   * BELOW_ZERO} (freeing more than is used).
   */
  public UsageResult record(Command c, Cause cause) {
    String hash = Idempotency.fingerprint(c.metric(), c.quantity(), c.enforce());
    if (!writers.isStarted()) {
      return Idempotency.refusalsRecorded(
          tx,
          OPERATION,
          c.userId(),
          c.idempotencyKey(),
          hash,
          uow -> recordLocked(uow, c, hash, cause));
    }
    Pending p = new Pending(c, cause, hash, new CompletableFuture<>());
    if (!writers.offer(p)) {
      throw new BillingException.Unavailable(
          "OVERLOADED", "too many usage records waiting; retry", null);
    }
    try {
      return p.result().get();
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

  // ---------------------------------------------------------------- group commit

  private record Pending(
      Command command, Cause cause, String hash, CompletableFuture<UsageResult> result) {}

  private static final int MAX_GROUP = 64;

  private final GroupWriters<Pending> writers =
      new GroupWriters<>(
          "usage-writer",
          10_000,
          MAX_GROUP,
          java.util.Comparator.comparing(p -> p.command().userId()),
          p -> p.command().userId(), // a user's records always go to the same writer
          this::writeGroup,
          (group, e) -> {
            RuntimeException failure = Transactions.translate(e);
            group.forEach(p -> p.result().completeExceptionally(failure));
          });

  /**
   * Starts {@code count} writers: each takes the records waiting for it and writes them in ONE
   * transaction (one commit, one change-log reservation for all of them), in user order; a user's
   * records all go to one writer, so writers never wait on each other's user locks (nor deadlock);
   * a record that fails is rolled back alone (savepoints) while the rest commit. Until started,
   * each record is its own transaction.
   */
  public void start(int count) {
    writers.start(count);
  }

  public void stop() {
    writers.close();
    for (Pending left : writers.drain()) {
      left.result()
          .completeExceptionally(
              new BillingException.Unavailable("SHUTTING_DOWN", "server is shutting down", null));
    }
  }

  private void writeGroup(List<Pending> group) {
    Transactions.GroupOutcome<Object> done =
        tx.executeGroup(
            group,
            group.size() > 1,
            new Transactions.GroupWork<Pending, Object>() {
              @Override
              public boolean prepare(UnitOfWork uow, List<Pending> items) {
                prefetch(uow, items);
                return true;
              }

              @Override
              public Object apply(UnitOfWork uow, Pending p, boolean batched) {
                Command c = p.command();
                try {
                  return recordLocked(uow, c, p.hash(), p.cause());
                } catch (BillingException.FailedPrecondition e) {
                  if (e.reason().equals("IDEMPOTENCY_KEY_REUSED")) {
                    throw e;
                  }
                  // The refusal is this key's outcome: recorded with the group.
                  RecordedOutcome refusal =
                      Idempotency.recordRefusal(
                          uow, OPERATION, c.userId(), c.idempotencyKey(), p.hash(), e);
                  Held held = held(uow);
                  if (held.outcomes != null) {
                    held.outcomes.put(new OwnedKey(c.userId(), c.idempotencyKey()), refusal);
                  }
                  return e;
                }
              }
            });
    for (int i = 0; i < group.size(); i++) {
      CompletableFuture<UsageResult> result = group.get(i).result();
      Object r = done.results().get(i);
      if (r instanceof UsageResult ok) {
        result.complete(ok);
      } else if (r instanceof RuntimeException refused) {
        result.completeExceptionally(refused);
      } else {
        result.completeExceptionally(done.failures().get(i));
      }
    }
  }

  private UsageResult recordLocked(UnitOfWork uow, Command c, String hash, Cause cause) {
    EntitlementRow user = entitlements.lock(uow, c.userId());
    Held held = held(uow);
    String k = c.userId() + '\u0000' + c.idempotencyKey();
    UsageRecordRow first =
        held.firstRecords != null
            ? held.firstRecords.get(k)
            : uow.store(UsageStore.class).findByKey(c.userId(), c.idempotencyKey());
    if (first != null) {
      if (!first.requestHash().equals(hash)) {
        throw Idempotency.reused();
      }
      return new UsageResult(
          true,
          first.usedAfter(),
          first.usageLimit(),
          first.periodKey() == 0 ? null : first.periodKey(),
          null,
          true,
          first.overage(),
          first.creditsDebited());
    }
    if (held.outcomes != null) {
      Idempotency.check(held.outcomes.get(new OwnedKey(c.userId(), c.idempotencyKey())), hash);
    } else {
      Idempotency.replay(uow, OPERATION, c.userId(), c.idempotencyKey(), hash);
    }
    Plan plan = catalog.planOrFree(user.tier());
    Metric metric = plan.metrics().get(c.metric());
    if (metric == null) {
      throw new BillingException.FailedPrecondition(
          NOT_IN_PLAN, "plan " + plan.name() + " does not include " + c.metric());
    }
    if (c.quantity() < 0 && metric.reset() == Metric.Reset.PERIOD) {
      throw BillingException.InvalidArgument.of(
          "quantity", "must be positive for " + c.metric() + " (a per-period allowance)");
    }
    Long resetsAt = metric.reset() == Metric.Reset.PERIOD ? periodEnd(user) : null;
    long periodKey = resetsAt == null ? 0 : resetsAt;
    // The user's lock (taken above) guards the counter: the transaction's view of it is exact.
    UsageCount counter = entitlements.counter(uow, c.userId(), c.metric(), periodKey);
    long used = counter == null ? 0 : counter.used();
    long after = used + c.quantity();
    if (after < 0) {
      throw new BillingException.FailedPrecondition(
          "BELOW_ZERO", c.metric() + ": only " + used + " in use, cannot free " + -c.quantity());
    }
    long overage = c.quantity() > 0 ? Math.max(0, after - Math.max(used, metric.limit())) : 0;
    long cost =
        overage > 0 && metric.overageCredits() != null
            ? Math.multiplyExact(overage, metric.overageCredits())
            : 0;
    if (c.enforce()
        && overage > 0
        && (metric.overageCredits() == null || user.creditBalance() < cost)) {
      throw new BillingException.FailedPrecondition(
          LIMIT_REACHED,
          c.metric()
              + ": "
              + used
              + " of "
              + metric.limit()
              + " used"
              + (metric.overageCredits() == null
                  ? ""
                  : "; the overage costs "
                      + cost
                      + " credits and the balance is "
                      + user.creditBalance()));
    }
    long debit = Math.min(cost, user.creditBalance());
    String txn = null;
    if (debit > 0) {
      txn =
          credits
              .apply(
                  uow,
                  c.userId(),
                  -debit,
                  "usage_overage",
                  "usage:" + c.idempotencyKey(),
                  "overage of " + overage + " " + c.metric(),
                  null,
                  cause)
              .transactionId();
    }
    EntitlementRow now = entitlements.lock(uow, c.userId()); // the debit above may have moved it
    EntitlementRow written =
        entitlements.usageRecorded(
            uow, now, c.metric(), periodKey, after, crossing(used, after, metric.limit()), cause);
    held.counters.put(
        c.userId() + '\u0000' + UsageCount.key(c.metric(), periodKey),
        new CounterRow(c.userId(), c.metric(), periodKey, after, written.version()));
    UsageRecordRow row =
        new UsageRecordRow(
            0,
            c.userId(),
            c.metric(),
            periodKey,
            c.quantity(),
            c.idempotencyKey(),
            hash,
            after,
            metric.limit(),
            overage,
            debit,
            txn,
            0);
    held.records.put(k, row);
    if (held.firstRecords != null) {
      held.firstRecords.put(k, row); // a repeat of this key later in the group is a replay
    }
    if (metric.meterEventName() != null && c.quantity() > 0) {
      // Reported to Stripe later, from the outbox, with an identifier only this record has.
      String identifier = meterIdentifier(c.userId(), c.idempotencyKey());
      held.meterEvents.put(
          identifier,
          new MeterEventRow(
              0,
              c.userId(),
              c.metric(),
              metric.meterEventName(),
              c.quantity(),
              identifier,
              clock.instant().getEpochSecond(),
              MeterEventRow.PENDING,
              0,
              0,
              null));
    }
    return new UsageResult(true, after, metric.limit(), resetsAt, null, false, overage, debit);
  }

  /**
   * The meter event identifier of a usage record: derived from the user and the record's
   * idempotency key, so every resend of the record carries the same one (at most 100 characters).
   */
  static String meterIdentifier(String userId, String idempotencyKey) {
    return "bu_" + Idempotency.fingerprint("meter", userId, idempotencyKey).substring(0, 48);
  }

  /**
   * A transaction's usage writes, held and sent together (one batch per table), and, in a group
   * that was prefetched, the keys' first outcomes read for the whole group at once.
   */
  private static final class Held {
    final HeldWrites<CounterRow> counters;
    final HeldWrites<UsageRecordRow> records;
    final HeldWrites<MeterEventRow> meterEvents;

    /** user + key -> its first record, for every key of a prefetched group; else null. */
    Map<String, UsageRecordRow> firstRecords;

    /** user + key -> its recorded refusal, for every key of a prefetched group; else null. */
    Map<OwnedKey, RecordedOutcome> outcomes;

    Held(UnitOfWork uow) {
      counters = HeldWrites.rows(uow, UsageStore.class, UsageStore::writeCounter);
      records = HeldWrites.rows(uow, UsageStore.class, UsageStore::insertRecord);
      meterEvents = HeldWrites.rows(uow, MeterOutboxStore.class, MeterOutboxStore::insert);
    }
  }

  private static Held held(UnitOfWork uow) {
    return uow.attachment(Held.class, () -> new Held(uow));
  }

  /**
   * Before a group's records: locks its users (and reads their counters) and reads every key's
   * first record and refusal, a few statements for the whole group.
   */
  private void prefetch(UnitOfWork uow, List<Pending> group) {
    List<String> users = group.stream().map(p -> p.command().userId()).distinct().toList();
    List<OwnedKey> keys =
        group.stream()
            .map(p -> new OwnedKey(p.command().userId(), p.command().idempotencyKey()))
            .distinct()
            .toList();
    ReadBatch reads = uow.reads();
    Runnable locked = entitlements.lockAll(uow, reads, users);
    Supplier<List<UsageRecordRow>> records = reads.rows(UsageStore.class, s -> s.findByKeys(keys));
    Supplier<Map<OwnedKey, RecordedOutcome>> outcomes =
        Idempotency.prefetch(reads, OPERATION, keys);
    reads.send();
    locked.run();
    Held held = held(uow);
    held.firstRecords = new HashMap<>();
    for (UsageRecordRow r : records.get()) {
      held.firstRecords.put(r.userId() + '\u0000' + r.idempotencyKey(), r);
    }
    held.outcomes = outcomes.get();
  }

  /**
   * The stream's kind for a record that took a counter from {@code before} to {@code after}:
   * reaching the allowance, crossing 80% of it, or neither.
   */
  static ChangeKind crossing(long before, long after, long limit) {
    if (limit <= 0 || after <= before) {
      return ChangeKind.USAGE_RECORDED;
    }
    if (before < limit && after >= limit) {
      return ChangeKind.USAGE_LIMIT_REACHED;
    }
    if (before * 5 < limit * 4 && after * 5 >= limit * 4) {
      return ChangeKind.USAGE_THRESHOLD_REACHED;
    }
    return ChangeKind.USAGE_RECORDED;
  }

  /** The user's live counters, by {@link UsageCount#key}, as stored (for a snapshot). */
  public Map<String, UsageCount> counters(String userId) {
    Map<String, UsageCount> byKey = new HashMap<>();
    for (CounterRow r :
        tx.read(s -> s.store(UsageStore.class).liveCounters(List.of(userId), liveAfter()))) {
      UsageCount c = count(r);
      byKey.put(c.key(), c);
    }
    return byKey;
  }

  /** One metric's usage against the user's plan right now. */
  public record Summary(String metric, long used, long limit, Long resetsAt) {
    public long remaining() {
      return Math.max(0, limit - used);
    }
  }

  /**
   * The usage of every metric of the user's plan, sorted by metric, from the user's entitlement and
   * counters (only the current period's counts).
   */
  public List<Summary> summaries(EntitlementRow user, Map<String, UsageCount> counters) {
    Plan plan = catalog.planOrFree(user.tier());
    if (plan.metrics().isEmpty()) {
      return List.of();
    }
    long periodEnd = periodEnd(user);
    List<Summary> out = new ArrayList<>(plan.metrics().size());
    for (Metric m : plan.metrics().values()) {
      out.add(summary(m, counters, periodEnd));
    }
    out.sort(java.util.Comparator.comparing(Summary::metric));
    return out;
  }

  private static Summary summary(Metric m, Map<String, UsageCount> counters, long periodEnd) {
    Long resetsAt = m.reset() == Metric.Reset.PERIOD ? periodEnd : null;
    UsageCount counter = counters.get(UsageCount.key(m.name(), resetsAt == null ? 0 : resetsAt));
    return new Summary(m.name(), counter == null ? 0 : counter.used(), m.limit(), resetsAt);
  }

  /**
   * When the summaries of this user change without any record: the end of the current period, so a
   * snapshot built now is rebuilt once it has passed (epoch seconds; Long.MAX_VALUE for never).
   */
  public long summariesValidUntil(EntitlementRow user) {
    return catalog.planOrFree(user.tier()).hasPeriodMetrics() ? periodEnd(user) : Long.MAX_VALUE;
  }

  /**
   * Whether recording {@code quantity} of {@code metric} now would be accepted in enforce mode, and
   * why not, from the user's entitlement and newest counters: the same rule as {@link #record},
   * without a database read.
   */
  public UsageResult check(
      EntitlementRow user, Map<String, UsageCount> counters, String metricName, long quantity) {
    Plan plan = catalog.planOrFree(user.tier());
    Metric m = plan.metrics().get(metricName);
    if (m == null) {
      return new UsageResult(false, 0, 0, null, NOT_IN_PLAN, false, 0, 0);
    }
    Summary s = summary(m, counters, periodEnd(user));
    long after = s.used() + quantity;
    long overage = quantity > 0 ? Math.max(0, after - Math.max(s.used(), m.limit())) : 0;
    String reason = null;
    if (after < 0) {
      reason = LIMIT_REACHED; // cannot free what is not in use
    } else if (overage > 0) {
      if (m.overageCredits() == null) {
        reason = LIMIT_REACHED;
      } else if (user.creditBalance() < overage * m.overageCredits()) {
        reason = INSUFFICIENT_CREDITS;
      }
    }
    return new UsageResult(reason == null, s.used(), m.limit(), s.resetsAt(), reason, false, 0, 0);
  }

  /** A page of a user's records of a metric in the current period, and its totals. */
  public record Page(List<UsageRecordRow> records, UsageResult totals) {}

  public Page list(String userId, String metric, long beforeId, int limit) {
    EntitlementRow user = entitlements.find(userId);
    Metric m = catalog.planOrFree(user.tier()).metrics().get(metric);
    Long resetsAt = m == null || m.reset() == Metric.Reset.PERIOD ? periodEnd(user) : null;
    long periodKey = resetsAt == null ? 0 : resetsAt;
    return tx.read(
        s -> {
          UsageStore store = s.store(UsageStore.class);
          Long used = store.counter(userId, metric, periodKey);
          return new Page(
              store.findRecords(userId, metric, periodKey, beforeId, limit),
              new UsageResult(
                  m != null,
                  used == null ? 0 : used,
                  m == null ? 0 : m.limit(),
                  resetsAt,
                  m == null ? NOT_IN_PLAN : null,
                  false,
                  0,
                  0));
        });
  }

  /**
   * When the user's current period ends: the subscription's period from Stripe while it grants the
   * tier, else the first second of the next calendar month in UTC.
   */
  long periodEnd(EntitlementRow user) {
    long now = clock.instant().getEpochSecond();
    if (!Catalog.FREE.equals(user.tier())
        && user.currentPeriodEnd() != null
        && user.currentPeriodEnd() > now) {
      return user.currentPeriodEnd();
    }
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC)
        .withDayOfMonth(1)
        .plusMonths(1)
        .atStartOfDay(ZoneOffset.UTC)
        .toEpochSecond();
  }
}
