package dev.billing.domain.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.persistence.Transactions;
import dev.billing.testing.BatchedGroup;
import dev.billing.testing.TestDomain;
import dev.billing.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A checkout's placeholder subscription, when the group's prefetch found the subscription absent,
 * is held and inserted with the group's other writes. If another transaction stores that
 * subscription in between (one that took no lock of the user: an event naming no user), the held
 * insert must not count as done: the group is redone one event at a time, and the stored row wins.
 */
class HeldPlaceholderTest {
  private static TestServer server;
  private static Transactions tx;
  private static SubscriptionService subscriptions;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
    TestDomain domain = TestDomain.over(tx);
    subscriptions =
        new SubscriptionService(
            domain.catalog(), domain.entitlements(), domain.audit(), domain.customers());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static CheckoutCompleted checkout(String user, String subscription) {
    return new CheckoutCompleted(
        "cs_" + subscription,
        "subscription",
        "paid",
        user,
        "cus_" + user,
        subscription,
        "pro",
        null,
        2900L,
        "usd",
        null,
        null);
  }

  /**
   * Applies the checkout as a writer applies a batched group; {@code between} runs after the
   * prefetch.
   */
  private static Transactions.GroupOutcome<String> group(CheckoutCompleted c, Runnable between) {
    return tx.executeGroup(
        List.of(c),
        true,
        BatchedGroup.<CheckoutCompleted>of(
            (uow, reads) ->
                subscriptions.prefetch(
                    uow, reads, List.of(c.userId()), List.of(c.subscriptionId())),
            between,
            (uow, item) ->
                subscriptions.applyCheckout(uow, item, Cause.stripe("evt_" + item.sessionId()))));
  }

  private static long checkoutAudits(String user) {
    return server.queryLong(
        "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action = 'subscription.checkout_completed'",
        user);
  }

  @Test
  void aHeldPlaceholderIsInsertedWithTheGroup() {
    Transactions.GroupOutcome<String> done = group(checkout("held-1", "sub_held_1"), () -> {});

    assertThat(done.isolated()).isFalse();
    assertThat(
            server.queryLong(
                "SELECT state_rank FROM subscriptions WHERE stripe_subscription_id = ?",
                "sub_held_1"))
        .isEqualTo(SubscriptionRow.PLACEHOLDER_RANK);
    assertThat(checkoutAudits("held-1")).isEqualTo(1);
  }

  @Test
  void aPlaceholderWhoseSubscriptionWasStoredMeanwhileLosesAndTheGroupIsRedone() {
    Transactions.GroupOutcome<String> done =
        group(
            checkout("held-2", "sub_held_2"),
            () ->
                server.execute(
                    "INSERT INTO subscriptions (stripe_subscription_id, user_id, stripe_customer_id,"
                        + " status, price_id, plan, state_created, state_rank, last_event_id)"
                        + " VALUES ('sub_held_2', 'held-2', 'cus_held-2', 'canceled', 'price_pro',"
                        + " 'pro', 1700000000, 4, 'evt_elsewhere')"));

    assertThat(done.isolated()).isTrue();
    assertThat(done.results()).containsExactly("applied");
    assertThat(
            server.queryString(
                "SELECT CONCAT(status, ' ', last_event_id) FROM subscriptions"
                    + " WHERE stripe_subscription_id = ?",
                "sub_held_2"))
        .isEqualTo("canceled evt_elsewhere");
    // The checkout added nothing, so it recorded nothing either.
    assertThat(checkoutAudits("held-2")).isZero();
  }
}
