package dev.billing.util;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A background task run on its own daemon thread every {@code interval} (after the previous run
 * ends). A run that throws is logged and the next one goes ahead; {@link #close} stops it and waits
 * briefly for a running one.
 */
public final class PeriodicTask implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PeriodicTask.class);

  private final ScheduledExecutorService executor;

  private PeriodicTask(String name, Duration interval, Runnable task) {
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name(name).unstarted(r));
    long ms = Math.max(10, interval.toMillis());
    executor.scheduleWithFixedDelay(
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
              root = root.getCause();
            }
            log.warn("{} failed: {}: {}", name, root.getClass().getSimpleName(), root.getMessage());
          }
        },
        ms,
        ms,
        TimeUnit.MILLISECONDS);
  }

  /** Starts {@code task} on a thread called {@code name}. */
  public static PeriodicTask every(Duration interval, String name, Runnable task) {
    return new PeriodicTask(name, interval, task);
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
