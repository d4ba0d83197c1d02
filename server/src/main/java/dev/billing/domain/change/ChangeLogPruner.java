package dev.billing.domain.change;

import dev.billing.persistence.Transactions;
import dev.billing.util.PeriodicTask;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes change_log rows older than the retention, in small batches, and raises the {@code
 * pruned_through} watermark in the same transaction, so a resume from a pruned cursor is detected
 * (OUT_OF_RANGE) rather than silently skipped. Rows are pruned in seq order only.
 */
public final class ChangeLogPruner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChangeLogPruner.class);
  private static final int BATCH = 5_000;

  private final Transactions tx;
  private final Duration retention;
  private final Clock clock;
  private PeriodicTask task;
  private final java.util.List<java.util.function.LongConsumer> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Told the highest seq pruned, after each pruning on this replica. */
  public void addListener(java.util.function.LongConsumer listener) {
    listeners.add(listener);
  }

  public ChangeLogPruner(Transactions tx, Duration retention, Clock clock) {
    this.tx = tx;
    this.retention = retention;
    this.clock = clock;
  }

  public void start(Duration every) {
    task = PeriodicTask.every(every, "change-log-pruner", this::pruneOnce);
  }

  /** Prunes everything older than the retention; returns the rows deleted. */
  public int pruneOnce() {
    long cutoff = clock.millis() - retention.toMillis();
    int total = 0;
    while (true) {
      long[] prunedThrough = {-1};
      int deleted =
          tx.execute(
              uow -> {
                ChangeLogStore m = uow.store(ChangeLogStore.class);
                long from = m.prunedThrough();
                Long through = m.lastSeqOlderThan(from, cutoff, BATCH);
                if (through == null) {
                  return 0;
                }
                int n = m.deleteThrough(through);
                m.setPrunedThrough(through);
                prunedThrough[0] = through;
                return Math.max(n, 1);
              });
      if (deleted == 0) {
        return total;
      }
      listeners.forEach(l -> l.accept(prunedThrough[0]));
      total += deleted;
    }
  }

  @Override
  public void close() {
    if (task != null) {
      task.close();
    }
  }
}
