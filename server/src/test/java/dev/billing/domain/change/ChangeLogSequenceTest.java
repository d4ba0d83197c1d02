package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Concurrent writers get a dense sequence, and each user's versions follow the sequence order. */
class ChangeLogSequenceTest {
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
  void concurrentTransactionsGetDenseSequenceNumbersInCommitOrder() throws Exception {
    server.grantConcurrently(8, 200, i -> "seq_u" + (i % 10));
    long count = server.queryLong("SELECT COUNT(*) FROM change_log");
    assertThat(count).isEqualTo(200);
    assertThat(server.queryLong("SELECT MAX(seq) - MIN(seq) + 1 FROM change_log")).isEqualTo(200);
    // Per user, a higher seq always carries a higher version: the sequence follows commit order.
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM change_log a JOIN change_log b"
                    + " ON a.user_id = b.user_id AND a.seq < b.seq AND a.version >= b.version"))
        .isZero();
  }
}
