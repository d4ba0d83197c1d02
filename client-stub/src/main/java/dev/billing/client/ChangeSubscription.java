package dev.billing.client;

import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A change stream that survives disconnects and server restarts: it reconnects with exponential
 * backoff (with jitter) and resumes after the last {@code seq} it delivered, dropping anything at
 * or below it, so the listener sees every change exactly once and in order.
 */
public final class ChangeSubscription implements AutoCloseable {
  private static final Set<Status.Code> FATAL =
      Set.of(
          Status.Code.OUT_OF_RANGE,
          Status.Code.INVALID_ARGUMENT,
          Status.Code.UNAUTHENTICATED,
          Status.Code.PERMISSION_DENIED,
          Status.Code.UNIMPLEMENTED);

  private final BillingServiceGrpc.BillingServiceStub stub;
  private final List<String> userIds;
  private final List<ChangeKind> kinds;
  private final ChangeListener listener;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration silenceTimeout;
  private volatile long lastMessageNanos = System.nanoTime();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "billing-change-subscription");
            t.setDaemon(true);
            return t;
          });

  private final Object lock = new Object();
  private long lastSeq; // guarded by lock; -1 = no position yet
  private int failures; // guarded by lock
  private boolean closed; // guarded by lock
  private ClientCallStreamObserver<StreamSubscriptionChangesRequest> call; // guarded by lock

  ChangeSubscription(
      BillingServiceGrpc.BillingServiceStub stub,
      Long afterSeq,
      List<String> userIds,
      List<ChangeKind> kinds,
      ChangeListener listener,
      Duration initialBackoff,
      Duration maxBackoff,
      Duration silenceTimeout) {
    this.stub = stub;
    this.silenceTimeout = silenceTimeout;
    this.lastSeq = afterSeq == null ? -1 : afterSeq;
    this.userIds = List.copyOf(userIds);
    this.kinds = List.copyOf(kinds);
    this.listener = listener;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
  }

  void start() {
    connect();
    // The server sends a heartbeat on idle streams: silence longer than this means a dead server or
    // a broken path, so drop the stream and resume elsewhere.
    long check = Math.max(10, silenceTimeout.toMillis() / 4);
    timer.scheduleWithFixedDelay(this::checkSilence, check, check, TimeUnit.MILLISECONDS);
  }

  private void checkSilence() {
    ClientCallStreamObserver<StreamSubscriptionChangesRequest> current;
    synchronized (lock) {
      if (closed || System.nanoTime() - lastMessageNanos < silenceTimeout.toNanos()) {
        return;
      }
      current = call;
      lastMessageNanos = System.nanoTime(); // one cancel per silence
    }
    if (current != null) {
      current.cancel("no message or heartbeat for " + silenceTimeout.toMillis() + " ms", null);
    }
  }

  /** The last position delivered (a change's seq or a heartbeat's), or -1 before the first. */
  public long lastSeq() {
    synchronized (lock) {
      return lastSeq;
    }
  }

  private void connect() {
    StreamSubscriptionChangesRequest.Builder request =
        StreamSubscriptionChangesRequest.newBuilder().addAllUserIds(userIds).addAllKinds(kinds);
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (lastSeq >= 0) {
        request.setAfterSeq(lastSeq);
      }
    }
    lastMessageNanos = System.nanoTime();
    stub.streamSubscriptionChanges(request.build(), new Observer());
  }

  private final class Observer
      implements ClientResponseObserver<
          StreamSubscriptionChangesRequest, StreamSubscriptionChangesResponse> {
    @Override
    public void beforeStart(
        ClientCallStreamObserver<StreamSubscriptionChangesRequest> requestStream) {
      synchronized (lock) {
        call = requestStream;
        if (closed) {
          requestStream.cancel("closed", null);
        }
      }
    }

    @Override
    public void onNext(StreamSubscriptionChangesResponse value) {
      lastMessageNanos = System.nanoTime();
      if (value.hasChange()) {
        SubscriptionChange change = value.getChange();
        synchronized (lock) {
          if (closed || change.getSeq() <= lastSeq) {
            return; // already delivered before a reconnect
          }
          lastSeq = change.getSeq();
          failures = 0;
        }
        listener.onChange(change);
      } else if (value.hasHeartbeat()) {
        long seq = value.getHeartbeat().getLastSeq();
        synchronized (lock) {
          if (closed || seq <= lastSeq) {
            return;
          }
          lastSeq = seq;
          failures = 0;
        }
        listener.onCursor(seq);
      }
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      long resumeAfter;
      long delayMillis;
      synchronized (lock) {
        if (closed) {
          return;
        }
        if (FATAL.contains(status.getCode())) {
          closed = true;
          timer.shutdown();
          listener.onFatal(status);
          return;
        }
        failures++;
        long ceiling =
            Math.min(
                maxBackoff.toMillis(), initialBackoff.toMillis() << Math.min(failures - 1, 20));
        delayMillis = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
        resumeAfter = lastSeq;
      }
      listener.onReconnecting(status, resumeAfter, Duration.ofMillis(delayMillis));
      timer.schedule(ChangeSubscription.this::connect, delayMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onCompleted() {
      onError(
          Status.UNAVAILABLE.withDescription("stream ended by the server").asRuntimeException());
    }
  }

  /** Stops the stream; no callback follows. */
  @Override
  public void close() {
    ClientCallStreamObserver<StreamSubscriptionChangesRequest> current;
    synchronized (lock) {
      closed = true;
      current = call;
    }
    if (current != null) {
      current.cancel("subscription closed", null);
    }
    timer.shutdownNow();
  }
}
