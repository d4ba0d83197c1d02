package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.domain.customer.CustomerStore;
import dev.billing.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rehearsed groups inside {@link Transactions#rehearsing} share one transaction: a group sees what
 * the groups rehearsed before it wrote (as real groups see committed rows), a failing group's
 * writes are undone alone, and nothing is left once the body returns.
 */
class RehearsalTest {
  private static TestServer server;
  private static Transactions tx;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Links the user to a customer; reports the user's customer before. */
  private static Transactions.GroupWork<String, String> link() {
    return GroupWorks.each(
        (uow, user) -> {
          CustomerStore customers = uow.store(CustomerStore.class);
          String before = customers.findCustomerByUser(user);
          customers.insertIfAbsent(user, "cus_" + user);
          return before;
        });
  }

  @Test
  void laterRehearsalsSeeEarlierOnesAndNothingIsKept() {
    List<String> seen = new ArrayList<>();
    tx.rehearsing(
        () -> {
          tx.rehearseGroup(List.of("rehearsed_1"), false, link());
          // The second group finds the row the first one wrote.
          tx.rehearseGroup(
              List.of("rehearsed_1"),
              false,
              GroupWorks.each(
                  (uow, user) -> {
                    seen.add(uow.store(CustomerStore.class).findCustomerByUser(user));
                    return null;
                  }));
          // Another connection does not: nothing is committed.
          assertThat(server.queryLong("SELECT COUNT(*) FROM customers")).isZero();
        });
    assertThat(seen).containsExactly("cus_rehearsed_1");
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers")).isZero();
    // Without the scope, each rehearsal is rolled back at once.
    tx.rehearseGroup(List.of("rehearsed_2"), false, link());
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers")).isZero();
  }

  @Test
  void aFailingItemIsUndoneAloneAndTheScopeGoesOn() {
    List<String> seen = new ArrayList<>();
    tx.rehearsing(
        () -> {
          // The group's first path fails at undone_1 (kept_2 written before it): the group is
          // redone one item at a time, and only undone_1 is rolled back.
          tx.rehearseGroup(
              List.of("kept_2", "undone_1"),
              true,
              GroupWorks.each(
                  (uow, user) -> {
                    uow.store(CustomerStore.class).insertIfAbsent(user, "cus_" + user);
                    if (user.startsWith("undone")) {
                      throw new IllegalStateException("fails after writing");
                    }
                    return null;
                  }));
          tx.rehearseGroup(
              List.of("kept_2", "undone_1"),
              false,
              GroupWorks.each(
                  (uow, user) -> {
                    seen.add(user + "=" + uow.store(CustomerStore.class).findCustomerByUser(user));
                    return null;
                  }));
        });
    assertThat(seen).containsExactly("kept_2=cus_kept_2", "undone_1=null");
    assertThat(server.queryLong("SELECT COUNT(*) FROM customers")).isZero();
  }
}
