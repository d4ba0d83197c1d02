package dev.billing.domain.change;

import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.ChangeKind;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.PendingChange;
import dev.billing.domain.entitlement.UsageCount;
import dev.billing.persistence.CommitBatch;
import dev.billing.persistence.CommitHook;
import dev.billing.persistence.UnitOfWork;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends a transaction's entitlement changes to change_log as its last statements, and tells
 * listeners after it commits.
 *
 * <p>Sequence numbers come from the single change_seq row, locked by {@code reserve} until the
 * transaction commits. Writers therefore take numbers one after another in commit order: when a
 * reader sees seq N, every seq below N is already committed, so tailing {@code seq > last} can
 * never skip a row that commits late. (AUTO_INCREMENT gives numbers at insert time, not commit
 * time.) The reservation, the rows and the COMMIT go in one packet ({@link CommitBatch}), so the
 * lock is held only while that packet runs.
 */
public final class ChangeLog implements CommitHook {
  private static final Logger log = LoggerFactory.getLogger(ChangeLog.class);

  /**
   * How an entitlement snapshot is kept in a change_log row: the API's wire format, so a stream
   * replays exactly what was sent live (the transport provides it).
   */
  public interface EntitlementCodec {
    /** The entitlement with the usage of its plan's metrics from {@code counters}. */
    byte[] encode(EntitlementRow entitlement, Map<String, UsageCount> counters);

    Decoded decode(byte[] stored);
  }

  /** A stored snapshot read back. */
  public record Decoded(EntitlementRow entitlement, Map<String, UsageCount> counters) {}

  private final EntitlementCodec codec;
  private final List<Consumer<List<Change>>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<List<Change>>> rehearsalListeners = new CopyOnWriteArrayList<>();

  public ChangeLog(EntitlementCodec codec) {
    this.codec = codec;
  }

  /** Called after each commit that appended changes, in the committing thread. */
  public void addListener(Consumer<List<Change>> listener) {
    listeners.add(listener);
  }

  /** The changes a transaction appended, and the last number they took once it commits. */
  private static final class Appended {
    List<PendingChange> pending = List.of();
    LongSupplier last;

    List<Change> changes() {
      if (pending.isEmpty()) {
        return List.of();
      }
      long seq = last.getAsLong() - pending.size() + 1;
      List<Change> changes = new ArrayList<>(pending.size());
      for (PendingChange p : pending) {
        changes.add(p.committed(seq++));
      }
      return changes;
    }
  }

  /**
   * Reserves the numbers and appends the rows with the commit's other statements, in its round
   * trip: the change_seq lock is held only while that packet runs.
   */
  @Override
  public void beforeCommit(UnitOfWork uow) {
    List<PendingChange> pending = uow.journal(PendingChange.class);
    if (pending.isEmpty()) {
      return;
    }
    int n = pending.size();
    CommitBatch batch = uow.commitBatch();
    LongSupplier last = batch.insertIdOf(ChangeLogStore.class, s -> s.reserve(n));
    ChangeLogStore store = batch.store(ChangeLogStore.class);
    for (int i = 0; i < n; i++) {
      PendingChange p = pending.get(i);
      store.append(
          new ChangeLogRow(
              0, // LAST_INSERT_ID() - fromLast, set by the database
              p.userId(),
              p.kind().stored(),
              p.entitlement().version(),
              codec.encode(p.entitlement(), p.counters()),
              p.previousTier(),
              p.previousStatus(),
              p.stripeEventId(),
              p.occurredAtMillis(),
              p.usageMetric()),
          n - 1 - i);
    }
    Appended appended = uow.attachment(Appended.class, Appended::new);
    appended.pending = List.copyOf(pending);
    appended.last = last;
    pending.clear();
  }

  @Override
  public void afterCommit(UnitOfWork uow) {
    notify(listeners, uow.attachment(Appended.class, Appended::new).changes());
  }

  private static void notify(List<Consumer<List<Change>>> listeners, List<Change> changes) {
    if (changes.isEmpty()) {
      return;
    }
    for (Consumer<List<Change>> l : listeners) {
      try {
        l.accept(changes);
      } catch (RuntimeException e) {
        log.error("change listener failed", e);
      }
    }
  }

  /**
   * Called, instead of the listeners, after a rehearsal (rolled back) appended changes: the
   * listener does the work of a commit and keeps nothing.
   */
  public void addRehearsalListener(Consumer<List<Change>> listener) {
    rehearsalListeners.add(listener);
  }

  @Override
  public void afterRehearsal(UnitOfWork uow) {
    notify(rehearsalListeners, uow.attachment(Appended.class, Appended::new).changes());
  }

  /** A stored row as the change it records. */
  public Change toChange(ChangeLogRow row) {
    Decoded stored = codec.decode(row.entitlement());
    return new Change(
        row.seq(),
        row.userId(),
        ChangeKind.ofStored(row.kind()),
        stored.entitlement(),
        row.previousTier(),
        row.previousStatus(),
        row.stripeEventId(),
        row.occurredAtMs(),
        stored.counters(),
        row.usageMetric());
  }
}
