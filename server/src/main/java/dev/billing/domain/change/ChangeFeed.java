package dev.billing.domain.change;

import dev.billing.config.BillingConfig.StreamConfig;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.ChangeKind;
import dev.billing.persistence.Transactions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails change_log and hands every committed change, once and in order, to its listeners (the
 * entitlement snapshots, the stream hub). One reader per replica: a local commit's changes are
 * handed on by the committing thread itself when nobody else is handing on (else they wake the
 * reader), and a poll every {@code pollInterval} picks up changes committed by other replicas.
 * change_log is the bus.
 */
public final class ChangeFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);

  /** How many changes are read, and handed on, at a time. */
  public static final int PAGE_SIZE = 500;

  /** Sees the log's pages one at a time, in order (from the tailer or a committing thread). */
  public interface Listener {
    /**
     * Called once before the first page: every change up to {@code cursor} was committed before.
     */
    default void onStart(long cursor) {}

    void onPage(List<Change> changes);
  }

  private final Transactions tx;
  private final ChangeLog changeLog;
  private final StreamConfig config;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Semaphore wake = new Semaphore(0);

  /**
   * Changes this replica committed, by seq, until the tailer hands them on: a run of them that
   * follows the cursor is handed on without reading it back from the database.
   */
  private final ConcurrentSkipListMap<Long, Change> local = primed(new ConcurrentSkipListMap<>());

  /**
   * Held while changes are handed on, by the tailer or by a committing thread that found it free:
   * listeners see one page at a time, in order.
   */
  private final ReentrantLock handingOn = new ReentrantLock();

  /** Reads that found a hole and waited for the sequence row ({@link #readAfter}). */
  private final LongAdder holesSettled = new LongAdder();

  private volatile long cursor; // written under handingOn: every change <= cursor was handed on
  private volatile boolean running;
  private Thread tailer;

  /**
   * {@code map} with the parts a skip list makes at its first put (its head, its size counter)
   * made: the map's code, compiled during the warm-up on maps that had them, would otherwise be
   * thrown away at the first real commit ("unstable_if" in {@code doPut} and {@code addCount}) and
   * compiled again while deliveries wait (JFR over the load of {@code run-project.sh 5000 16}, four
   * runs: {@code doPut} compiled again 2.5-3.0 s into it, 27-50 ms of C2 each time).
   */
  private static ConcurrentSkipListMap<Long, Change> primed(
      ConcurrentSkipListMap<Long, Change> map) {
    Change none =
        new Change(
            Long.MIN_VALUE, "", ChangeKind.UPGRADED, null, null, null, null, 0, Map.of(), null);
    map.put(none.seq(), none);
    map.remove(none.seq());
    return map;
  }

  public ChangeFeed(Transactions tx, ChangeLog changeLog, StreamConfig config) {
    this.tx = tx;
    this.changeLog = changeLog;
    this.config = config;
  }

  /** Listeners added before {@link #start} see every change, in the order they were added. */
  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void start() {
    cursor = tx.read(s -> s.store(ChangeLogStore.class).lastCommittedSeq());
    listeners.forEach(l -> l.onStart(cursor));
    running = true;
    tailer = Thread.ofPlatform().daemon().name("change-feed").start(this::run);
  }

  /**
   * Called after a local commit with the changes it appended, so listeners hear about them now
   * rather than at the next poll, and without a read of the log.
   */
  public void committedLocally(List<Change> changes) {
    if (!running) {
      return;
    }
    long handedOn = cursor;
    for (Change c : changes) {
      if (c.seq() > handedOn) {
        local.put(c.seq(), c);
      }
    }
    // A commit of one change (a caller's mutation) is handed on from here when nobody else is
    // handing on: waking the tailer would be one more thread to schedule between the commit and
    // its streams. A group's changes go to the tailer, so that its writer starts the next group
    // (handed on by the writers, ingestion at 16 in flight fell from 1,947 to 1,829-1,852 events/s
    // in make bench-peer). What is left (a commit that reported while someone else handed on, or
    // one that does not follow the cursor yet) wakes the tailer too.
    if (changes.size() == 1 && handingOn.tryLock()) {
      try {
        handOnLocal();
      } finally {
        handingOn.unlock();
      }
    }
    if (!local.isEmpty()) {
      wake.release();
    }
  }

  /**
   * Where rehearsed changes go ({@link #rehearse}): a map of {@link #local}'s kind, emptied after
   * each rehearsal.
   */
  private final ConcurrentSkipListMap<Long, Change> rehearsed = new ConcurrentSkipListMap<>();

  /**
   * Takes changes that were rolled back (a rehearsal) as {@link #committedLocally} takes them, into
   * a map of their own that is emptied afterwards: nothing is handed on. The warm-up thus compiles
   * this path with the commit's, instead of the first real commits doing it.
   */
  public void rehearse(List<Change> changes) {
    for (Change c : changes) {
      rehearsed.put(c.seq(), c);
    }
    rehearsed.clear();
  }

  /** The highest seq handed on so far. */
  public long cursor() {
    return cursor;
  }

  public boolean isRunning() {
    return running;
  }

  private void run() {
    long pollNanos = Math.max(1, config.pollInterval().toMillis()) * 1_000_000L;
    long nextPoll = System.nanoTime() + pollNanos;
    int failures = 0;
    while (running) {
      try {
        long wait = nextPoll - System.nanoTime();
        boolean woken = wait > 0 && wake.tryAcquire(wait, TimeUnit.NANOSECONDS);
        wake.drainPermits();
        if (woken && local.isEmpty()) {
          // The committer that could not hand its changes on woke us, but the one handing on
          // took them too: nothing to read. The poll for other replicas' changes keeps its time.
          continue;
        }
        pollOnce();
        nextPoll = System.nanoTime() + pollNanos;
        failures = 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        failures++;
        log.warn("change feed read failed ({} in a row): {}", failures, e.getMessage());
        try {
          Thread.sleep(Math.min(5_000, 50L << Math.min(failures, 6)));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * Hands on everything committed after the cursor: the local changes that follow it without a gap,
   * else (another replica's change, or a local commit not reported yet, is next) what the log
   * holds. Seqs are taken in commit order, so when seq N is committed every seq below it is too.
   */
  void pollOnce() {
    handingOn.lock();
    try {
      while (running) {
        List<Change> changes = takeLocal(PAGE_SIZE);
        if (changes.isEmpty()) {
          changes = readAfter(cursor, PAGE_SIZE);
        }
        if (changes.isEmpty()) {
          return;
        }
        handOn(changes);
        if (changes.size() < PAGE_SIZE) {
          return;
        }
      }
    } finally {
      handingOn.unlock();
    }
  }

  /** Hands on the local changes that follow the cursor, without reading the log (under lock). */
  private void handOnLocal() {
    List<Change> run;
    while (running && !(run = takeLocal(PAGE_SIZE)).isEmpty()) {
      handOn(run);
    }
  }

  private void handOn(List<Change> changes) { // under handingOn
    cursor = changes.getLast().seq();
    local.headMap(cursor, true).clear();
    for (Listener l : listeners) {
      try {
        l.onPage(changes);
      } catch (RuntimeException e) {
        log.error("change feed listener failed", e);
      }
    }
  }

  /** The local changes that directly follow the cursor, in order, at most {@code limit}. */
  private List<Change> takeLocal(int limit) {
    List<Change> run = new ArrayList<>();
    long next = cursor + 1;
    Change c;
    while (run.size() < limit && (c = local.get(next)) != null) {
      run.add(c);
      next++;
    }
    return run;
  }

  /**
   * Committed changes after {@code afterSeq}, in order, at most {@code limit}, without a hole that
   * a later read would fill. Numbers are taken in commit order (the sequence row's lock), but a
   * MariaDB read view can still show a transaction without one that committed just before it: the
   * view copies the set of running transactions with a lock-free walk that a commit can overtake
   * (InnoDB's {@code ReadViewBase::snapshot} over {@code rw_trx_hash}; {@code commit_in_memory}
   * leaves that set before it releases the row's lock). A plain "seq &gt; cursor" tailer then hands
   * on seq N + 1 and never N. (StreamFlowControlTest's reading subscriber fell short in two of the
   * ten runs of the suite on 2026-12-07 before this read changed; in the run that said which, it
   * had 1,499 of 1,500, seq 205 missing, its stream open and no error: what such a hole looks
   * like.) So a read whose rows do not follow on from {@code afterSeq} number by number reads the
   * sequence row with a shared lock, which returns once every number up to it belongs to a finished
   * transaction, and reads again up to that number: a hole left then is for good (pruned, or never
   * written).
   */
  public List<Change> readAfter(long afterSeq, int limit) {
    return read(
        log -> {
          List<ChangeLogRow> rows = log.readAfter(afterSeq, limit);
          if (followsOn(rows, afterSeq)) {
            return rows;
          }
          holesSettled.increment();
          return log.readThrough(afterSeq, log.settledLastSeq(), limit);
        });
  }

  /** Whether {@code rows} are numbered {@code afterSeq + 1}, {@code afterSeq + 2}, ... */
  private static boolean followsOn(List<ChangeLogRow> rows, long afterSeq) {
    long expected = afterSeq + 1;
    for (ChangeLogRow row : rows) {
      if (row.seq() != expected++) {
        return false;
      }
    }
    return true;
  }

  /** How many log reads found a hole and settled it (see {@link #readAfter}). */
  public long holesSettled() {
    return holesSettled.sum();
  }

  private List<Change> read(java.util.function.Function<ChangeLogStore, List<ChangeLogRow>> query) {
    List<ChangeLogRow> rows = tx.read(s -> query.apply(s.store(ChangeLogStore.class)));
    List<Change> changes = new ArrayList<>(rows.size());
    for (ChangeLogRow row : rows) {
      changes.add(changeLog.toChange(row));
    }
    return changes;
  }

  /** A user's newest committed changes (within retention), newest first. */
  public List<Change> newestOfUser(String userId, int limit) {
    return read(log -> log.newestOfUser(userId, limit));
  }

  /** Where the log stands: its last committed seq, and the highest seq pruned by retention. */
  public record Bounds(long lastCommitted, long prunedThrough) {}

  public Bounds bounds() {
    return tx.read(
        s -> {
          ChangeLogStore m = s.store(ChangeLogStore.class);
          return new Bounds(m.lastCommittedSeq(), m.prunedThrough());
        });
  }

  /** The highest seq pruned by retention (0 when nothing was pruned). */
  public long prunedThrough() {
    return tx.read(s -> s.store(ChangeLogStore.class).prunedThrough());
  }

  @Override
  public void close() {
    running = false;
    local.clear();
    if (tailer != null) {
      tailer.interrupt();
    }
  }
}
