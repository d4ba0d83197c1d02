package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.domain.change.ChangeLogRow;
import dev.billing.domain.change.ChangeLogStore;
import dev.billing.domain.customer.CustomerLink;
import dev.billing.domain.customer.CustomerStore;
import dev.billing.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The writes a transaction sends with its COMMIT ({@link CommitBatch}): held-back writes and commit
 * hooks' writes land together, consecutive rows of one INSERT land as separate rows, a value
 * computed among them comes back, and a statement that fails takes the whole transaction with it.
 */
class CommitBatchTest {
  private static TestServer server;
  private static Transactions tx;

  /** What the test hook writes with the commit, set by each test. */
  private static volatile Consumer<CommitBatch> atCommit = batch -> {};

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
    tx.addCommitHook(uow -> atCommit.accept(uow.commitBatch()));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void noHook() {
    atCommit = batch -> {};
  }

  /** Holds customer links for {@code users}, as the domain holds rows it will write. */
  private static void holdLinks(UnitOfWork uow, String... users) {
    HeldWrites<CustomerLink> held =
        HeldWrites.rows(uow, CustomerStore.class, CustomerStore::insertLinkIfAbsent);
    for (String user : users) {
      held.put(user, new CustomerLink(user, "cus_" + user));
    }
  }

  private static long lastSeq() {
    return server.queryLong("SELECT last_seq FROM change_seq WHERE id = 1");
  }

  private static ChangeLogRow change(String user) {
    return new ChangeLogRow(
        0, user, "entitlement", 1, new byte[] {1, 2}, "free", "", null, 1L, null);
  }

  /** Hook writes that fail: two change-log rows for one reserved number (a duplicate key). */
  private static Consumer<CommitBatch> duplicateChange(String user) {
    return batch -> {
      ChangeLogStore log = batch.store(ChangeLogStore.class);
      log.reserve(1);
      log.append(change(user), 0);
      log.append(change(user), 0);
    };
  }

  /** A group's work that holds a customer link per user. */
  private static Transactions.GroupWork<String, String> holding() {
    return GroupWorks.each(
        (uow, user) -> {
          holdLinks(uow, user);
          return user;
        });
  }

  @Test
  void heldRowsAndTheHooksRowsCommitTogetherAndTheReadAnswers() {
    long before = lastSeq();
    LongSupplier[] last = new LongSupplier[1];
    atCommit =
        batch -> {
          last[0] = batch.insertIdOf(ChangeLogStore.class, s -> s.reserve(3));
          ChangeLogStore log = batch.store(ChangeLogStore.class);
          log.append(change("cb-a"), 2);
          log.append(change("cb-b"), 1);
          log.append(change("cb-c"), 0);
        };
    tx.execute(
        uow -> {
          holdLinks(uow, "cb-a", "cb-b", "cb-c");
          return null;
        });

    assertThat(last[0].getAsLong()).isEqualTo(before + 3).isEqualTo(lastSeq());
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM customers WHERE user_id IN ('cb-a', 'cb-b', 'cb-c')"))
        .isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      String user = List.of("cb-a", "cb-b", "cb-c").get(i);
      assertThat(server.queryLong("SELECT seq FROM change_log WHERE user_id = ?", user))
          .isEqualTo(before + 1 + i);
    }
  }

  @Test
  void aFailingStatementWithTheCommitLeavesNothing() {
    long before = lastSeq();
    atCommit = duplicateChange("cb-fail");
    assertThatThrownBy(
            () ->
                tx.execute(
                    uow -> {
                      holdLinks(uow, "cb-fail");
                      return null;
                    }))
        .matches(Transactions::isDuplicateKey);

    assertThat(lastSeq()).isEqualTo(before);
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers WHERE user_id = 'cb-fail'"))
        .isZero();
    assertThat(server.queryLong("SELECT COUNT(*) FROM change_log WHERE user_id = 'cb-fail'"))
        .isZero();
  }

  @Test
  void itsValuesAreThereOnlyOnceSentAndItTakesOnlyWrites() {
    LongSupplier[] last = new LongSupplier[1];
    Throwable[] refused = new Throwable[2];
    atCommit =
        batch -> {
          last[0] = batch.insertIdOf(ChangeLogStore.class, s -> s.reserve(1));
          assertThatThrownBy(last[0]::getAsLong).isInstanceOf(IllegalStateException.class);
          try {
            batch.store(CustomerStore.class).findLinksOfUsers(List.of("x"));
          } catch (UnsupportedOperationException e) {
            refused[0] = e;
          }
          try {
            batch.store(ChangeLogStore.class).lastCommittedSeq();
          } catch (UnsupportedOperationException e) {
            refused[1] = e;
          }
        };
    tx.execute(uow -> null);

    assertThat(last[0].getAsLong()).isEqualTo(lastSeq());
    assertThat(refused).doesNotContainNull();
    assertThatThrownBy(() -> tx.execute(UnitOfWork::commitBatch))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aRehearsalWhoseBatchFailsIsUndoneAloneAndNothingIsKept() {
    String[] seen = new String[2];
    tx.rehearsing(
        () -> {
          tx.rehearseGroup(List.of("cb-r1"), false, holding());
          atCommit = duplicateChange("cb-r2");
          try {
            assertThatThrownBy(() -> tx.rehearseGroup(List.of("cb-r2"), false, holding()))
                .matches(Transactions::isDuplicateKey);
          } finally {
            atCommit = batch -> {};
          }
          tx.rehearseGroup(
              List.of("cb-r1", "cb-r2"),
              false,
              GroupWorks.each(
                  (uow, user) -> {
                    seen[user.equals("cb-r1") ? 0 : 1] =
                        uow.store(CustomerStore.class).findCustomerByUser(user);
                    return null;
                  }));
        });
    tx.execute(uow -> null); // a later commit must not carry anything of the rehearsal with it

    assertThat(seen[0]).isEqualTo("cus_cb-r1");
    assertThat(seen[1]).isNull();
    assertThat(
            server.queryLong("SELECT COUNT(*) FROM customers WHERE user_id IN ('cb-r1', 'cb-r2')"))
        .isZero();
  }

  /** The driver must not be left believing no transaction is open (see CommitBatch). */
  @Test
  void aRehearsalOutsideASharedOneLeavesItsConnectionCleanWhenItsBatchFails() {
    long before = lastSeq();
    atCommit = duplicateChange("cb-r3");
    assertThatThrownBy(() -> tx.rehearseGroup(List.of("cb-r3"), false, holding()))
        .matches(Transactions::isDuplicateKey);
    atCommit = batch -> {};
    for (int i = 0; i < 4; i++) {
      tx.execute(uow -> null); // commits on the pool's connections, the rehearsal's among them
    }

    assertThat(lastSeq()).isEqualTo(before);
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers WHERE user_id = 'cb-r3'")).isZero();
  }

  /**
   * The packet is sent with multi-statements allowed: that is safe only while every value is bound
   * as a parameter, so no mapper may splice text into its SQL with ${...}.
   */
  @Test
  void noMapperSplicesTextIntoItsSql() throws Exception {
    Path folder =
        Path.of(CommitBatchTest.class.getResource("/dev/billing/persistence/mappers").toURI());
    List<Path> mappers;
    try (Stream<Path> files = Files.list(folder)) {
      mappers = files.toList();
    }
    List<String> splicing = new ArrayList<>();
    for (Path mapper : mappers) {
      if (Files.readString(mapper).contains("${")) {
        splicing.add(mapper.getFileName().toString());
      }
    }
    assertThat(mappers).hasSizeGreaterThan(5); // the rule looked at the mappers
    assertThat(splicing).isEmpty();
  }
}
