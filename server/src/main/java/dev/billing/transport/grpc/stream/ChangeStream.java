package dev.billing.transport.grpc.stream;

import com.google.protobuf.Timestamp;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.Heartbeat;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * One subscriber's stream. It first replays the log from its cursor (catch-up), then receives live
 * changes from the {@link ChangeFeed}. {@code position} is the highest seq already considered for
 * this stream, so a change is never sent twice and none is skipped when switching from catch-up to
 * live. Sending honours gRPC flow control: messages wait in a bounded queue until the transport is
 * ready; a subscriber that falls too far behind is closed with RESOURCE_EXHAUSTED and resumes from
 * its cursor.
 */
final class ChangeStream {
  private final ServerCallStreamObserver<StreamSubscriptionChangesResponse> out;
  private final Set<String> users;
  private final Set<ChangeKind> kinds;
  private final int bufferSize;
  private final ArrayDeque<StreamSubscriptionChangesResponse> queue = new ArrayDeque<>();
  private final Runnable onClose;
  private final Executor loop;

  private long position;
  private long lastDelivered;
  private boolean live;
  private boolean closed;
  private long lastSendNanos = System.nanoTime();

  ChangeStream(
      ServerCallStreamObserver<StreamSubscriptionChangesResponse> out,
      Set<String> users,
      Set<ChangeKind> kinds,
      int bufferSize,
      long position,
      Executor loop,
      Runnable onClose) {
    this.out = out;
    this.users = Set.copyOf(users);
    this.kinds = Set.copyOf(kinds);
    this.bufferSize = bufferSize;
    this.position = position;
    this.lastDelivered = position;
    this.onClose = onClose;
    this.loop = loop;
  }

  /** The transport's event loop that serves this stream's call, or null. */
  Executor loop() {
    return loop;
  }

  synchronized long position() {
    return position;
  }

  /** A change the stream never sends (see ChangeKind.streamed) was considered during catch-up. */
  synchronized void passed(long seq) {
    position = Math.max(position, seq);
  }

  synchronized boolean isClosed() {
    return closed;
  }

  synchronized void markLive() {
    live = true;
  }

  /**
   * A page of changes from the live feed, in order, with their messages (built once by the feed for
   * every stream); ignored while catching up, and each change already considered skipped. The page
   * is queued whole and sent while the transport takes it. It arrives in one task of the stream's
   * event loop, and the transport flushes only after that task: a page larger than the transport's
   * ready threshold (32 KiB of messages) waits in the queue even for a subscriber that reads. So
   * the subscriber is too slow when more than {@code bufferSize} messages still wait as the next
   * page comes, and a stream holds at most {@code bufferSize} plus one page.
   */
  synchronized void offerLive(
      List<SubscriptionChange> changes, List<StreamSubscriptionChangesResponse> messages) {
    if (!live || closed) {
      return;
    }
    if (queue.size() > bufferSize) {
      close(tooSlow());
      return;
    }
    for (int i = 0; i < changes.size(); i++) {
      SubscriptionChange change = changes.get(i);
      if (change.getSeq() > position) {
        consider(change, messages.get(i));
      }
    }
    drain();
  }

  /**
   * A change read during catch-up. Blocks (the catch-up thread only) while the queue is half full;
   * a subscriber that does not drain it within {@code stallTimeoutNanos} is cut off like a slow
   * live subscriber.
   */
  synchronized void offerReplay(SubscriptionChange change, long stallTimeoutNanos)
      throws InterruptedException {
    long deadline = System.nanoTime() + stallTimeoutNanos;
    while (!closed && queue.size() >= Math.max(1, bufferSize / 2)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        close(tooSlow());
        return;
      }
      java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    if (closed || change.getSeq() <= position) {
      return;
    }
    consider(change, StreamSubscriptionChangesResponse.newBuilder().setChange(change).build());
    if (queue.size() > bufferSize) {
      close(tooSlow());
      return;
    }
    drain();
  }

  /** Moves the stream past {@code change}, queueing its message if the subscriber wants it. */
  private void consider(SubscriptionChange change, StreamSubscriptionChangesResponse message) {
    position = change.getSeq();
    if (matches(change)) {
      queue.add(message);
    }
  }

  private Status tooSlow() {
    return Status.RESOURCE_EXHAUSTED.withDescription(
        "subscriber too slow: more than "
            + bufferSize
            + " changes waiting; reconnect with after_seq set to the last seq you processed"
            + " (last sent: "
            + lastDelivered
            + ")");
  }

  private boolean matches(SubscriptionChange change) {
    return (users.isEmpty() || users.contains(change.getUserId()))
        && (kinds.isEmpty() || kinds.contains(change.getKind()));
  }

  /** Sends what the transport will take now; called on new messages and when it becomes ready. */
  synchronized void drain() {
    while (!closed && !queue.isEmpty() && out.isReady()) {
      StreamSubscriptionChangesResponse next = queue.poll();
      out.onNext(next);
      lastSendNanos = System.nanoTime();
      if (next.hasChange()) {
        lastDelivered = next.getChange().getSeq();
      }
    }
    notifyAll();
  }

  /** Sends a heartbeat if nothing was sent for {@code idleNanos}. */
  synchronized void heartbeatIfIdle(long idleNanos) {
    if (closed || !live || !queue.isEmpty() || System.nanoTime() - lastSendNanos < idleNanos) {
      return;
    }
    Instant now = Instant.now();
    queue.add(
        StreamSubscriptionChangesResponse.newBuilder()
            .setHeartbeat(
                Heartbeat.newBuilder()
                    .setLastSeq(position)
                    .setServerTime(
                        Timestamp.newBuilder()
                            .setSeconds(now.getEpochSecond())
                            .setNanos(now.getNano())))
            .build());
    drain();
  }

  /** Ends the stream with an error status (the client resumes from its cursor). */
  synchronized void close(Status status) {
    if (closed) {
      return;
    }
    closed = true;
    queue.clear();
    notifyAll();
    try {
      out.onError(status.asRuntimeException());
    } catch (RuntimeException ignored) {
      // The call may already be cancelled by the client.
    }
    onClose.run();
  }

  /** The client went away. */
  synchronized void cancelled() {
    closed = true;
    queue.clear();
    notifyAll();
    onClose.run();
  }
}
