package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.domain.audit.Cause;
import dev.billing.domain.entitlement.Change;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.testing.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The change stream has no gaps and no duplicates, in order, across reconnects. AUTO_INCREMENT
 * order is not commit order: the first test shows the exact interleaving that makes a naive tailer
 * skip a row, and that the same interleaving cannot happen with our sequence.
 */
class GapFreeStreamTest {
  private static TestServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    channel = server.channel();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /**
   * Every committed seq after {@code start}, exactly once, in order. Returns what is wrong, or
   * null.
   */
  static String exactlyOnceInOrder(List<Long> received, List<Long> committed) {
    for (int i = 1; i < received.size(); i++) {
      if (received.get(i) <= received.get(i - 1)) {
        return "out of order or duplicate at "
            + i
            + ": "
            + received.get(i - 1)
            + " then "
            + received.get(i);
      }
    }
    List<Long> missing = new ArrayList<>(committed);
    missing.removeAll(received);
    if (!missing.isEmpty()) {
      return "missing " + missing.size() + " changes, first " + missing.getFirst();
    }
    return received.size() == committed.size()
        ? null
        : "received " + received.size() + " of " + committed.size();
  }

  private Connection connection() throws Exception {
    Connection c = server.server().database().dataSource().getConnection();
    c.setAutoCommit(false);
    return c;
  }

  @Test
  void aNaiveAutoIncrementTailerSkipsALateCommitAndOurSequenceCannot() throws Exception {
    // The naive design: ids from AUTO_INCREMENT, a tailer that reads id > last.
    try (Connection ddl = server.server().database().dataSource().getConnection();
        Statement s = ddl.createStatement()) {
      s.execute(
          "CREATE TABLE naive_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB");
    }
    List<Long> naiveSeen = new ArrayList<>();
    try (Connection slow = connection();
        Connection fast = connection();
        Connection reader = connection()) {
      slow.createStatement()
          .executeUpdate("INSERT INTO naive_log (v) VALUES (1)"); // gets id 1, commits late
      fast.createStatement().executeUpdate("INSERT INTO naive_log (v) VALUES (2)"); // gets id 2
      fast.commit();
      naiveSeen.addAll(
          readIds(reader, "SELECT id FROM naive_log WHERE id > 0 ORDER BY id")); // sees 2
      long cursor = naiveSeen.getLast();
      slow.commit();
      naiveSeen.addAll(
          readIds(reader, "SELECT id FROM naive_log WHERE id > " + cursor + " ORDER BY id"));
      List<Long> committed = readIds(reader, "SELECT id FROM naive_log ORDER BY id");
      assertThat(exactlyOnceInOrder(naiveSeen, committed))
          .as("the checker catches the naive tailer")
          .contains("missing");
    }

    // Ours: a writer that has reserved its seq holds the sequence row until it commits, so a later
    // writer cannot get (and commit) a higher seq first.
    long before = server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
    try (Connection slow = connection()) {
      try (Statement s = slow.createStatement()) {
        s.executeUpdate(
            "UPDATE change_seq SET last_seq = LAST_INSERT_ID(last_seq + 1) WHERE id = 1");
        ResultSet rs = s.executeQuery("SELECT LAST_INSERT_ID()");
        rs.next();
        long seq = rs.getLong(1);
        s.executeUpdate(
            "INSERT INTO change_log (seq, user_id, kind, version, entitlement, previous_tier, previous_status,"
                + " occurred_at_ms) VALUES ("
                + seq
                + ", 'gap-slow', 'CHANGE_KIND_CREDITS_CHANGED', 1, '', 'free',"
                + " 'none', 0)");
      }
      CompletableFuture<?> fast =
          CompletableFuture.runAsync(
              () -> server.server().credits().grant("gap-fast", 1, "k", null, Cause.api("t")));
      // The faster writer cannot commit while the slow one holds the sequence: nothing after
      // `before` is visible.
      try {
        fast.get(500, TimeUnit.MILLISECONDS);
        throw new AssertionError("a later writer committed ahead of an earlier seq");
      } catch (TimeoutException expected) {
        // blocked on the sequence row, as designed
      }
      try (Connection reader = connection()) {
        assertThat(readIds(reader, "SELECT seq FROM change_log WHERE seq > " + before)).isEmpty();
      }
      slow.commit();
      fast.get(10, TimeUnit.SECONDS);
    }
    try (Connection reader = connection()) {
      assertThat(
              readIds(reader, "SELECT seq FROM change_log WHERE seq > " + before + " ORDER BY seq"))
          .containsExactly(before + 1, before + 2);
    }
  }

  /**
   * MariaDB's read view can show a change without one numbered below it that committed first (its
   * copy of the running transactions is a lock-free walk a commit can overtake). This builds the
   * state such a view shows: seq N+1 committed and visible, seq N reserved and written but not yet
   * committed. The feed's read must not hand on N+1 alone (it would never hand on N): it waits for
   * the sequence row and then reads both.
   */
  @Test
  void aReadThatSeesALaterChangeBeforeAnEarlierOneWaitsForTheEarlierOne() throws Exception {
    long before = server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
    long holesBefore = server.server().feed().holesSettled();
    try (Connection slow = connection();
        Connection other = server.server().database().dataSource().getConnection()) {
      try (Statement s = slow.createStatement()) {
        s.executeUpdate(
            "UPDATE change_seq SET last_seq = LAST_INSERT_ID(last_seq + 1) WHERE id = 1");
        s.executeUpdate(changeRow(before + 1, "hole-earlier"));
      }
      other.setAutoCommit(true);
      try (Statement s = other.createStatement()) {
        s.executeUpdate(changeRow(before + 2, "hole-later")); // what the torn view shows
      }
      try (Statement s = slow.createStatement()) {
        s.executeUpdate("UPDATE change_seq SET last_seq = last_seq + 1 WHERE id = 1");
      }

      CompletableFuture<List<Change>> read =
          CompletableFuture.supplyAsync(() -> server.server().feed().readAfter(before, 100));
      // It waits on the sequence row that the earlier writer holds.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  server.queryLong(
                          "SELECT COUNT(*) FROM information_schema.INNODB_TRX"
                              + " WHERE trx_state = 'LOCK WAIT'")
                      > 0);
      assertThat(read).isNotDone();
      slow.commit();

      assertThat(read.get(10, TimeUnit.SECONDS))
          .extracting(Change::seq)
          .containsExactly(before + 1, before + 2);
      assertThat(server.server().feed().holesSettled()).isGreaterThan(holesBefore);
    }
  }

  private static String changeRow(long seq, String userId) {
    return "INSERT INTO change_log (seq, user_id, kind, version, entitlement, previous_tier,"
        + " previous_status, occurred_at_ms) VALUES ("
        + seq
        + ", '"
        + userId
        + "', 'CHANGE_KIND_CREDITS_CHANGED', 1, '', 'free', 'none', 0)";
  }

  private static List<Long> readIds(Connection c, String sql) throws Exception {
    List<Long> ids = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    c.commit();
    return ids;
  }

  /** A subscriber that drops its stream at random points and resumes from the last seq it saw. */
  private static final class FlakySubscriber {
    final List<Long> received = new CopyOnWriteArrayList<>();
    final Random random;
    volatile long lastSeq;
    volatile int reconnects;

    FlakySubscriber(long startAfter, long seed) {
      this.lastSeq = startAfter;
      this.random = new Random(seed);
    }

    void run(AtomicBoolean writing, long target) throws Exception {
      BillingServiceGrpc.BillingServiceStub stub =
          BillingServiceGrpc.newStub(channel).withCallCredentials(TestServer.adminCredentials());
      while (lastSeq < target || writing.get()) {
        int dropAfter = 1 + random.nextInt(40);
        CountDownLatch ended = new CountDownLatch(1);
        stub.streamSubscriptionChanges(
            StreamSubscriptionChangesRequest.newBuilder().setAfterSeq(lastSeq).build(),
            new ClientResponseObserver<
                StreamSubscriptionChangesRequest, StreamSubscriptionChangesResponse>() {
              ClientCallStreamObserver<StreamSubscriptionChangesRequest> call;
              int n;

              @Override
              public void beforeStart(
                  ClientCallStreamObserver<StreamSubscriptionChangesRequest> requestStream) {
                call = requestStream;
              }

              @Override
              public void onNext(StreamSubscriptionChangesResponse value) {
                if (!value.hasChange()) {
                  return;
                }
                long seq = value.getChange().getSeq();
                received.add(seq); // a duplicate shows up as a non-increasing pair
                lastSeq = Math.max(lastSeq, seq);
                if (++n == dropAfter) {
                  call.cancel("random disconnect", null);
                }
              }

              @Override
              public void onError(Throwable t) {
                ended.countDown();
              }

              @Override
              public void onCompleted() {
                ended.countDown();
              }
            });
        if (!ended.await(200, TimeUnit.MILLISECONDS)) {
          // Caught up and idle: leave this connection open until writing is done and the target is
          // reached.
          while ((lastSeq < target || writing.get()) && !ended.await(50, TimeUnit.MILLISECONDS)) {
            // waiting for more changes or a random drop
          }
          if (ended.getCount() > 0) {
            return; // finished with the connection still open
          }
        }
        reconnects++;
      }
    }
  }

  @Test
  void concurrentWritersAndReconnectingSubscribersSeeEveryChangeExactlyOnceInOrder()
      throws Exception {
    long start = server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
    AtomicBoolean writing = new AtomicBoolean(true);
    ExecutorService writers = Executors.newFixedThreadPool(8);
    List<Future<?>> writes = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      int writer = w;
      writes.add(
          writers.submit(
              () -> {
                for (int i = 0; i < 60; i++) {
                  server
                      .server()
                      .credits()
                      .grant("gap-u" + (i % 7), 1, "w" + writer + "-" + i, null, Cause.api("t"));
                }
                return null;
              }));
    }
    List<FlakySubscriber> subscribers = new ArrayList<>();
    ExecutorService readers = Executors.newFixedThreadPool(4);
    List<Future<?>> reads = new ArrayList<>();
    long expectedEnd = start + 8 * 60;
    for (int r = 0; r < 4; r++) {
      FlakySubscriber s = new FlakySubscriber(start, r);
      subscribers.add(s);
      reads.add(
          readers.submit(
              () -> {
                s.run(writing, expectedEnd);
                return null;
              }));
    }
    for (Future<?> f : writes) {
      f.get(60, TimeUnit.SECONDS);
    }
    writing.set(false);
    writers.shutdown();
    for (Future<?> f : reads) {
      f.get(60, TimeUnit.SECONDS);
    }
    readers.shutdown();
    List<Long> committed = new ArrayList<>();
    try (Connection c = connection()) {
      committed.addAll(
          readIds(c, "SELECT seq FROM change_log WHERE seq > " + start + " ORDER BY seq"));
    }
    assertThat(committed).hasSize(8 * 60);
    for (FlakySubscriber s : subscribers) {
      assertThat(exactlyOnceInOrder(s.received, committed))
          .as("subscriber with %d reconnects", s.reconnects)
          .isNull();
      assertThat(s.reconnects).isPositive();
    }
  }
}
