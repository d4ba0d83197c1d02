package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.domain.change.ChangeLogStore;
import dev.billing.domain.customer.CustomerLink;
import dev.billing.domain.customer.CustomerStore;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementStore;
import dev.billing.domain.entitlement.LockedUser;
import dev.billing.testing.TestServer;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.session.SqlSessionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A transaction's statements sent together ({@link ReadBatch}): each runs where it was recorded and
 * sees what the ones before it wrote, rows come back mapped by the stores' own result maps, the
 * transaction's held-back writes go first, and a statement that fails stops the batch and leaves
 * nothing behind once the transaction is rolled back, on the connection's next transaction too.
 */
class ReadBatchTest {
  private static TestServer server;
  private static SqlSessionFactory factory;
  private static Transactions tx;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    factory = server.server().database().sessionFactory();
    tx = server.transactions();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static long count(String sql, Object... args) {
    return server.queryLong(sql, args);
  }

  @Test
  @SuppressWarnings("unchecked")
  void statementsRunInOrderAndAnswerWithCountsAndMappedRows() {
    List<String> users = List.of("rb-a", "rb-b");
    tx.execute(
        uow -> {
          uow.store(EntitlementStore.class).ensureRow("rb-a"); // exists before: found, not made
          return null;
        });
    Object[] answers =
        tx.execute(
            uow -> {
              ReadBatch reads = uow.reads();
              IntSupplier added =
                  reads.count(CustomerStore.class, s -> s.insertIfAbsent("rb-a", "cus_rb-a"));
              Supplier<List<CustomerLink>> links =
                  reads.rows(CustomerStore.class, s -> s.findLinksOfUsers(users));
              reads.countAll(EntitlementStore.class, users, EntitlementStore::ensureRow);
              Supplier<List<LockedUser>> rows =
                  reads.rows(EntitlementStore.class, s -> s.lockAll(users, null));
              assertThatThrownBy(added::getAsInt).isInstanceOf(IllegalStateException.class);
              reads.send();
              return new Object[] {added.getAsInt(), links.get(), rows.get()};
            });

    assertThat(answers[0]).isEqualTo(1);
    assertThat(answers[1]).isEqualTo(List.of(new CustomerLink("rb-a", "cus_rb-a")));
    List<LockedUser> locked = (List<LockedUser>) answers[2];
    assertThat(locked.stream().map(LockedUser::row))
        .containsExactly(EntitlementRow.unknown("rb-a"), EntitlementRow.unknown("rb-b"));
    // The customer comes with the lock: the insert before it in the batch is seen.
    assertThat(locked.stream().map(LockedUser::customerId)).containsExactly("cus_rb-a", null);
    assertThat(count("SELECT COUNT(*) FROM entitlements WHERE user_id LIKE 'rb-_'")).isEqualTo(2);
  }

  @Test
  void aRefusedSelectLeavesNothingBehind() {
    List<String> statements =
        tx.execute(
            uow -> {
              ReadBatch reads = uow.reads();
              reads.rows(CustomerStore.class, s -> s.findLinksOfUsers(List.of("rb-u1")));
              assertThatThrownBy(
                      () -> reads.rows(CustomerStore.class, s -> s.insertIfAbsent("rb-x", "cus_x")))
                  .isInstanceOf(IllegalArgumentException.class);
              List<String> recorded = reads.statements();
              reads.send();
              return recorded;
            });

    assertThat(statements).hasSize(1); // the refused write left nothing behind
    assertThat(count("SELECT COUNT(*) FROM customers WHERE user_id = 'rb-x'")).isZero();
  }

  @Test
  void aSelectSeesTheWritesHeldForItsStore() {
    List<CustomerLink> seen =
        tx.execute(
            uow -> {
              HeldWrites<CustomerLink> held =
                  HeldWrites.rows(uow, CustomerStore.class, CustomerStore::insertLinkIfAbsent);
              held.put("rb-held", new CustomerLink("rb-held", "cus_rb-held"));
              ReadBatch reads = uow.reads();
              Supplier<List<CustomerLink>> links =
                  reads.rows(CustomerStore.class, s -> s.findLinksOfUsers(List.of("rb-held")));
              reads.send();
              return links.get();
            });

    assertThat(seen).containsExactly(new CustomerLink("rb-held", "cus_rb-held"));
  }

  @Test
  void itTakesOneWriteOrSelectOfRowsPerCallAndIsSentOnce() {
    tx.execute(
        uow -> {
          ReadBatch reads = uow.reads();
          assertThatThrownBy(() -> reads.count(CustomerStore.class, s -> {}))
              .isInstanceOf(IllegalArgumentException.class);
          assertThatThrownBy(
                  () -> reads.rows(CustomerStore.class, s -> s.insertIfAbsent("rb-x", "cus_x")))
              .isInstanceOf(IllegalArgumentException.class);
          assertThatThrownBy(
                  () -> reads.rows(ChangeLogStore.class, ChangeLogStore::lastCommittedSeq))
              .isInstanceOf(UnsupportedOperationException.class);
          Supplier<List<CustomerLink>> none =
              reads.rows(CustomerStore.class, s -> s.findLinksOfUsers(List.of("rb-nobody")));
          assertThat(reads.statements()).hasSize(1); // the refused calls left nothing behind
          reads.send();
          assertThat(none.get()).isEmpty();
          assertThatThrownBy(reads::send).isInstanceOf(IllegalStateException.class);
          return null;
        });
  }

  /**
   * A statement that fails (a user id too long for its column, in strict mode) stops the batch: the
   * statements after it do not run, and once the caller rolls back, the one before it is undone as
   * well, even on the connection's next transaction (the driver must know the transaction is open
   * to send the rollback at all).
   */
  @Test
  void aFailingStatementStopsTheBatchAndTheRollbackUndoesWhatRanBeforeIt() {
    String tooLong = "u".repeat(200);
    try (SqlSession session = factory.openSession(false)) {
      UnitOfWork uow = new UnitOfWork(session, factory);
      ReadBatch reads = uow.reads();
      reads.count(CustomerStore.class, s -> s.insertIfAbsent("rb-f1", "c1"));
      reads.count(EntitlementStore.class, s -> s.ensureRow(tooLong));
      IntSupplier after = reads.count(CustomerStore.class, s -> s.insertIfAbsent("rb-f2", "c2"));
      assertThatThrownBy(reads::send).hasMessageContaining("statements failed");
      assertThatThrownBy(after::getAsInt).isInstanceOf(IllegalStateException.class);
      session.rollback(true);
      session.getMapper(CustomerStore.class).insertIfAbsent("rb-f3", "c3");
      session.commit(true);
    }

    assertThat(count("SELECT COUNT(*) FROM customers WHERE user_id = 'rb-f3'")).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM customers WHERE user_id IN ('rb-f1', 'rb-f2')"))
        .isZero();
  }

  /**
   * Rows recorded one call each ({@link ReadBatch#countAll}) go as ONE multi-row INSERT where they
   * were recorded: its count is the rows it stored in all, fewer when some were there already, and
   * the statements after it see them. A call that is not a single-row INSERT is refused.
   */
  @Test
  void rowsRecordedOneCallEachGoAsOneInsertAnsweringTheirCount() {
    tx.execute(
        uow -> {
          uow.store(CustomerStore.class).insertIfAbsent("rb-m2", "cus_rb-m2"); // there before
          return null;
        });
    List<CustomerLink> rows =
        List.of(
            new CustomerLink("rb-m1", "cus_rb-m1"),
            new CustomerLink("rb-m2", "cus_rb-m2"),
            new CustomerLink("rb-m3", "cus_rb-m3"));
    Object[] answers =
        tx.execute(
            uow -> {
              ReadBatch reads = uow.reads();
              assertThatThrownBy(
                      () ->
                          reads.countAll(
                              CustomerStore.class,
                              List.of("rb-x"),
                              (s, u) -> s.findLinksOfUsers(List.of(u))))
                  .isInstanceOf(IllegalArgumentException.class);
              assertThatThrownBy( // an INSERT, then an UPDATE: refused, the INSERT not sent
                      () ->
                          reads.countAll(
                              CustomerStore.class,
                              List.of("rb-y1", "rb-y2"),
                              (s, u) -> {
                                if (u.equals("rb-y1")) {
                                  s.insertIfAbsent(u, "cus_" + u);
                                } else {
                                  s.replace(u, "cus_old", "cus_new");
                                }
                              }))
                  .isInstanceOf(IllegalArgumentException.class);
              IntSupplier stored =
                  reads.countAll(CustomerStore.class, rows, CustomerStore::insertLinkIfAbsent);
              Supplier<List<CustomerLink>> links =
                  reads.rows(
                      CustomerStore.class,
                      s -> s.findLinksOfUsers(List.of("rb-m1", "rb-m2", "rb-m3")));
              assertThat(reads.statements()).hasSize(2);
              reads.send();
              return new Object[] {stored.getAsInt(), links.get()};
            });

    assertThat(answers[0]).isEqualTo(2);
    assertThat(count("SELECT COUNT(*) FROM customers WHERE user_id = 'rb-y1'")).isZero();
    @SuppressWarnings("unchecked")
    List<CustomerLink> found = (List<CustomerLink>) answers[1];
    assertThat(found).containsExactlyInAnyOrderElementsOf(rows);
  }
}
