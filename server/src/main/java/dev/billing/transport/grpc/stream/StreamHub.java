package dev.billing.transport.grpc.stream;

import dev.billing.config.BillingConfig.StreamConfig;
import dev.billing.domain.change.ChangeFeed;
import dev.billing.domain.entitlement.Change;
import dev.billing.error.BillingException;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open change streams of this replica. The {@link ChangeFeed} hands it every committed change
 * once, in order; it builds each change's message once and offers it to every live stream (each
 * stream filters, queues and honours gRPC flow control on its own). A stream that resumes from a
 * cursor first replays the log, then goes live without a gap or a duplicate.
 */
public final class StreamHub implements ChangeFeed.Listener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamHub.class);

  private final ChangeFeed feed;
  private final StreamConfig config;
  private final Function<Change, SubscriptionChange> toProto;
  private final Object lock = new Object();
  private final Set<ChangeStream> streams = ConcurrentHashMap.newKeySet();
  private final ExecutorService catchUp = Executors.newVirtualThreadPerTaskExecutor();
  private final SharedResponses responses = new SharedResponses();

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

  private long cursor; // guarded by lock: every change <= cursor has been offered to the streams

  /**
   * The latest changes the feed handed on (guarded by lock), so a stream resuming from a recent
   * cursor catches up from memory: thousands of streams reconnecting at once take no database
   * connection each.
   */
  private final java.util.ArrayDeque<Change> recent = new java.util.ArrayDeque<>();

  private static final int RECENT = 20_000;

  /**
   * The highest seq pruned, as this replica last heard (from its pruner at once, from the log every
   * 30 s): a cursor below it is refused even when memory still holds what follows it.
   */
  private volatile long prunedThrough;

  /** This replica's pruner pruned through {@code seq}. */
  public void pruned(long seq) {
    prunedThrough = Math.max(prunedThrough, seq);
  }

  /** Catch-ups older than {@link #recent} read the log; this many at a time share the pool. */
  private final java.util.concurrent.Semaphore logReads = new java.util.concurrent.Semaphore(4);

  private volatile boolean closed;

  public StreamHub(
      ChangeFeed feed,
      StreamConfig config,
      Function<Change, SubscriptionChange> toProto,
      MeterRegistry meters) {
    this.feed = feed;
    this.config = config;
    this.toProto = toProto;
    meters.gaugeCollectionSize("billing_stream_subscribers", List.of(), streams);
    long hb = config.heartbeatInterval().toMillis();
    heartbeats.scheduleWithFixedDelay(
        this::heartbeat, hb, Math.max(1, hb / 4), TimeUnit.MILLISECONDS);
    heartbeats.scheduleWithFixedDelay(
        () -> {
          try {
            pruned(feed.prunedThrough());
          } catch (RuntimeException e) {
            log.debug("could not read the pruning boundary: {}", e.getMessage());
          }
        },
        0,
        30,
        TimeUnit.SECONDS);
  }

  /**
   * The stream method's response marshaller: sends each live change's bytes, serialized once here,
   * to every stream (see {@link SharedResponses#bind}).
   */
  public SharedResponses responses() {
    return responses;
  }

  @Override
  public void onStart(long startCursor) {
    synchronized (lock) {
      cursor = startCursor;
    }
  }

  /**
   * A page of committed changes from the feed: each message built once, offered to every stream.
   */
  @Override
  public void onPage(List<Change> page) {
    if (streams.isEmpty()) {
      synchronized (lock) {
        if (streams.isEmpty()) { // nobody to build messages for; a stream opened now starts after
          cursor = page.getLast().seq();
          remember(page);
          return;
        }
      }
    }
    List<SubscriptionChange> changes = new ArrayList<>(page.size());
    List<StreamSubscriptionChangesResponse> messages = new ArrayList<>(page.size());
    for (Change c : page) {
      if (!c.kind().streamed()) {
        continue;
      }
      SubscriptionChange change = toProto.apply(c);
      changes.add(change);
      StreamSubscriptionChangesResponse message =
          StreamSubscriptionChangesResponse.newBuilder().setChange(change).build();
      responses.share(message);
      messages.add(message);
    }
    ChangeStream[] targets;
    synchronized (lock) {
      cursor = page.getLast().seq();
      remember(page);
      targets = streams.toArray(ChangeStream[]::new);
    }
    if (!changes.isEmpty()) {
      fanOut(targets, changes, messages);
    }
  }

  private void remember(List<Change> page) { // under lock
    recent.addAll(page);
    while (recent.size() > RECENT) {
      recent.pollFirst();
    }
  }

  /**
   * The changes after {@code afterSeq} (at most {@code limit}) when memory holds all of them, else
   * null (under lock).
   */
  private List<Change> recentAfter(long afterSeq, int limit) {
    if (afterSeq >= cursor) {
      return List.of();
    }
    if (recent.isEmpty() || recent.peekFirst().seq() > afterSeq + 1) {
      return null;
    }
    List<Change> after = new ArrayList<>(Math.min(limit, recent.size()));
    for (Change c : recent) {
      if (c.seq() > afterSeq) {
        after.add(c);
        if (after.size() == limit) {
          break;
        }
      }
    }
    return after;
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

  /**
   * Opens a stream. With {@code afterSeq} it replays the log after it, then goes live; without, it
   * starts at the current end of the log.
   */
  public void subscribe(
      Long afterSeq,
      Set<String> users,
      Set<ChangeKind> kinds,
      ServerCallStreamObserver<StreamSubscriptionChangesResponse> out) {
    if (closed || !feed.isRunning()) {
      throw new BillingException.Unavailable("SHUTTING_DOWN", "server is shutting down", null);
    }
    boolean inMemory;
    synchronized (lock) {
      inMemory =
          afterSeq == null
              || (afterSeq <= cursor
                  && afterSeq >= prunedThrough
                  && recentAfter(afterSeq, 1) != null);
    }
    if (!inMemory) {
      ChangeFeed.Bounds bounds = readLog(feed::bounds);
      if (afterSeq > bounds.lastCommitted()) {
        out.onError(
            Status.OUT_OF_RANGE
                .withDescription(
                    "after_seq "
                        + afterSeq
                        + " is beyond the end of the log ("
                        + bounds.lastCommitted()
                        + ")")
                .asRuntimeException());
        return;
      }
      if (afterSeq < bounds.prunedThrough()) {
        out.onError(pruned(afterSeq, bounds.prunedThrough()).asRuntimeException());
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
        List<Change> rows;
        synchronized (lock) {
          rows = recentAfter(from, ChangeFeed.PAGE_SIZE);
        }
        if (rows == null) {
          rows = readLog(() -> feed.readAfter(from, ChangeFeed.PAGE_SIZE));
          long prunedThrough = feed.prunedThrough();
          if (prunedThrough > from) {
            stream.close(pruned(from, prunedThrough));
            return;
          }
        }
        for (Change row : rows) {
          if (row.kind().streamed()) {
            stream.offerReplay(toProto.apply(row), config.stallTimeout().toNanos());
          } else {
            stream.passed(row.seq());
          }
        }
        if (rows.size() < ChangeFeed.PAGE_SIZE) {
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

  /** A read of the log, a few at a time: waiting streams queue here, not on the pool. */
  private <T> T readLog(java.util.function.Supplier<T> read) {
    try {
      logReads.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BillingException.Unavailable("SHUTTING_DOWN", "server is shutting down", e);
    }
    try {
      return read.get();
    } finally {
      logReads.release();
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
    closed = true;
    heartbeats.shutdownNow();
    for (ChangeStream s : List.copyOf(streams)) {
      s.close(
          Status.UNAVAILABLE.withDescription("server is shutting down; resume from your cursor"));
    }
    catchUp.shutdownNow();
    fanOut.shutdownNow();
  }
}
