package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A subscriber that stops reading neither slows the others nor grows server memory: its buffer is
 * bounded, then its stream is closed with RESOURCE_EXHAUSTED and it resumes from its cursor.
 */
class StreamFlowControlTest {
  private static TestServer server;
  private static ManagedChannel channel;

  /** A small HTTP/2 window (no auto-tuning), so a client that stops reading pushes back quickly. */
  private static ManagedChannel smallWindow;

  @BeforeAll
  static void start() {
    server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of("BILLING_STREAM_BUFFER", "16", "BILLING_STREAM_STALL_TIMEOUT", "2s"));
    channel = ManagedChannelBuilder.forTarget(server.grpcTarget()).usePlaintext().build();
    smallWindow =
        io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(server.grpcTarget())
            .usePlaintext()
            .flowControlWindow(16 * 1024)
            .build();
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    smallWindow.shutdownNow();
    server.close();
  }

  @Test
  void aStalledSubscriberIsCutOffWhileOthersKeepUp() throws Exception {
    long start = server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
    BillingServiceGrpc.BillingServiceStub stub =
        BillingServiceGrpc.newStub(channel).withCallCredentials(TestServer.adminCredentials());
    BillingServiceGrpc.BillingServiceStub slowStub =
        BillingServiceGrpc.newStub(smallWindow).withCallCredentials(TestServer.adminCredentials());
    // The stalled one takes one message and never asks for more.
    AtomicReference<Status> stalledEnd = new AtomicReference<>();
    AtomicReference<ClientCallStreamObserver<StreamSubscriptionChangesRequest>> stalledCall =
        new AtomicReference<>();
    List<Long> stalledGot = new CopyOnWriteArrayList<>();
    slowStub.streamSubscriptionChanges(
        StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(start).build(),
        new ClientResponseObserver<
            StreamSubscriptionChangesRequest, StreamSubscriptionChangesResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<StreamSubscriptionChangesRequest> call) {
            call.disableAutoRequestWithInitial(1);
            stalledCall.set(call);
          }

          @Override
          public void onNext(StreamSubscriptionChangesResponse value) {
            if (value.hasChange()) {
              stalledGot.add(value.getChange().getSeq());
            }
          }

          @Override
          public void onError(Throwable t) {
            stalledEnd.set(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {}
        });
    // A second stalled one, live from the start (its only message is the initial heartbeat).

    java.util.concurrent.CountDownLatch liveConnected = new java.util.concurrent.CountDownLatch(1);
    slowStub.streamSubscriptionChanges(
        StreamSubscriptionChangesRequest.getDefaultInstance(),
        new ClientResponseObserver<
            StreamSubscriptionChangesRequest, StreamSubscriptionChangesResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<StreamSubscriptionChangesRequest> call) {
            call.disableAutoRequestWithInitial(1);
          }

          @Override
          public void onNext(StreamSubscriptionChangesResponse value) {
            liveConnected.countDown();
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    assertThat(liveConnected.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    List<Long> fastGot = new CopyOnWriteArrayList<>();
    AtomicReference<Status> fastEnd = new AtomicReference<>();
    stub.streamSubscriptionChanges(
        StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(start).build(),
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(StreamSubscriptionChangesResponse value) {
            if (value.hasChange()) {
              fastGot.add(value.getChange().getSeq());
            }
          }

          @Override
          public void onError(Throwable t) {
            fastEnd.set(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {}
        });

    int changes = 1500;
    ExecutorService pool = Executors.newFixedThreadPool(6);
    List<Future<?>> writes = new java.util.ArrayList<>();
    for (int w = 0; w < 6; w++) {
      int writer = w;
      writes.add(
          pool.submit(
              () -> {
                for (int i = 0; i < changes / 6; i++) {
                  server
                      .server()
                      .credits()
                      .grant("fc-u" + writer, 1, "fc-" + i, null, Cause.api("t"));
                }
                return null;
              }));
    }
    for (Future<?> f : writes) {
      f.get();
    }
    pool.shutdown();
    // Every grant logged one change, numbered without a hole: what the reading subscriber must get.
    assertThat(server.queryLong("SELECT COUNT(*) FROM change_log WHERE seq > ?", start))
        .isEqualTo(changes);
    assertThat(server.queryLong("SELECT MAX(seq) FROM change_log")).isEqualTo(start + changes);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(fastEnd.get()).as("the reading subscriber's stream ended").isNull();
              assertThat(fastGot).hasSizeGreaterThanOrEqualTo(changes);
            });
    assertThat(fastGot).hasSize(changes).isSorted().doesNotHaveDuplicates();
    // The server dropped both stalled streams (bounded memory) and kept the fast one.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> server.metric("billing_stream_subscribers") == 1);
    // A stalled client learns why once it reads what was already sent: RESOURCE_EXHAUSTED with its
    // cursor.
    stalledCall.get().request(Integer.MAX_VALUE);
    await().atMost(Duration.ofSeconds(30)).until(() -> stalledEnd.get() != null);
    assertThat(stalledEnd.get().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(stalledEnd.get().getDescription()).contains("after_seq");
    assertThat(stalledGot).hasSizeLessThan(changes);
    // The stalled subscriber resumes from its cursor and gets the rest, without gaps.
    List<Long> rest = new CopyOnWriteArrayList<>();
    stub.streamSubscriptionChanges(
        StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(stalledGot.getLast()).build(),
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(StreamSubscriptionChangesResponse value) {
            if (value.hasChange()) {
              rest.add(value.getChange().getSeq());
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    await().atMost(Duration.ofSeconds(30)).until(() -> stalledGot.size() + rest.size() == changes);
    assertThat(rest.getFirst()).isEqualTo(stalledGot.getLast() + 1);
  }
}
