package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.client.ChangeListener;
import dev.billing.client.ChangeSubscription;
import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** BillingClient.subscribe gives exactly-once, in-order delivery across a server restart. */
class ResumingClientTest {
  /** Records the seqs delivered and the reasons for each reconnect. */
  private static final class Recorder implements ChangeListener {
    final List<Long> seqs = new CopyOnWriteArrayList<>();
    final List<Status> reconnects = new CopyOnWriteArrayList<>();

    @Override
    public void onChange(SubscriptionChange change) {
      seqs.add(change.getSeq());
    }

    @Override
    public void onReconnecting(Status cause, long afterSeq, Duration delay) {
      reconnects.add(cause);
    }
  }

  @Test
  void theClientReconnectsAfterARestartAndResumesWithoutGapsOrDuplicates() throws Exception {
    DatabaseConfig db = TestDatabase.fresh();
    int grpcPort;
    try (ServerSocket s = new ServerSocket(0)) {
      grpcPort = s.getLocalPort();
    }
    Map<String, String> ports = Map.of("BILLING_GRPC_PORT", Integer.toString(grpcPort));
    Recorder recorded = new Recorder();
    List<Long> seqs = recorded.seqs;
    TestServer first = TestServer.start(db, ports);
    try (BillingClient client =
        BillingClient.builder("localhost:" + grpcPort)
            .bearerToken(TestServer.ADMIN_TOKEN)
            .build()) {
      ChangeSubscription subscription =
          client.subscribe(
              null,
              List.of(),
              List.of(),
              recorded,
              Duration.ofMillis(50),
              Duration.ofMillis(500),
              Duration.ofSeconds(60));
      await().atMost(Duration.ofSeconds(10)).until(() -> subscription.lastSeq() >= 0);
      for (int i = 0; i < 3; i++) {
        first.server().credits().grant("resume-u", 1, "before-" + i, null, Cause.api("t"));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> seqs.size() == 3);
      first.close(); // the stream ends with UNAVAILABLE; the client keeps retrying

      TestServer second = TestServer.start(db, ports);
      try {
        // Changes committed while the client is still reconnecting are replayed from its cursor.
        for (int i = 0; i < 3; i++) {
          second.server().credits().grant("resume-u", 1, "after-" + i, null, Cause.api("t"));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> seqs.size() >= 6);
        second.server().credits().grant("resume-u", 1, "live", null, Cause.api("t"));
        await().atMost(Duration.ofSeconds(10)).until(() -> seqs.size() >= 7);
        List<Long> committed = List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        assertThat(seqs).isEqualTo(committed);
        assertThat(recorded.reconnects).isNotEmpty();
        subscription.close();
      } finally {
        second.close();
      }
    }
  }

  @Test
  void aSilentStreamIsDroppedAndResumed() throws Exception {
    // Heartbeats every hour: after the initial one the stream is silent, as with a dead server.
    try (TestServer server =
            TestServer.start(TestDatabase.fresh(), Map.of("BILLING_STREAM_HEARTBEAT", "1h"));
        BillingClient client =
            BillingClient.builder(server.grpcTarget())
                .bearerToken(TestServer.ADMIN_TOKEN)
                .build()) {
      Recorder recorded = new Recorder();
      List<Status> reasons = recorded.reconnects;
      List<Long> seqs = recorded.seqs;
      ChangeSubscription subscription =
          client.subscribe(
              null,
              List.of(),
              List.of(),
              recorded,
              Duration.ofMillis(20),
              Duration.ofMillis(100),
              Duration.ofMillis(400));
      await().atMost(Duration.ofSeconds(10)).until(() -> !reasons.isEmpty());
      assertThat(reasons.getFirst().getCode()).isEqualTo(Status.Code.CANCELLED);
      assertThat(reasons.getFirst().getDescription()).contains("no message");
      // Still delivering after the reconnects.
      server.server().credits().grant("silent-u", 1, "k", null, Cause.api("t"));
      await().atMost(Duration.ofSeconds(10)).until(() -> seqs.size() == 1);
      subscription.close();
    }
  }
}
