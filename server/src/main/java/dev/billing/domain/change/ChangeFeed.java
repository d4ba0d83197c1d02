package dev.billing.domain.change;

import dev.billing.config.BillingConfig.StreamConfig;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails change_log and fans each committed change out to the open streams and to the entitlement
 * cache. One reader per replica: a local commit wakes it at once (push, sub-millisecond), and a
 * poll every {@code pollInterval} picks up changes committed by other replicas. change_log is the
 * bus.
 */
public final class ChangeFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);
  static final int PAGE_SIZE = 500;

  private final Transactions tx;
  private final StreamConfig config;
  private final Consumer<SubscriptionChange> observer;
  private final Object lock = new Object();
  private final Set<ChangeStream> streams = ConcurrentHashMap.newKeySet();
  private final Semaphore wake = new Semaphore(0);
  private final ExecutorService catchUp = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * Hands a page of changes to the streams from several threads when there are many streams (each
   * stream stays on one thread, so its order holds); the feed waits for all before it goes on.
   */
  private static final int STREAMS_PER_SLICE = 128;

  private final int fanOutThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
  private final ExecutorService fanOut =
      Executors.newFixedThreadPool(
          fanOutThreads, r -> Thread.ofPlatform().daemon().name("change-fan-out").unstarted(r));
  private final ScheduledExecutorService heartbeats =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("stream-heartbeat").unstarted(r));

  private long cursor; // guarded by lock: every change <= cursor has been dispatched
  private volatile boolean running;
  private Thread tailer;

  /**
   * @param observer sees every change once, in order, before the streams do (the entitlement cache)
   */
  public ChangeFeed(
      Transactions tx,
      StreamConfig config,
      Consumer<SubscriptionChange> observer,
      MeterRegistry meters) {
    this.tx = tx;
    this.config = config;
    this.observer = observer;
    meters.gaugeCollectionSize("billing_stream_subscribers", List.of(), streams);
  }

  public void start() {
    synchronized (lock) {
      cursor = tx.read(s -> s.getMapper(ChangeLogMapper.class).lastCommittedSeq());
    }
    running = true;
    tailer = Thread.ofPlatform().daemon().name("change-feed").start(this::run);
    long hb = config.heartbeatInterval().toMillis();
    heartbeats.scheduleWithFixedDelay(
        this::heartbeat, hb, Math.max(1, hb / 4), TimeUnit.MILLISECONDS);
  }

  /** Called after a local commit so subscribers hear about it now rather than at the next poll. */
  public void wakeUp() {
    wake.release();
  }

  /** The highest seq dispatched so far. */
  public long cursor() {
    synchronized (lock) {
      return cursor;
    }
  }

  private void run() {
    long pollMillis = Math.max(1, config.pollInterval().toMillis());
    int failures = 0;
    while (running) {
      try {
        wake.tryAcquire(pollMillis, TimeUnit.MILLISECONDS);
        wake.drainPermits();
        pollOnce();
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

  /** Reads and dispatches everything committed after the cursor. */
  void pollOnce() {
    while (running) {
      long from = cursor();
      List<ChangeLogRow> rows = readAfter(from, PAGE_SIZE);
      if (rows.isEmpty()) {
        return;
      }
      List<SubscriptionChange> changes = new ArrayList<>(rows.size());
      List<StreamSubscriptionChangesResponse> messages = new ArrayList<>(rows.size());
      for (ChangeLogRow row : rows) {
        SubscriptionChange change = ChangeLog.toProto(row);
        changes.add(change);
        messages.add(StreamSubscriptionChangesResponse.newBuilder().setChange(change).build());
      }
      ChangeStream[] targets;
      synchronized (lock) {
        cursor = rows.getLast().seq();
        targets = streams.toArray(ChangeStream[]::new);
      }
      for (SubscriptionChange c : changes) {
        observer.accept(c);
      }
      fanOut(targets, changes, messages);
      if (rows.size() < PAGE_SIZE) {
        return;
      }
    }
  }

  private void fanOut(
      ChangeStream[] targets,
      List<SubscriptionChange> changes,
      List<StreamSubscriptionChangesResponse> messages) {
    int slices = Math.min(fanOutThreads, Math.max(1, targets.length / STREAMS_PER_SLICE));
    if (slices == 1) {
      offer(targets, 0, targets.length, changes, messages);
      return;
    }
    List<Future<?>> others = new ArrayList<>(slices - 1);
    int per = (targets.length + slices - 1) / slices;
    for (int from = per; from < targets.length; from += per) {
      int start = from;
      int end = Math.min(targets.length, from + per);
      others.add(fanOut.submit(() -> offer(targets, start, end, changes, messages)));
    }
    offer(targets, 0, per, changes, messages); // the first slice on this thread
    for (Future<?> f : others) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        log.error("fan-out to a slice of streams failed", e.getCause());
      }
    }
  }

  private static void offer(
      ChangeStream[] targets,
      int from,
      int to,
      List<SubscriptionChange> changes,
      List<StreamSubscriptionChangesResponse> messages) {
    for (int t = from; t < to; t++) {
      for (int i = 0; i < changes.size(); i++) {
        targets[t].offerLive(changes.get(i), messages.get(i));
      }
    }
  }

  private List<ChangeLogRow> readAfter(long afterSeq, int limit) {
    return tx.read(s -> s.getMapper(ChangeLogMapper.class).readAfter(afterSeq, limit));
  }

  /**
   * Opens a stream. With {@code afterSeq} it replays the log after it, then goes live; without, it
   * starts at the current end of the log.
   */
  public void subscribe(
      Long afterSeq,
      Set<String> users,
      Set<ChangeKind> kinds,
      ServerCallStreamObserver<StreamSubscriptionChangesResponse> out) {
    if (!running) {
      throw new BillingException.Unavailable("SHUTTING_DOWN", "server is shutting down", null);
    }
    if (afterSeq != null) {
      long[] bounds =
          tx.read(
              sess -> {
                ChangeLogMapper m = sess.getMapper(ChangeLogMapper.class);
                return new long[] {m.lastCommittedSeq(), m.prunedThrough()};
              });
      if (afterSeq > bounds[0]) {
        out.onError(
            Status.OUT_OF_RANGE
                .withDescription(
                    "after_seq " + afterSeq + " is beyond the end of the log (" + bounds[0] + ")")
                .asRuntimeException());
        return;
      }
      if (afterSeq < bounds[1]) {
        out.onError(pruned(afterSeq, bounds[1]).asRuntimeException());
        return;
      }
    }
    ChangeStream[] holder = new ChangeStream[1];
    ChangeStream stream;
    synchronized (lock) {
      long start = afterSeq != null ? afterSeq : cursor;
      stream =
          new ChangeStream(
              out, users, kinds, config.bufferSize(), start, () -> streams.remove(holder[0]));
      holder[0] = stream;
      streams.add(stream);
      if (afterSeq == null) {
        stream.markLive();
      }
    }
    out.setOnReadyHandler(stream::drain);
    out.setOnCancelHandler(stream::cancelled);
    if (afterSeq != null) {
      catchUp.execute(() -> replay(stream));
    } else {
      // Tell the client where it starts, so it has a cursor before the first change.
      stream.heartbeatIfIdle(0);
    }
  }

  private void replay(ChangeStream stream) {
    try {
      while (!stream.isClosed()) {
        long from = stream.position();
        List<ChangeLogRow> rows = readAfter(from, PAGE_SIZE);
        long prunedThrough = tx.read(s -> s.getMapper(ChangeLogMapper.class).prunedThrough());
        if (prunedThrough > from) {
          stream.close(pruned(from, prunedThrough));
          return;
        }
        for (ChangeLogRow row : rows) {
          stream.offerReplay(ChangeLog.toProto(row), config.stallTimeout().toNanos());
        }
        if (rows.size() < PAGE_SIZE) {
          synchronized (lock) {
            if (stream.position() >= cursor) {
              stream.markLive();
              return;
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stream.close(
          Status.UNAVAILABLE.withDescription("server is shutting down; resume from your cursor"));
    } catch (RuntimeException e) {
      log.warn("stream catch-up failed: {}", e.getMessage());
      stream.close(
          Status.UNAVAILABLE.withDescription(
              "could not read the change log; resume from your cursor"));
    }
  }

  private static Status pruned(long afterSeq, long prunedThrough) {
    return Status.OUT_OF_RANGE.withDescription(
        "changes up to seq "
            + prunedThrough
            + " were pruned by retention; after_seq "
            + afterSeq
            + " cannot be resumed: resynchronise (GetEntitlement) and subscribe without after_seq");
  }

  private void heartbeat() {
    long idle = config.heartbeatInterval().toNanos();
    for (ChangeStream s : streams) {
      try {
        s.heartbeatIfIdle(idle);
      } catch (RuntimeException e) {
        log.debug("heartbeat failed: {}", e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    running = false;
    heartbeats.shutdownNow();
    if (tailer != null) {
      tailer.interrupt();
    }
    for (ChangeStream s : List.copyOf(streams)) {
      s.close(
          Status.UNAVAILABLE.withDescription("server is shutting down; resume from your cursor"));
    }
    catchUp.shutdownNow();
    fanOut.shutdownNow();
  }
}
