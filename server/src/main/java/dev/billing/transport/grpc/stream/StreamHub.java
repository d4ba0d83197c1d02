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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open change streams of this replica. The {@link ChangeFeed} hands it every committed change
 * once, in order; it builds each change's message once and hands it to each transport event loop,
 * which offers it to the live streams whose calls it serves (each stream filters, queues and
 * honours gRPC flow control on its own). A stream that resumes from a cursor first replays the log,
 * then goes live without a gap or a duplicate.
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

  /** The event loop of the calling transport thread, or null (an in-process transport). */
  private final Supplier<Executor> currentLoop;

  /**
   * The live streams by event loop, rebuilt under lock when {@link #membershipChanged} (a stream
   * opened or closed): a page is handed to each loop once, not to each stream.
   */
  private Group[] groups = new Group[0];

  private final AtomicBoolean membershipChanged = new AtomicBoolean();

  /**
   * The streams whose calls one event loop serves (loop null: an in-process transport, sent from
   * the thread that hands the page on).
   */
  private record Group(Executor loop, ChangeStream[] streams) {}

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
      Supplier<Executor> currentLoop,
      MeterRegistry meters) {
    this.feed = feed;
    this.config = config;
    this.toProto = toProto;
    this.currentLoop = currentLoop;
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
    Group[] targets;
    synchronized (lock) {
      cursor = page.getLast().seq();
      remember(page);
      if (membershipChanged.getAndSet(false)) {
        groups = group(streams);
      }
      targets = groups;
    }
    if (!changes.isEmpty()) {
      fanOut(targets, changes, messages);
    }
  }

  private static Group[] group(Set<ChangeStream> streams) {
    Map<Executor, List<ChangeStream>> byLoop = new HashMap<>();
    for (ChangeStream s : streams) {
      byLoop.computeIfAbsent(s.loop(), k -> new ArrayList<>()).add(s);
    }
    List<Group> groups = new ArrayList<>(byLoop.size());
    byLoop.forEach((loop, list) -> groups.add(new Group(loop, list.toArray(ChangeStream[]::new))));
    return groups.toArray(Group[]::new);
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

  /**
   * Each event loop gets one task that offers the page to all of its streams: the sends are queued
   * on the thread that writes them (no hand-off per message), and each connection is flushed once
   * per page. Pages reach a loop in order, so each stream's order holds.
   */
  private static void fanOut(
      Group[] groups,
      List<SubscriptionChange> changes,
      List<StreamSubscriptionChangesResponse> messages) {
    for (Group g : groups) {
      if (g.loop() == null) {
        offer(g.streams(), changes, messages);
        continue;
      }
      try {
        g.loop().execute(() -> offer(g.streams(), changes, messages));
      } catch (RejectedExecutionException e) {
        log.debug("transport thread stopped; its streams end with the server");
      }
    }
  }

  private static void offer(
      ChangeStream[] targets,
      List<SubscriptionChange> changes,
      List<StreamSubscriptionChangesResponse> messages) {
    for (ChangeStream target : targets) {
      try {
        target.offerLive(changes, messages);
      } catch (RuntimeException e) {
        log.warn("could not send to a change stream: {}", e.getMessage());
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
    Executor loop = currentLoop.get();
    ChangeStream[] holder = new ChangeStream[1];
    ChangeStream stream;
    synchronized (lock) {
      long start = afterSeq != null ? afterSeq : cursor;
      stream =
          new ChangeStream(
              out,
              users,
              kinds,
              config.bufferSize(),
              start,
              loop,
              () -> {
                streams.remove(holder[0]);
                membershipChanged.set(true);
              });
      holder[0] = stream;
      streams.add(stream);
      membershipChanged.set(true);
      if (afterSeq == null) {
        stream.markLive();
      }
    }
    out.setOnReadyHandler(stream::drain);
    out.setOnCancelHandler(stream::cancelled);
    if (afterSeq == null) {
      // Tell the client where it starts, so it has a cursor before the first change.
      stream.heartbeatIfIdle(0);
    } else {
      // A cursor not in memory is checked against the log's bounds there: this may be a transport
      // thread.
      catchUp.execute(() -> replay(stream, !inMemory));
    }
  }

  /** Whether the log still holds what follows {@code afterSeq}; if not, closes the stream. */
  private boolean withinLog(ChangeStream stream, long afterSeq) {
    ChangeFeed.Bounds bounds = readLog(feed::bounds);
    if (afterSeq > bounds.lastCommitted()) {
      stream.close(
          Status.OUT_OF_RANGE.withDescription(
              "after_seq "
                  + afterSeq
                  + " is beyond the end of the log ("
                  + bounds.lastCommitted()
                  + ")"));
      return false;
    }
    if (afterSeq < bounds.prunedThrough()) {
      stream.close(pruned(afterSeq, bounds.prunedThrough()));
      return false;
    }
    return true;
  }

  /** Catches a stream up from its cursor, first checking the cursor against the log if asked. */
  private void replay(ChangeStream stream, boolean checkBounds) {
    try {
      if (checkBounds && !withinLog(stream, stream.position())) {
        return;
      }
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
  }
}
