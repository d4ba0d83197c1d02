package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.billing.domain.audit.Cause;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestDomain;
import dev.billing.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A local commit's changes are handed to the feed's listeners (the snapshots, the streams) by the
 * thread that committed them when nobody else is handing on, and by the feed's own thread when
 * someone is: either way without waiting for its poll, which is an hour here.
 */
class CommitHandOnTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(TestDatabase.fresh(), Map.of("BILLING_FEED_POLL_INTERVAL", "1h"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aCommitIsHandedOnBeforeTheCallReturns() {
    for (int i = 0; i < 20; i++) {
      server.server().credits().grant("hand-on", 1, "hand-on-" + i, null, Cause.api("t"));
      long seq = server.queryLong("SELECT MAX(seq) FROM change_log WHERE user_id = 'hand-on'");
      assertThat(server.server().feed().cursor()).as("grant %d", i).isGreaterThanOrEqualTo(seq);
    }
  }

  @Test
  void concurrentCommitsAreAllHandedOnWithoutThePoll() throws Exception {
    server.grantConcurrently(8, 400, i -> "hand-on-" + (i % 16));
    long last = server.queryLong("SELECT MAX(seq) FROM change_log");
    await().atMost(Duration.ofSeconds(10)).until(() -> server.server().feed().cursor() == last);
  }

  @Test
  void aRehearsedChangeIsNeverHandedOn() {
    List<Change> heard = new CopyOnWriteArrayList<>();
    server.server().feed().addListener(heard::addAll);
    long next = server.server().feed().cursor() + 1;
    EntitlementRow row = TestDomain.freeRow("rehearsed", 1, 0);
    // The warm-up's changes, rolled back: their numbers are the next real commits'.
    server
        .server()
        .feed()
        .rehearse(
            List.of(
                TestDomain.creditsChange(next, row, Map.of()),
                TestDomain.creditsChange(next + 1, row, Map.of())));
    server.server().credits().grant("real", 1, "after-rehearsal", null, Cause.api("t"));
    // Handed on by this thread unless the feed's was handing on: then by that one, moments later.
    await().atMost(Duration.ofSeconds(10)).until(() -> server.server().feed().cursor() >= next);
    assertThat(server.server().feed().cursor()).isEqualTo(next);
    assertThat(heard).extracting(Change::seq, Change::userId).containsExactly(tuple(next, "real"));
  }
}
