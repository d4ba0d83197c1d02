package dev.billing.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BearerToken;
import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 2,000 streams opening at once, all resuming from a cursor, succeed while the database is healthy:
 * catch-up does not take a pool connection per stream (before: 522 of 2,000 opens failed
 * UNAVAILABLE with the pool exhausted).
 */
class StreamStormTest {
  private static final int STREAMS = 2_000;
  private static final int CHANGES = 10;
  private static TestServer server;

  @BeforeAll
  static void start() {
    // A small pool makes exhaustion easy to reach.
    var db = TestDatabase.fresh();
    server =
        TestServer.start(
            new dev.billing.config.BillingConfig.DatabaseConfig(
                db.url(), db.user(), db.password(), 4),
            Map.of());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void twoThousandResumingStreamsOpenAtOnceWithoutAnError() {
    for (int c = 0; c < CHANGES; c++) {
      server.server().credits().grant("storm", 1, "storm-" + c, null, Cause.api("t"));
    }
    List<Long> committed =
        server.queryLongs("SELECT seq FROM change_log WHERE user_id = 'storm' ORDER BY seq");
    assertThat(committed).hasSize(CHANGES);
    // The client's callbacks run on its transport threads, so the thread count measures the server.
    io.grpc.ManagedChannel channel =
        io.grpc.ManagedChannelBuilder.forTarget(server.grpcTarget())
            .usePlaintext()
            .directExecutor()
            .build();
    var stub =
        BillingServiceGrpc.newStub(channel)
            .withCallCredentials(new BearerToken(TestServer.ADMIN_TOKEN));
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    threads.resetPeakThreadCount();
    int before = threads.getThreadCount();
    List<List<Long>> received = new ArrayList<>();
    for (int s = 0; s < STREAMS; s++) {
      // Half resume from before the first change, half from the middle.
      long after = s % 2 == 0 ? committed.getFirst() - 1 : committed.get(CHANGES / 2 - 1);
      List<Long> seqs = new CopyOnWriteArrayList<>();
      received.add(seqs);
      stub.streamSubscriptionChanges(
          StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(after).build(),
          new StreamObserver<StreamSubscriptionChangesResponse>() {
            @Override
            public void onNext(StreamSubscriptionChangesResponse value) {
              if (value.hasChange() && value.getChange().getUserId().equals("storm")) {
                seqs.add(value.getChange().getSeq());
              }
            }

            @Override
            public void onError(Throwable t) {
              errors.add(t);
            }

            @Override
            public void onCompleted() {}
          });
    }
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                !errors.isEmpty()
                    || received.stream().allMatch(seqs -> seqs.contains(committed.getLast())));
    assertThat(errors).isEmpty();
    // No thread per stream: 2,000 streams (and their catch-up) on a bounded set of platform
    // threads (this JVM runs the client too). Before: one pool thread per opening stream.
    int peak = threads.getPeakThreadCount();
    System.out.println(
        "platform threads: " + before + " before, peak " + peak + " with " + STREAMS + " streams");
    assertThat(peak - before).isLessThan(100);
    // Calls off the hot path run on virtual threads: no platform thread per call or stream.
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().startsWith("grpc-call-") && !t.isVirtual());
    channel.shutdownNow();
    for (int s = 0; s < STREAMS; s++) {
      List<Long> expected = s % 2 == 0 ? committed : committed.subList(CHANGES / 2, CHANGES);
      assertThat(received.get(s)).as("stream %d", s).containsExactlyElementsOf(expected);
    }
  }
}
