package dev.billing.domain.subscription;

import static dev.billing.testing.StripeFixtures.checkoutSessionObject;
import static dev.billing.testing.StripeFixtures.event;
import static dev.billing.testing.StripeFixtures.invoiceObject;
import static dev.billing.testing.StripeFixtures.subscriptionEvent;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.billing.domain.inbox.WebhookProcessor;
import dev.billing.proto.v1.Entitlement;
import dev.billing.stripe.StripeEventParser;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestServer;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stripe delivers in any order, often several events in the same second. Whatever the order, a
 * subscription's state must end where in-order delivery ends.
 */
class OrderIndependenceTest {
  private static final String V = "2026-07-29.dahlia";
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /**
   * A realistic life: created incomplete and activated in the same second, first invoice paid,
   * checkout completed, cancellation scheduled, a renewal fails (past_due, new period), then the
   * retry is paid and the user upgrades and withdraws the cancellation in the same second.
   */
  private static List<String> lifeOf(String user, int n, long t) {
    String sub = "sub_order_" + n;
    String cus = "cus_order_" + n;
    long p1 = t + 30 * 86400;
    long p2 = t + 60 * 86400;
    Sub s = Sub.of(sub, cus, user, "price_pro", "incomplete").withPeriodEnd(p1);
    String e = "evt_o" + n + "_";
    return List.of(
        subscriptionEvent(e + 1, "customer.subscription.created", t, s),
        subscriptionEvent(e + 2, "customer.subscription.updated", t, s.withStatus("active")),
        event(
            e + 3,
            "invoice.paid",
            t,
            invoiceObject("in_o" + n + "_1", sub, cus, user, 1900, true, null),
            V),
        event(
            e + 4,
            "checkout.session.completed",
            t,
            checkoutSessionObject(
                "cs_o" + n, "subscription", cus, user, sub, null, 1900, "paid", "pro"),
            V),
        subscriptionEvent(
            e + 5,
            "customer.subscription.updated",
            t + 5,
            s.withStatus("active").withCancelAtPeriodEnd(true)),
        event(
            e + 6,
            "invoice.payment_failed",
            t + 100,
            invoiceObject("in_o" + n + "_2", sub, cus, user, 1900, false, null),
            V),
        subscriptionEvent(
            e + 7,
            "customer.subscription.updated",
            t + 100,
            s.withStatus("past_due").withPeriodEnd(p2).withCancelAtPeriodEnd(true)),
        event(
            e + 8,
            "invoice.paid",
            t + 200,
            invoiceObject("in_o" + n + "_3", sub, cus, user, 1900, true, null),
            V),
        subscriptionEvent(
            e + 9,
            "customer.subscription.updated",
            t + 200,
            s.withStatus("active").withPeriodEnd(p2).withPrice("price_studio")));
  }

  private static void deliver(List<String> payloads) {
    for (String p : payloads) {
      server.server().webhooks().ingest(StripeEventParser.parse(p));
    }
  }

  /** The state that matters, without the version (which counts changes, not state). */
  private static String state(String user) {
    Entitlement e = server.server().entitlements().get(user).getEntitlement();
    return e.getTier()
        + "|"
        + e.getStatus()
        + "|"
        + e.getCurrentPeriodEnd().getSeconds()
        + "|"
        + e.getTrialEnd().getSeconds()
        + "|"
        + e.getCancelAtPeriodEnd()
        + "|"
        + e.getPaymentProblem()
        + "|"
        + e.getFeaturesList()
        + "|"
        + server.queryString(
            "SELECT CONCAT(status, '/', plan, '/', current_period_end, '/', cancel_at_period_end, '/', invoice_failed)"
                + " FROM subscriptions WHERE user_id = ?",
            user);
  }

  @Test
  void everyShuffleEndsWhereInOrderDeliveryEnds() {
    long t = Instant.now().getEpochSecond() - 1000;
    deliver(lifeOf("order-ref", 0, t));
    String expected = state("order-ref");
    assertThat(expected)
        .startsWith("studio|SUBSCRIPTION_STATUS_ACTIVE|" + (t + 60 * 86400) + "|0|false|false|");

    Random random = new Random(20261122);
    for (int n = 1; n <= 60; n++) {
      List<String> life = new ArrayList<>(lifeOf("order-" + n, n, t));
      if (n == 1) {
        Collections.reverse(life); // every "updated" before its "created"
      } else {
        Collections.shuffle(life, random);
      }
      deliver(life);
      assertThat(state("order-" + n).replace("order-" + n, "order-ref"))
          .as("shuffle %d", n)
          .isEqualTo(expected);
    }
  }

  @Test
  void concurrentDeliveriesForOneCustomerAllSucceed() throws Exception {
    long t = Instant.now().getEpochSecond() - 1000;
    List<String> life = new ArrayList<>(lifeOf("order-concurrent", 100, t));
    // A second subscription of the same customer, delivered at the same time.
    Sub other =
        Sub.of("sub_order_100b", "cus_order_100", "order-concurrent", "price_pro", "active");
    life.add(subscriptionEvent("evt_o100_b1", "customer.subscription.created", t, other));
    life.add(
        event(
            "evt_o100_b2",
            "invoice.paid",
            t,
            invoiceObject(
                "in_o100_b", other.id(), other.customer(), "order-concurrent", 1900, true, null),
            V));
    ExecutorService pool = Executors.newFixedThreadPool(life.size());
    List<Callable<HttpResponse<String>>> posts = new ArrayList<>();
    for (String p : life) {
      posts.add(() -> server.postSigned(p));
    }
    List<Future<HttpResponse<String>>> results = pool.invokeAll(posts);
    pool.shutdown();
    for (Future<HttpResponse<String>> r : results) {
      assertThat(r.get().statusCode()).isEqualTo(200);
      assertThat(r.get().body()).contains("\"outcome\":\"applied\"");
    }
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM stripe_events WHERE id LIKE 'evt_o100_%' AND status = 'processed'"))
        .isEqualTo(life.size());
    Entitlement e = server.server().entitlements().get("order-concurrent").getEntitlement();
    assertThat(e.getTier()).isEqualTo("studio");
    assertThat(e.getPaymentProblem()).isFalse();
  }

  /** Entitlement changes of a user as the stream sends them: kind and version, in seq order. */
  private static String changes(String user) {
    return server.queryString(
        "SELECT GROUP_CONCAT(CONCAT(kind, ':', version) ORDER BY seq) FROM change_log WHERE user_id = ?",
        user);
  }

  private static double groups(String path) {
    return server.metric("billing_webhook_groups_total{path=\"" + path + "\"}");
  }

  private static List<WebhookProcessor.Outcome> deliverAsOneGroup(List<String> payloads) {
    return server
        .server()
        .webhooks()
        .ingestGroup(payloads.stream().map(StripeEventParser::parse).toList());
  }

  /**
   * Concurrent deliveries are applied together: one insert for the group, its users and their
   * subscriptions locked and read up front, each event then working on what the transaction holds.
   * A whole life applied as one group must leave exactly what one-by-one delivery leaves, change
   * for change and version for version.
   */
  @Test
  void oneGroupLeavesWhatOneByOneDeliveryLeaves() {
    long t = Instant.now().getEpochSecond() - 1000;
    deliver(lifeOf("group-ref", 200, t));
    double batched = groups("batched");
    double isolated = groups("isolated");

    List<WebhookProcessor.Outcome> outcomes = deliverAsOneGroup(lifeOf("group-one", 201, t));

    assertThat(outcomes).containsOnly(WebhookProcessor.Outcome.APPLIED).hasSize(9);
    assertThat(groups("batched")).isEqualTo(batched + 1);
    assertThat(groups("isolated")).isEqualTo(isolated);
    assertThat(state("group-one")).isEqualTo(state("group-ref"));
    assertThat(changes("group-one")).isNotBlank().isEqualTo(changes("group-ref"));
    assertThat(server.queryLong("SELECT COUNT(*) FROM audit_log WHERE user_id = ?", "group-one"))
        .isEqualTo(
            server.queryLong("SELECT COUNT(*) FROM audit_log WHERE user_id = ?", "group-ref"));
  }

  /** Eight users' lives, interleaved and shuffled, delivered in groups of 16. */
  @Test
  void shuffledGroupsOfManyUsersEndWhereInOrderDeliveryEnds() {
    long t = Instant.now().getEpochSecond() - 1000;
    deliver(lifeOf("groups-ref", 300, t));
    String expected = state("groups-ref");
    List<String> all = new ArrayList<>();
    for (int n = 1; n <= 8; n++) {
      all.addAll(lifeOf("groups-" + n, 300 + n, t));
    }
    Collections.shuffle(all, new Random(7));
    double batched = groups("batched");
    double isolated = groups("isolated");
    int groupCount = 0;
    for (int i = 0; i < all.size(); i += 16) {
      assertThat(deliverAsOneGroup(all.subList(i, Math.min(all.size(), i + 16))))
          .containsOnly(WebhookProcessor.Outcome.APPLIED);
      groupCount++;
    }
    assertThat(groups("batched")).isEqualTo(batched + groupCount);
    assertThat(groups("isolated")).isEqualTo(isolated);
    for (int n = 1; n <= 8; n++) {
      assertThat(state("groups-" + n).replace("groups-" + n, "groups-ref"))
          .as("user %d", n)
          .isEqualTo(expected);
    }
  }

  /**
   * A group holding a redelivered event and one that cannot be applied is redone one event at a
   * time: the duplicate has no second effect, the broken one waits for a retry, the rest apply.
   */
  @Test
  void aGroupWithADuplicateAndABrokenEventSettlesEachEventAlone() {
    long t = Instant.now().getEpochSecond() - 1000;
    Sub first =
        Sub.of("sub_grp_a", "cus_grp_a", "group-a", "price_pro", "active").withPeriodEnd(t + 86400);
    String created = subscriptionEvent("evt_grp_a1", "customer.subscription.created", t, first);
    deliver(List.of(created));
    long auditsBefore =
        server.queryLong("SELECT COUNT(*) FROM audit_log WHERE user_id = 'group-a'");
    double isolated = groups("isolated");
    JsonObject noId = StripeFixtures.subscriptionObject(first);
    noId.remove("id");
    List<WebhookProcessor.Outcome> outcomes =
        deliverAsOneGroup(
            List.of(
                subscriptionEvent(
                    "evt_grp_b1",
                    "customer.subscription.created",
                    t,
                    Sub.of("sub_grp_b", "cus_grp_b", "group-b", "price_studio", "trialing")),
                created,
                event("evt_grp_broken", "customer.subscription.updated", t + 1, noId, V),
                subscriptionEvent(
                    "evt_grp_a2",
                    "customer.subscription.updated",
                    t + 2,
                    first.withPrice("price_studio"))));

    assertThat(outcomes)
        .containsExactly(
            WebhookProcessor.Outcome.APPLIED,
            WebhookProcessor.Outcome.DUPLICATE,
            WebhookProcessor.Outcome.STORED_FOR_RETRY,
            WebhookProcessor.Outcome.APPLIED);
    assertThat(groups("isolated")).isEqualTo(isolated + 1);
    assertThat(server.server().entitlements().get("group-b").getEntitlement().getTier())
        .isEqualTo("studio");
    assertThat(server.server().entitlements().get("group-a").getEntitlement().getTier())
        .isEqualTo("studio");
    // group-a changed once more (subscription + entitlement), not twice for the redelivery.
    assertThat(server.queryLong("SELECT COUNT(*) FROM audit_log WHERE user_id = 'group-a'"))
        .isEqualTo(auditsBefore + 2);
    assertThat(server.queryString("SELECT status FROM stripe_events WHERE id = 'evt_grp_broken'"))
        .isEqualTo("pending");
  }

  /** All orders of a list, in a fixed order. */
  private static <T> List<List<T>> permutations(List<T> items) {
    if (items.size() <= 1) {
      return List.of(items);
    }
    List<List<T>> all = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      List<T> rest = new ArrayList<>(items);
      T first = rest.remove(i);
      for (List<T> tail : permutations(rest)) {
        List<T> order = new ArrayList<>(List.of(first));
        order.addAll(tail);
        all.add(order);
      }
    }
    return all;
  }

  /**
   * Every one of the 720 orders of the life's core (created and activated in the same second, a
   * failed renewal and past_due in the next, then a paid retry and an upgrade in the same second)
   * ends in the in-order state. Eight orders (eight users) go per group.
   */
  @Test
  void everyOrderOfTheCoreEndsWhereInOrderDeliveryEnds() {
    long t = Instant.now().getEpochSecond() - 1000;
    int[] core = {0, 1, 5, 6, 7, 8};
    deliver(coreOf(lifeOf("core-ref", 2000, t), core));
    String expected = state("core-ref");
    assertThat(expected).startsWith("studio|SUBSCRIPTION_STATUS_ACTIVE|");

    List<List<Integer>> orders = permutations(List.of(0, 1, 2, 3, 4, 5));
    assertThat(orders).hasSize(720).doesNotHaveDuplicates();
    List<String> group = new ArrayList<>();
    for (int i = 0; i < orders.size(); i++) {
      List<String> events = coreOf(lifeOf("core-" + i, 2001 + i, t), core);
      for (int k : orders.get(i)) {
        group.add(events.get(k));
      }
      if (group.size() == 48 || i == orders.size() - 1) {
        assertThat(deliverAsOneGroup(group)).containsOnly(WebhookProcessor.Outcome.APPLIED);
        group.clear();
      }
    }
    for (int i = 0; i < orders.size(); i++) {
      assertThat(state("core-" + i).replace("core-" + i, "core-ref"))
          .as("order %s", orders.get(i))
          .isEqualTo(expected);
    }
  }

  private static List<String> coreOf(List<String> life, int[] indices) {
    List<String> core = new ArrayList<>();
    for (int i : indices) {
      core.add(life.get(i));
    }
    return core;
  }
}
