package dev.billing.stream;

import dev.billing.db.Transactions;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("change-log-pruner").unstarted(r));

  public ChangeLogPruner(Transactions tx, Duration retention, Clock clock) {
    this.tx = tx;
    this.retention = retention;
    this.clock = clock;
  }

  public void start(Duration every) {
    long ms = Math.max(100, every.toMillis());
    executor.scheduleWithFixedDelay(
        () -> {
          try {
            pruneOnce();
          } catch (RuntimeException e) {
            log.warn("change_log pruning failed: {}", e.getMessage());
          }
        },
        ms,
        ms,
        TimeUnit.MILLISECONDS);
  }

  /** Prunes everything older than the retention; returns the rows deleted. */
  public int pruneOnce() {
    long cutoff = clock.millis() - retention.toMillis();
    int total = 0;
    while (true) {
      int deleted =
          tx.execute(
              uow -> {
                ChangeLogMapper m = uow.mapper(ChangeLogMapper.class);
                long from = m.prunedThrough();
                Long through = m.lastSeqOlderThan(from, cutoff, BATCH);
                if (through == null) {
                  return 0;
                }
                int n = m.deleteThrough(through);
                m.setPrunedThrough(through);
                return Math.max(n, 1);
              });
      if (deleted == 0) {
        return total;
      }
      total += deleted;
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
