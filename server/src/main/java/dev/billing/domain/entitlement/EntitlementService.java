package dev.billing.domain.entitlement;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.billing.config.Catalog;
import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.persistence.HeldWrites;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Entitlements: the rules that turn a user's subscriptions into a tier, and the rows that hold the
 * result, written inside the transactions that change them. Every change is journaled for the
 * change log in the same transaction, which is what keeps the in-memory snapshots exact.
 */
public final class EntitlementService {
  private final Transactions tx;
  private final Catalog catalog;
  private final EntitlementCalculator calculator;
  private final AuditLog audit;
  private final Clock clock;
  private volatile UsageCounters usageCounters = UsageCounters.NONE;

  public EntitlementService(
      Transactions tx,
      Catalog catalog,
      EntitlementCalculator calculator,
      AuditLog audit,
      Clock clock) {
    this.tx = tx;
    this.catalog = catalog;
    this.calculator = calculator;
    this.audit = audit;
    this.clock = clock;
  }

  /** Where changes read users' usage counters from (set once at start by the usage package). */
  public void useCounters(UsageCounters counters) {
    this.usageCounters = counters;
  }

  /**
   * The user's stored entitlement; a user the service has never seen is on the free tier. A stored
   * row is remembered as found (see {@link #assumable}): read by one statement, it is exactly the
   * row at its version, so a later mutation may assume it as it would a row this replica wrote.
   */
  public EntitlementRow find(String userId) {
    FoundUser found = tx.read(s -> s.store(EntitlementStore.class).find(userId));
    if (found == null) {
      return EntitlementRow.unknown(userId);
    }
    remember(committed, found.row(), !found.hasCounters());
    return found.row();
  }

  /**
   * Locks the user's entitlement row for the rest of the transaction, creating it for a new user.
   * Every transaction that changes a user takes this lock first, so changes to one user serialise
   * and lock order is the same everywhere (user, then the change-log sequence).
   */
  public EntitlementRow lock(UnitOfWork uow, String userId) {
    Map<String, EntitlementRow> held = held(uow);
    EntitlementRow row = held.get(userId);
    if (row != null) {
      return row; // locked earlier in this transaction; the map holds its current state
    }
    EntitlementStore m = uow.store(EntitlementStore.class);
    row = m.lock(userId); // a known user: one statement
    if (row == null) {
      m.ensureRow(userId); // a new user: create the row, exclusively locked
      row = m.lock(userId);
    }
    held.put(userId, row);
    return row;
  }

  /**
   * Locks several users at once, in key order (so groups that overlap cannot deadlock on them),
   * creating the rows of new users, and reads their usage counters: one round trip for a whole
   * webhook group instead of one or three statements per event. Later {@link #lock} calls for these
   * users cost nothing.
   */
  public void lockAll(UnitOfWork uow, Collection<String> userIds) {
    ReadBatch reads = uow.reads();
    Runnable locked = lockAll(uow, reads, userIds);
    reads.send();
    locked.run();
  }

  /**
   * {@link #lockAll(UnitOfWork, Collection)} as part of {@code reads}, a batch of the transaction's
   * statements sent together: records its statements there; run what it returns once the batch has
   * been sent.
   */
  public Runnable lockAll(UnitOfWork uow, ReadBatch reads, Collection<String> userIds) {
    return lockAll(uow, reads, userIds, (user, customer) -> {});
  }

  /**
   * {@link #lockAll(UnitOfWork, ReadBatch, Collection)}, and the Stripe customer of each user it
   * locks (read with the lock, which saves the customer package a statement) handed to {@code
   * customers} when what it returns runs.
   */
  public Runnable lockAll(
      UnitOfWork uow,
      ReadBatch reads,
      Collection<String> userIds,
      BiConsumer<String, String> customers) {
    HeldRows held = held(uow);
    List<String> wanted =
        userIds.stream().filter(u -> !held.containsKey(u)).distinct().sorted().toList();
    if (wanted.isEmpty()) {
      return () -> {};
    }
    // Creates the missing rows and locks every row, exclusively, in the order given; then reads
    // them all back, new ones included, with their live usage counters (exact only with the rows
    // locked: read in the same statement, after the lock) and their customers.
    // One multi-row INSERT ... VALUES of ensureRow's rows (replayed alone: 35-45 us less of
    // MariaDB's CPU per statement than the same through JSON_TABLE, for six users).
    reads.countAll(EntitlementStore.class, wanted, EntitlementStore::ensureRow);
    Long liveAfter = usageCounters.liveAfter();
    Supplier<List<LockedUser>> rows =
        reads.rows(EntitlementStore.class, m -> m.lockAll(wanted, liveAfter));
    return () -> {
      List<UsageCounters.UserCount> counts = new ArrayList<>();
      for (LockedUser r : rows.get()) {
        if (held.putIfAbsent(r.userId(), r.row()) == null && r.customerId() != null) {
          customers.accept(r.userId(), r.customerId());
        }
        UsageCount counter = r.counter();
        if (counter != null) {
          counts.add(new UsageCounters.UserCount(r.userId(), counter));
        }
      }
      for (String u : wanted) {
        if (!held.containsKey(u)) {
          throw new IllegalStateException("entitlement row of " + u + " neither found nor made");
        }
      }
      loadCounters(held, wanted, counts);
    };
  }

  /**
   * The rows this transaction has locked, as they stand now. Updates replace them here and are
   * written together when the transaction flushes (nothing in a transaction reads these rows back
   * from the database: {@link #lock} answers from here).
   */
  private static final class HeldRows extends HashMap<String, EntitlementRow> {
    private final HeldWrites<EntitlementRow> unwritten;

    /** The live usage counters of the users read so far, by user, then {@link UsageCount#key}. */
    private final Map<String, Map<String, UsageCount>> counters = new HashMap<>();

    /**
     * The rows {@link #assume} took without reading them. Their writes are the conditional ones.
     */
    private final Map<String, Assumed> assumed = new HashMap<>();

    HeldRows(UnitOfWork uow) {
      unwritten =
          new HeldWrites<>(
              uow,
              EntitlementStore.class,
              (u, row) -> {
                if (assumed.isEmpty()) {
                  u.store(EntitlementStore.class).update(row);
                } else {
                  writeAssumed(u.store(EntitlementStore.class), row, assumed.get(row.userId()));
                }
              },
              (u, rows) -> {
                if (!assumed.isEmpty()) {
                  throw new IllegalStateException("one row is assumed at a time");
                }
                u.batch(EntitlementStore.class, rows, EntitlementStore::write);
              });
    }
  }

  /**
   * An assumed row's write, which fails with a duplicate key (and stops the commit's packet before
   * anything after it) unless the stored row is as assumed. A known row's write sets its version
   * only: the one thing besides the balance (another table's) that a mutation of an assumed row may
   * change.
   */
  private static void writeAssumed(EntitlementStore store, EntitlementRow row, Assumed assumed) {
    if (assumed.absent()) {
      store.insertNew(row);
      return;
    }
    if (!row.sameStateAs(assumed.row())) {
      throw new IllegalStateException(
          "an assumed row's state changed: " + assumed.row() + " -> " + row);
    }
    store.updateVersionIf(row.userId(), row.version(), assumed.row().version());
    store.failUnlessUpdated(row.userId());
  }

  /** A row taken as {@code row} without reading it; {@code absent}: assumed not to exist yet. */
  private record Assumed(EntitlementRow row, boolean absent) {}

  /** How many users' committed rows {@link #assumable} remembers. */
  private static final int REMEMBERED_ROWS = 100_000;

  /**
   * A user's row as their newest committed change left it, or as a read found it; not assumable
   * with usage counters.
   */
  private record Committed(EntitlementRow row, boolean assumable) {}

  private final Cache<String, Committed> committed = rememberedRows();

  /**
   * Where rehearsed changes go ({@link #rehearse}): built as {@link #committed} is, so a rehearsal
   * runs the cache's write path too, emptied after each rehearsal.
   */
  private final Cache<String, Committed> rehearsed = rememberedRows();

  private static Cache<String, Committed> rememberedRows() {
    return Caffeine.newBuilder().maximumSize(REMEMBERED_ROWS).build();
  }

  /**
   * This replica's changes as they commit, each with the row exactly as written: the rows {@link
   * #assumable} offers. A change older than the one remembered is ignored.
   */
  public void committed(List<Change> changes) {
    remember(committed, changes);
  }

  /**
   * Takes changes that were rolled back (a rehearsal) as {@link #committed} and then {@link
   * #heardOf} do, into a cache of their own that is emptied afterwards: nothing rehearsed is ever
   * assumed. The warm-up thus compiles this path with the commit's, instead of the first real
   * commits doing it.
   */
  public void rehearse(List<Change> changes) {
    remember(rehearsed, changes);
    heardOf(rehearsed, changes); // as the feed hands a commit's changes back
    rehearsed.invalidateAll();
  }

  private static void remember(Cache<String, Committed> to, List<Change> changes) {
    for (Change c : changes) {
      remember(to, c.entitlement(), c.counters().isEmpty());
    }
  }

  /** Remembers {@code row} unless a row as new or newer is remembered. */
  private static void remember(Cache<String, Committed> to, EntitlementRow row, boolean assumable) {
    to.asMap()
        .merge(
            row.userId(),
            new Committed(row, assumable),
            (old, next) -> old.row().version() >= next.row().version() ? old : next);
  }

  /**
   * Every replica's committed changes, from the change feed: a user changed past the row remembered
   * (by another replica) is forgotten, not taken from the change (whose row went through the
   * stream's encoding), so the next mutation assumes nothing it was not told exactly.
   */
  public void heardOf(List<Change> changes) {
    heardOf(committed, changes);
  }

  private static void heardOf(Cache<String, Committed> in, List<Change> changes) {
    for (Change c : changes) {
      in.asMap()
          .computeIfPresent(
              c.userId(),
              (u, old) -> old.row().version() >= c.entitlement().version() ? old : null);
    }
  }

  /**
   * What a mutation of {@code userId} in one packet may assume ({@link #assume}): the row as this
   * replica's last commit of the user wrote it, or as {@link #find} last found it; {@code
   * Optional.empty()} when none is remembered (the row is assumed absent: a new user); null when
   * the user has usage counters, whose values a change carries and which only a locking read gives
   * exactly (such a mutation reads first).
   */
  public Optional<EntitlementRow> assumable(String userId) {
    Committed c = committed.getIfPresent(userId);
    if (c == null) {
      return Optional.empty();
    }
    return c.assumable() ? Optional.of(c.row()) : null;
  }

  /**
   * Takes a user's row as {@code assumed} (empty: absent, a new user's free row at version 0) for
   * the rest of the transaction, without reading it, for a mutation that sends its writes and its
   * COMMIT in one packet. The row's write checks the assumption as it locks the row: if the stored
   * row is not that version (or exists, for an absent one) it fails with a duplicate key, and the
   * packet stops there, so nothing is written; the caller then runs the mutation again the usual
   * way ({@link #lockAll}). The transaction must write this row, and no other row of this service.
   */
  public EntitlementRow assume(UnitOfWork uow, String userId, Optional<EntitlementRow> assumed) {
    HeldRows held = held(uow);
    if (!held.isEmpty()) {
      throw new IllegalStateException("assume() must be the transaction's first entitlement");
    }
    EntitlementRow row = assumed.orElseGet(() -> EntitlementRow.unknown(userId));
    held.put(userId, row);
    held.counters.put(userId, new HashMap<>());
    held.assumed.put(userId, new Assumed(row, assumed.isEmpty()));
    return row;
  }

  private static HeldRows held(UnitOfWork uow) {
    return uow.attachment(HeldRows.class, () -> new HeldRows(uow));
  }

  private static void loadCounters(
      HeldRows held, Collection<String> userIds, List<UsageCounters.UserCount> counts) {
    for (String u : userIds) {
      held.counters.putIfAbsent(u, new HashMap<>());
    }
    for (UsageCounters.UserCount c : counts) {
      held.counters.get(c.userId()).put(c.count().key(), c.count());
    }
  }

  /**
   * A locked user's counter of {@code metric} in the period {@code periodKey} as this transaction
   * stands (read with the user's lock, so exact), or null when nothing was counted in it.
   */
  public UsageCount counter(UnitOfWork uow, String userId, String metric, long periodKey) {
    return counters(uow, userId).get(UsageCount.key(metric, periodKey));
  }

  /** A locked user's live usage counters, read once per transaction. */
  private Map<String, UsageCount> counters(UnitOfWork uow, String userId) {
    HeldRows held = held(uow);
    if (!held.counters.containsKey(userId)) {
      List<String> user = List.of(userId);
      ReadBatch reads = uow.reads();
      Supplier<List<UsageCounters.UserCount>> counts = usageCounters.newest(reads, user);
      reads.send();
      loadCounters(held, user, counts.get());
    }
    return held.counters.get(userId);
  }

  /** Records a locked user's new row: written when the transaction flushes. */
  private static void write(UnitOfWork uow, EntitlementRow row) {
    HeldRows held = held(uow);
    held.put(row.userId(), row);
    held.unwritten.put(row.userId(), row);
  }

  /**
   * Recomputes a locked user's entitlement from their subscriptions and, if it changed, bumps the
   * version, writes it, audits it and queues the change for the stream.
   */
  public EntitlementRow recompute(
      UnitOfWork uow,
      EntitlementRow locked,
      List<? extends SubscriptionState> subscriptions,
      Cause cause) {
    long now = clock.instant().getEpochSecond();
    EntitlementRow decided = locked.withDecision(calculator.decide(subscriptions, now));
    if (decided.pendingPlan() != null && pendingSettled(decided, locked)) {
      decided = decided.withPending(null, null);
    }
    if (decided.sameStateAs(locked)) {
      return locked;
    }
    EntitlementRow updated = decided.next(locked.creditBalance());
    write(uow, updated);
    audit.record(
        uow,
        locked.userId(),
        cause,
        "entitlement",
        locked.userId(),
        "entitlement.changed",
        locked.toString(),
        updated.toString());
    emit(uow, locked, updated, kindOf(locked, updated), cause, null);
    if (periodRenewed(locked, updated)) {
      emit(uow, updated, updated, ChangeKind.USAGE_PERIOD_RESET, cause, null);
    }
    return updated;
  }

  /**
   * A scheduled plan change is over when Stripe applied it (the tier is the pending plan), or the
   * subscription it was scheduled on no longer decides the tier (ended, or another one took over).
   */
  private static boolean pendingSettled(EntitlementRow decided, EntitlementRow before) {
    StripeStatus status = StripeStatus.parseStored(decided.status());
    return decided.tier().equals(decided.pendingPlan())
        || !java.util.Objects.equals(decided.subscriptionId(), before.subscriptionId())
        || (status != StripeStatus.ACTIVE
            && status != StripeStatus.TRIALING
            && status != StripeStatus.PAST_DUE);
  }

  /**
   * Records (or, with a null plan, withdraws) a plan change scheduled for the end of the period on
   * a locked user: a new version, audited, and a SUBSCRIPTION_UPDATED change on the stream.
   */
  public EntitlementRow pendingPlanChange(
      UnitOfWork uow, EntitlementRow locked, String plan, Long effectiveAt, Cause cause) {
    EntitlementRow updated = locked.withPending(plan, effectiveAt).next(locked.creditBalance());
    write(uow, updated);
    audit.record(
        uow,
        locked.userId(),
        cause,
        "entitlement",
        locked.userId(),
        plan == null ? "plan_change.withdrawn" : "plan_change.scheduled",
        locked.toString(),
        updated.toString());
    emit(uow, locked, updated, ChangeKind.SUBSCRIPTION_UPDATED, cause, null);
    return updated;
  }

  /**
   * A renewal: the same subscription moved on to a new period, and the plan counts something per
   * period, whose counters now start from zero.
   */
  private boolean periodRenewed(EntitlementRow before, EntitlementRow after) {
    return before.currentPeriodEnd() != null
        && after.currentPeriodEnd() != null
        && after.currentPeriodEnd() > before.currentPeriodEnd()
        && java.util.Objects.equals(before.subscriptionId(), after.subscriptionId())
        && catalog.planOrFree(after.tier()).hasPeriodMetrics();
  }

  /**
   * Records a locked user's usage counter after a usage record: a new version and a change that
   * carries the counter, so every replica's snapshot counts it ({@code kind} says whether a
   * threshold was crossed; a plain record is not sent on the stream).
   */
  public EntitlementRow usageRecorded(
      UnitOfWork uow,
      EntitlementRow locked,
      String metric,
      long periodKey,
      long used,
      ChangeKind kind,
      Cause cause) {
    EntitlementRow updated = locked.next(locked.creditBalance());
    write(uow, updated);
    UsageCount count = new UsageCount(metric, periodKey, used, updated.version());
    counters(uow, locked.userId()).put(count.key(), count);
    emit(uow, locked, updated, kind, cause, metric);
    return updated;
  }

  /** Records a new credit balance for a locked user: a new version and a CREDITS_CHANGED change. */
  public EntitlementRow creditsChanged(
      UnitOfWork uow, EntitlementRow locked, long newBalance, Cause cause) {
    EntitlementRow updated = locked.next(newBalance);
    write(uow, updated);
    emit(uow, locked, updated, ChangeKind.CREDITS_CHANGED, cause, null);
    return updated;
  }

  private void emit(
      UnitOfWork uow,
      EntitlementRow before,
      EntitlementRow after,
      ChangeKind kind,
      Cause cause,
      String usageMetric) {
    uow.journal(PendingChange.class)
        .add(
            new PendingChange(
                after.userId(),
                kind,
                after,
                catalog.planOrFree(before.tier()).name(),
                StripeStatus.parseStored(before.status()).stripeName(),
                cause.stripeEventId(),
                clock.millis(),
                Map.copyOf(counters(uow, after.userId())),
                usageMetric));
  }

  ChangeKind kindOf(EntitlementRow before, EntitlementRow after) {
    int beforeRank = catalog.planOrFree(before.tier()).rank();
    int afterRank = catalog.planOrFree(after.tier()).rank();
    boolean wasFree = before.tier().equals(Catalog.FREE);
    boolean isFree = after.tier().equals(Catalog.FREE);
    StripeStatus afterStatus = StripeStatus.parseStored(after.status());
    if (wasFree && !isFree) {
      return afterStatus == StripeStatus.TRIALING
          ? ChangeKind.TRIAL_STARTED
          : ChangeKind.SUBSCRIPTION_STARTED;
    }
    if (!wasFree && isFree) {
      return ChangeKind.SUBSCRIPTION_ENDED;
    }
    if (afterRank > beforeRank) {
      return ChangeKind.UPGRADED;
    }
    if (afterRank < beforeRank) {
      return ChangeKind.DOWNGRADED;
    }
    if (!before.paymentProblem() && after.paymentProblem()) {
      return ChangeKind.PAYMENT_FAILED;
    }
    if (before.paymentProblem() && !after.paymentProblem()) {
      return ChangeKind.PAYMENT_RECOVERED;
    }
    if (StripeStatus.parseStored(before.status()) == StripeStatus.TRIALING
        && afterStatus == StripeStatus.ACTIVE) {
      return ChangeKind.SUBSCRIPTION_STARTED;
    }
    return ChangeKind.SUBSCRIPTION_UPDATED;
  }
}
