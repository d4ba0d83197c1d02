package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BearerToken;
import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.testing.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With many open streams each page of changes is handed to every connection's event loop, which
 * sends it to its streams; every stream must still get every change once, in seq order, whether the
 * streams share one connection (one loop) or are spread over several (several loops at once).
 */
class FanOutTest {
  private static final int STREAMS = 600;
  private static final int CHANGES = 40;
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void manyStreamsEachGetEveryChangeOnceInOrder() throws Exception {
    everyStreamGetsEveryChangeOnceInOrder(List.of(server.channel()), "fan-");
  }

  @Test
  void streamsOverSeveralConnectionsEachGetEveryChangeOnceInOrder() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      channels.add(ManagedChannelBuilder.forTarget(server.grpcTarget()).usePlaintext().build());
    }
    try {
      everyStreamGetsEveryChangeOnceInOrder(List.copyOf(channels), "spread-");
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private static void everyStreamGetsEveryChangeOnceInOrder(
      List<? extends io.grpc.Channel> channels, String users) throws Exception {
    CountDownLatch connected = new CountDownLatch(STREAMS);
    List<List<Long>> received = new ArrayList<>();
    for (int s = 0; s < STREAMS; s++) {
      List<Long> seqs = new CopyOnWriteArrayList<>();
      received.add(seqs);
      BillingServiceGrpc.newStub(channels.get(s % channels.size()))
          .withCallCredentials(new BearerToken(TestServer.ADMIN_TOKEN))
          .streamSubscriptionChanges(
              StreamSubscriptionChangesRequest.getDefaultInstance(),
              new StreamObserver<StreamSubscriptionChangesResponse>() {
                @Override
                public void onNext(StreamSubscriptionChangesResponse value) {
                  if (value.hasHeartbeat()) {
                    connected.countDown();
                  } else {
                    seqs.add(value.getChange().getSeq());
                  }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
              });
    }
    assertThat(connected.await(60, TimeUnit.SECONDS)).isTrue();

    // Several writers at once, so pages of more than one change reach the streams too.
    Thread[] writers = new Thread[4];
    for (int w = 0; w < writers.length; w++) {
      int writer = w;
      writers[w] =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int c = 0; c < CHANGES / writers.length; c++) {
                      server
                          .server()
                          .credits()
                          .grant(users + writer, 1, users + writer + "-" + c, null, Cause.api("t"));
                    }
                  });
    }
    for (Thread t : writers) {
      t.join();
    }
    List<Long> committed =
        List.copyOf(
            server.queryLongs(
                "SELECT seq FROM change_log WHERE user_id LIKE '" + users + "%' ORDER BY seq"));
    assertThat(committed).hasSize(CHANGES);

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> received.stream().allMatch(seqs -> seqs.size() >= CHANGES));
    for (int s = 0; s < STREAMS; s++) {
      assertThat(received.get(s)).as("stream %d", s).containsExactlyElementsOf(committed);
    }
  }
}
