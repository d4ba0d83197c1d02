package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.domain.audit.Cause;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Pruned cursors, and cursors beyond the end of the log, fail with OUT_OF_RANGE instead of silently
 * skipping changes.
 */
class RetentionTest {
  @Test
  void resumingFromAPrunedCursorIsOutOfRange() {
    try (TestServer server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of(
                "BILLING_CHANGE_LOG_RETENTION", "0s", "BILLING_CHANGE_LOG_PRUNE_INTERVAL", "1h"))) {
      for (int i = 0; i < 5; i++) {
        server.server().credits().grant("ret-u", 1, "r" + i, null, Cause.api("t"));
      }
      long last = server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
      // Retention 0s prunes what is older than now: let the clock leave the last change's
      // millisecond first (on a fast machine the prune can run within it).
      long newest = server.queryLong("SELECT MAX(occurred_at_ms) FROM change_log");
      await().until(() -> System.currentTimeMillis() > newest);
      assertThat(server.server().pruner().pruneOnce()).isEqualTo(5);
      assertThat(server.queryLong("SELECT COUNT(*) FROM change_log")).isZero();
      assertThat(server.queryLong("SELECT pruned_through FROM change_log_retention"))
          .isEqualTo(last);

      ManagedChannel channel =
          ManagedChannelBuilder.forTarget(server.grpcTarget()).usePlaintext().build();
      try {
        var stub =
            BillingServiceGrpc.newBlockingStub(channel)
                .withCallCredentials(TestServer.adminCredentials())
                .withDeadlineAfter(5, TimeUnit.SECONDS);
        try {
          stub.streamSubscriptionChanges(
                  StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(last - 3).build())
              .hasNext();
          throw new AssertionError("expected OUT_OF_RANGE");
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
          assertThat(e.getStatus().getDescription()).contains("pruned");
        }
        // A cursor this log never reached (read from the log, off the transport thread).
        try {
          stub.streamSubscriptionChanges(
                  StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(last + 1000).build())
              .hasNext();
          throw new AssertionError("expected OUT_OF_RANGE");
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
          assertThat(e.getStatus().getDescription()).contains("beyond the end of the log");
        }
        // The latest cursor is still fine: nothing after it was pruned. It gets a change, not an
        // error.
        var ok =
            BillingServiceGrpc.newBlockingStub(channel)
                .withCallCredentials(TestServer.adminCredentials())
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .streamSubscriptionChanges(
                    StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(last).build());
        server.server().credits().grant("ret-u", 1, "r-after", null, Cause.api("t"));
        assertThat(ok.next().getChange().getSeq()).isEqualTo(last + 1);
      } finally {
        channel.shutdownNow();
      }
    }
  }
}
