package dev.billing.domain.credits;

import static dev.billing.testing.StripeFixtures.chargeObject;
import static dev.billing.testing.StripeFixtures.checkoutSessionObject;
import static dev.billing.testing.StripeFixtures.event;
import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.domain.audit.Cause;
import dev.billing.error.BillingException;
import dev.billing.stripe.StripeEventParser;
import dev.billing.testing.TestServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many threads grant, consume and refund for a few users with repeated idempotency keys. Afterwards
 * every balance equals the sum of its ledger, no balance ever went negative, every key was applied
 * once (every caller got the same transaction back), and refunds clawed back exactly their share.
 */
class CreditConcurrencyTest {
  private static final String V = "2026-07-29.dahlia";
  private static final int USERS = 4;
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String refundEvent(int user, long refundedTotal, int seq) {
    return event(
        "evt_cc_refund_" + user + "_" + refundedTotal + "_" + seq,
        "charge.refunded",
        Instant.now().getEpochSecond(),
        chargeObject("ch_cc_" + user, "pi_cc_" + user, 10_000, refundedTotal),
        V);
  }

  @Test
  void balancesEqualTheirLedgersAndEveryKeyAppliesOnce() throws Exception {
    long t = Instant.now().getEpochSecond();
    for (int u = 0; u < USERS; u++) {
      var session =
          checkoutSessionObject(
              "cs_cc_" + u,
              "payment",
              "cus_cc_" + u,
              "cc-user-" + u,
              null,
              "pi_cc_" + u,
              10_000,
              "paid",
              null);
      String paymentId = "pay_cc" + "0".repeat(21) + u;
      server.pendingPurchase(paymentId, "cc-user-" + u, "cs_cc_" + u, 10_000, 10_000);
      session.getAsJsonObject("metadata").addProperty("payment_id", paymentId);
      session.getAsJsonObject("metadata").addProperty("credits", 10_000);
      server
          .server()
          .webhooks()
          .ingest(
              StripeEventParser.parse(
                  event("evt_cc_buy_" + u, "checkout.session.completed", t, session, V)));
    }
    CreditService credits = server.server().credits();
    Map<String, String> firstTransactionOfKey = new ConcurrentHashMap<>();
    AtomicInteger mismatches = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(12);
    List<Future<?>> work = new ArrayList<>();
    for (int thread = 0; thread < 12; thread++) {
      Random random = new Random(thread);
      work.add(
          pool.submit(
              () -> {
                for (int i = 0; i < 60; i++) {
                  int u = random.nextInt(USERS);
                  String user = "cc-user-" + u;
                  int op = random.nextInt(10);
                  if (op < 4) {
                    int k = random.nextInt(15);
                    long amount = 10 + k; // the same key always carries the same amount
                    record(
                        firstTransactionOfKey,
                        mismatches,
                        user + "/g" + k,
                        () -> credits.grant(user, amount, "g" + k, null, Cause.api("t")));
                  } else if (op < 8) {
                    int k = random.nextInt(15);
                    long amount = 100 + 37L * k;
                    try {
                      record(
                          firstTransactionOfKey,
                          mismatches,
                          user + "/c" + k,
                          () -> credits.consume(user, amount, "c" + k, null, Cause.api("t")));
                    } catch (BillingException.FailedPrecondition e) {
                      // balance too low: refused, nothing taken (the invariants below cover it)
                    }
                  } else {
                    long total =
                        1000L
                            * (1
                                + random.nextInt(
                                    4)); // cumulative refunds arrive in any order, repeatedly
                    server
                        .server()
                        .webhooks()
                        .ingest(
                            StripeEventParser.parse(
                                refundEvent(u, total, i * 100 + random.nextInt(100))));
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : work) {
      f.get();
    }
    pool.shutdown();

    assertThat(mismatches.get()).as("callers of one key got different transactions").isZero();
    for (int u = 0; u < USERS; u++) {
      String user = "cc-user-" + u;
      long balance =
          server.queryLong("SELECT balance FROM credit_balances WHERE user_id = ?", user);
      assertThat(server.queryLong("SELECT SUM(delta) FROM credit_ledger WHERE user_id = ?", user))
          .isEqualTo(balance);
      assertThat(
              server.queryLong(
                  "SELECT MIN(balance_after) FROM credit_ledger WHERE user_id = ?", user))
          .isNotNegative();
      assertThat(server.server().entitlements().get(user).getEntitlement().getCreditBalance())
          .isEqualTo(balance);
      // Each key used by any thread produced exactly one ledger row.
      long keys =
          firstTransactionOfKey.keySet().stream().filter(k -> k.startsWith(user + "/")).count();
      assertThat(
              server.queryLong(
                  "SELECT COUNT(*) FROM credit_ledger WHERE user_id = ? AND kind IN ('grant','consume')",
                  user))
          .isEqualTo(keys);
      // Refund claw-backs follow the highest cumulative refund seen, once per step, never more.
      long refunded =
          server.queryLong(
              "SELECT amount_refunded FROM payments WHERE payment_intent_id = ?", "pi_cc_" + u);
      long clawed =
          -server.queryLong(
              "SELECT COALESCE(SUM(delta), 0) FROM credit_ledger WHERE user_id = ? AND kind = 'refund'",
              user);
      assertThat(clawed).isBetween(0L, refunded);
      assertThat(
              server.queryLong(
                  "SELECT COUNT(*) - COUNT(DISTINCT idempotency_key) FROM credit_ledger WHERE user_id = ?",
                  user))
          .isZero();
      // Version counts the changes: one per ledger row that moved the balance.
      assertThat(server.server().entitlements().get(user).getEntitlement().getVersion())
          .isEqualTo(
              server.queryLong(
                  "SELECT COUNT(*) FROM credit_ledger WHERE user_id = ? AND delta <> 0", user));
    }
  }

  private static void record(
      Map<String, String> first,
      AtomicInteger mismatches,
      String key,
      java.util.function.Supplier<CreditResult> call) {
    CreditResult r = call.get();
    String previous = first.putIfAbsent(key, r.transactionId());
    if (previous != null && !previous.equals(r.transactionId())) {
      mismatches.incrementAndGet();
    }
  }
}
