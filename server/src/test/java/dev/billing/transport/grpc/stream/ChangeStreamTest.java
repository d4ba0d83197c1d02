package dev.billing.transport.grpc.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * A live page arrives in one task of the stream's event loop, and the transport flushes only after
 * it: a page larger than what the transport takes before it stops being ready is a burst, not a
 * slow subscriber.
 */
class ChangeStreamTest {
  /**
   * A transport that takes {@code perFlush} messages, then is not ready until {@link #flush} (the
   * event loop's flush after the task), which calls the stream's on-ready handler as gRPC does.
   */
  private static final class Transport
      extends ServerCallStreamObserver<StreamSubscriptionChangesResponse> {
    final int perFlush;
    final List<Long> received = new ArrayList<>();
    Status error;
    Runnable onReady = () -> {};
    int sinceFlush;

    Transport(int perFlush) {
      this.perFlush = perFlush;
    }

    void flush() {
      sinceFlush = 0;
      onReady.run();
    }

    @Override
    public boolean isReady() {
      return sinceFlush < perFlush;
    }

    @Override
    public void onNext(StreamSubscriptionChangesResponse value) {
      sinceFlush++;
      received.add(value.getChange().getSeq());
    }

    @Override
    public void onError(Throwable t) {
      error = Status.fromThrowable(t);
    }

    @Override
    public void onCompleted() {}

    @Override
    public void setOnReadyHandler(Runnable handler) {
      onReady = handler;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}
  }

  private static ChangeStream live(Transport transport, int bufferSize) {
    ChangeStream stream =
        new ChangeStream(transport, Set.of(), Set.of(), bufferSize, 0, null, () -> {});
    transport.setOnReadyHandler(stream::drain);
    stream.markLive();
    return stream;
  }

  private static void offerPage(ChangeStream stream, long first, int size) {
    List<SubscriptionChange> changes = new ArrayList<>();
    List<StreamSubscriptionChangesResponse> messages = new ArrayList<>();
    for (long seq = first; seq < first + size; seq++) {
      SubscriptionChange change =
          SubscriptionChange.newBuilder().setSeq(seq).setUserId("u" + seq).build();
      changes.add(change);
      messages.add(StreamSubscriptionChangesResponse.newBuilder().setChange(change).build());
    }
    stream.offerLive(changes, messages);
  }

  @Test
  void aPageLargerThanTheBufferReachesASubscriberThatReads() {
    Transport transport = new Transport(50);
    ChangeStream stream = live(transport, 16);

    offerPage(stream, 1, 200); // 50 sent, 150 wait for the flush
    for (int i = 0; i < 3; i++) {
      transport.flush();
    }
    offerPage(stream, 201, 10); // queued: the transport is full again until its next flush
    transport.flush();

    assertThat(transport.error).isNull();
    assertThat(stream.isClosed()).isFalse();
    assertThat(transport.received)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, 210).boxed().toList());
  }

  @Test
  void aSubscriberThatDoesNotReadIsCutOffWhenTheNextPageComes() {
    Transport transport = new Transport(50);
    ChangeStream stream = live(transport, 16);

    offerPage(stream, 1, 200); // never flushed: 150 still waiting
    assertThat(stream.isClosed()).isFalse();
    offerPage(stream, 201, 1);

    assertThat(stream.isClosed()).isTrue();
    assertThat(transport.error.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(transport.error.getDescription()).contains("after_seq").contains("last sent: 50");
    assertThat(transport.received).hasSize(50);
  }

  @Test
  void changesAlreadyConsideredAreNotSentAgain() {
    Transport transport = new Transport(1000);
    ChangeStream stream = live(transport, 16);

    offerPage(stream, 1, 5);
    offerPage(stream, 3, 5); // 3-5 again, then 6-7

    assertThat(transport.received).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
  }
}
