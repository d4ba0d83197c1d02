package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.domain.entitlement.EntitlementStore;
import dev.billing.domain.entitlement.LockedUser;
import dev.billing.domain.payment.PaymentRow;
import dev.billing.domain.payment.PaymentStore;
import dev.billing.domain.subscription.SubscriptionRow;
import dev.billing.domain.subscription.SubscriptionStore;
import dev.billing.testing.TestServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A group's locking reads lock the rows they name and touch no others, on tables as small as a new
 * service's, where the optimizer, left to itself, scans a table for an OR of IN lists (EXPLAIN on
 * MariaDB 10.11 with three rows: "ALL"), and a locking scan waits for every row another transaction
 * holds: the group's lock goes through while another transaction holds a row it did not name, and a
 * row it named waits for the group. Their lists go in as IN lists ({@link InListTypeHandler}), an
 * empty one matching nothing, and such a statement refuses to run outside a packet.
 */
class GroupLockScopeTest {
  private static TestServer server;
  private static Transactions tx;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
    for (String s : List.of("a", "b", "c")) {
      server.execute(
          "INSERT INTO subscriptions (stripe_subscription_id, user_id, status, plan, state_created)"
              + " VALUES (?, ?, 'active', 'pro', 1)",
          "sub-ls-" + s,
          "ls-" + s);
      server.execute(
          "INSERT INTO payments (id, user_id, kind, status, amount, currency,"
              + " checkout_session_id, payment_intent_id, charge_id)"
              + " VALUES (?, ?, 'credits', 'pending', 100, 'usd', ?, ?, ?)",
          "pay-ls-" + s,
          "ls-" + s,
          "cs-ls-" + s,
          "pi-ls-" + s,
          "ch-ls-" + s);
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void theSubscriptionsLockHoldsTheRowsItNamesOnly() throws SQLException {
    List<String> locked =
        whileHolding(
            "subscriptions",
            "stripe_subscription_id",
            "sub-ls-b",
            () ->
                tx.execute(
                    uow -> {
                      ReadBatch reads = uow.reads();
                      Supplier<List<SubscriptionRow>> rows =
                          reads.rows(
                              SubscriptionStore.class,
                              s -> s.lockByUsersOrIds(List.of("ls-a"), List.of("sub-ls-c")));
                      reads.send();
                      assertThat(
                              server.tryUpdate(
                                  "subscriptions", "stripe_subscription_id", "sub-ls-a"))
                          .isFalse();
                      assertThat(
                              server.tryUpdate(
                                  "subscriptions", "stripe_subscription_id", "sub-ls-c"))
                          .isFalse();
                      return rows.get().stream()
                          .map(SubscriptionRow::stripeSubscriptionId)
                          .toList();
                    }));
    assertThat(locked).containsExactlyInAnyOrder("sub-ls-a", "sub-ls-c");
  }

  @Test
  void thePaymentsLockHoldsTheRowsItNamesOnly() throws SQLException {
    List<String> locked =
        whileHolding(
            "payments",
            "id",
            "pay-ls-b",
            () ->
                tx.execute(
                    uow -> {
                      ReadBatch reads = uow.reads();
                      Supplier<List<PaymentRow>> rows =
                          reads.rows(
                              PaymentStore.class,
                              s ->
                                  s.lockByKeys(
                                      List.of(),
                                      List.of("pi-ls-a"),
                                      List.of("cs-ls-c"),
                                      List.of()));
                      reads.send();
                      assertThat(server.tryUpdate("payments", "id", "pay-ls-a")).isFalse();
                      return rows.get().stream().map(PaymentRow::id).toList();
                    }));
    assertThat(locked).containsExactlyInAnyOrder("pay-ls-a", "pay-ls-c");
  }

  @Test
  void emptyListsMatchNothing() {
    List<Integer> found =
        tx.execute(
            uow -> {
              ReadBatch reads = uow.reads();
              Supplier<List<SubscriptionRow>> subscriptions =
                  reads.rows(
                      SubscriptionStore.class, s -> s.lockByUsersOrIds(List.of(), List.of()));
              Supplier<List<PaymentRow>> payments =
                  reads.rows(
                      PaymentStore.class,
                      s -> s.lockByKeys(List.of(), List.of(), List.of(), List.of("ch-ls-b")));
              Supplier<List<LockedUser>> users =
                  reads.rows(EntitlementStore.class, s -> s.lockAll(List.of("ls-nobody"), null));
              reads.send();
              return List.of(subscriptions.get().size(), payments.get().size(), users.get().size());
            });
    assertThat(found).containsExactly(0, 1, 0);
  }

  @Test
  void anInListStatementRefusesToRunOnItsOwn() {
    assertThatThrownBy(
            () ->
                tx.execute(
                    uow ->
                        uow.store(SubscriptionStore.class)
                            .lockByUsersOrIds(List.of("ls-a"), List.of())))
        .hasStackTraceContaining("an IN list in one placeholder is written into a packet's text");
  }

  /**
   * Runs {@code body} while a connection of its own holds the row's lock (in a transaction rolled
   * back after it); the group's statements wait for it up to the service's lock wait timeout, then
   * fail.
   */
  private static <T> T whileHolding(String table, String key, String value, Supplier<T> body)
      throws SQLException {
    try (Connection c = server.server().database().dataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.executeQuery(
                "SELECT 1 FROM " + table + " WHERE " + key + " = '" + value + "' FOR UPDATE")
            .close();
        return body.get();
      } finally {
        c.rollback();
        c.setAutoCommit(true);
      }
    }
  }
}
