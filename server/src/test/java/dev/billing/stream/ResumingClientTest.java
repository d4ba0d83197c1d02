package dev.billing.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.audit.Cause;
import dev.billing.client.BillingClient;
import dev.billing.client.ChangeListener;
import dev.billing.client.ChangeSubscription;
import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** BillingClient.subscribe gives exactly-once, in-order delivery across a server restart. */
class ResumingClientTest {
  @Test
  void theClientReconnectsAfterARestartAndResumesWithoutGapsOrDuplicates() throws Exception {
    DatabaseConfig db = TestDatabase.fresh();
    int grpcPort;
    try (ServerSocket s = new ServerSocket(0)) {
      grpcPort = s.getLocalPort();
    }
    Map<String, String> ports = Map.of("BILLING_GRPC_PORT", Integer.toString(grpcPort));
    List<Long> seqs = new CopyOnWriteArrayList<>();
    AtomicInteger reconnects = new AtomicInteger();
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
              new ChangeListener() {
                @Override
                public void onChange(SubscriptionChange change) {
                  seqs.add(change.getSeq());
                }

                @Override
                public void onReconnecting(Status cause, long afterSeq, Duration delay) {
                  reconnects.incrementAndGet();
                }
              },
              Duration.ofMillis(50),
              Duration.ofMillis(500));
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
        assertThat(reconnects.get()).isPositive();
        subscription.close();
      } finally {
        second.close();
      }
    }
  }
}
