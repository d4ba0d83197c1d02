package dev.billing.domain.payment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.domain.audit.Cause;
import dev.billing.domain.command.StripeCommand;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.StripeCommand.IntentOutcome;
import dev.billing.domain.command.StripeCommand.InvoiceSettled;
import dev.billing.domain.command.StripeCommand.PaymentIntentSettled;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.referral.ReferralService;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.testing.BatchedGroup;
import dev.billing.testing.TestDomain;
import dev.billing.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A group's payments are locked up front, and a payment the prefetch found absent is inserted with
 * the group's other writes (updates of prefetched ones too). If another transaction stores that
 * payment in between, the held insert fails rather than count as done: the group is redone one
 * event at a time, and the stored row is the one the event settles.
 */
class HeldPaymentTest {
  private static TestServer server;
  private static Transactions tx;
  private static PaymentService payments;

  @BeforeAll
  static void start() {
    server = TestServer.startWithoutWarmup();
    tx = server.transactions();
    TestDomain domain = TestDomain.over(tx);
    CreditService credits = new CreditService(tx, domain.entitlements(), domain.audit());
    payments =
        new PaymentService(
            credits,
            new ReferralService(tx, domain.entitlements(), credits, domain.audit()),
            domain.audit(),
            domain.customers(),
            domain.catalog());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static InvoiceSettled invoice(boolean paid, String user, String invoiceId) {
    return new InvoiceSettled(
        paid,
        invoiceId,
        "sub_" + invoiceId,
        user,
        user,
        null,
        "cus_" + user,
        "pi_" + invoiceId,
        paid ? 2900L : 0L,
        2900L,
        "usd");
  }

  /** Settles the invoices as a writer applies a batched group; {@code between} runs after it. */
  private static Transactions.GroupOutcome<String> group(
      List<InvoiceSettled> invoices, Runnable between) {
    return tx.executeGroup(
        invoices,
        true,
        BatchedGroup.<InvoiceSettled>of(
            (uow, reads) -> payments.prefetch(uow, reads, List.<StripeCommand>copyOf(invoices)),
            between,
            (uow, item) ->
                payments.invoiceSettled(uow, item, Cause.stripe("evt_" + item.invoiceId()))));
  }

  private static String payment(String invoiceId) {
    return server.queryString(
        "SELECT CONCAT(COUNT(*), ' ', MAX(status), ' ', MAX(payment_intent_id)) FROM payments"
            + " WHERE invoice_id = ? OR id = ?",
        invoiceId,
        PaymentService.paymentId("invoice", invoiceId));
  }

  @Test
  void newPaymentsAndUpdatesOfPrefetchedOnesGoWithTheGroup() {
    group(List.of(invoice(false, "hp-1", "in_hp_1")), () -> {}); // pending -> failed
    Transactions.GroupOutcome<String> done =
        group(
            List.of(invoice(true, "hp-1", "in_hp_1"), invoice(false, "hp-2", "in_hp_2")), () -> {});

    assertThat(done.isolated()).isFalse();
    assertThat(done.results()).containsExactly("applied", "applied");
    assertThat(payment("in_hp_1")).isEqualTo("1 succeeded pi_in_hp_1");
    assertThat(payment("in_hp_2")).isEqualTo("1 failed pi_in_hp_2");
  }

  @Test
  void aPaymentStoredMeanwhileFailsTheHeldInsertAndTheGroupIsRedone() {
    Transactions.GroupOutcome<String> done =
        group(
            List.of(invoice(true, "hp-3", "in_hp_3")),
            () ->
                server.execute(
                    "INSERT INTO payments (id, user_id, kind, status, amount, amount_refunded,"
                        + " currency, credits, invoice_id) VALUES (?, 'hp-3', 'subscription',"
                        + " 'pending', 2900, 0, 'usd', 0, 'in_hp_3')",
                    PaymentService.paymentId("invoice", "in_hp_3")));

    assertThat(done.isolated()).isTrue();
    assertThat(done.results()).containsExactly("applied");
    assertThat(payment("in_hp_3")).isEqualTo("1 succeeded pi_in_hp_3");
  }

  @Test
  void onlyAPaidPurchaseLocksItsCheckoutSessionsPayment() {
    server.execute(
        "INSERT INTO payments (id, user_id, kind, status, amount, amount_refunded, currency,"
            + " credits, checkout_session_id) VALUES ('pay_hp_cs', 'hp-4', 'credits', 'pending',"
            + " 500, 0, 'usd', 500, 'cs_hp_4')");

    // A subscription's checkout (the common kind) settles nothing here, so it locks nothing.
    assertThat(lockedWhilePrefetched(checkout("subscription", "paid"))).isFalse();
    assertThat(lockedWhilePrefetched(checkout("payment", "unpaid"))).isFalse();
    // A paid purchase is what checkoutCompleted settles: its payment is locked with the group.
    assertThat(lockedWhilePrefetched(checkout("payment", "paid"))).isTrue();
  }

  @Test
  void aSubscriptionsSucceededIntentLocksNoPayment() {
    server.execute(
        "INSERT INTO payments (id, user_id, kind, status, amount, amount_refunded, currency,"
            + " credits, payment_intent_id) VALUES ('pay_hp_pi', 'hp-5', 'credits', 'pending',"
            + " 500, 0, 'usd', 500, 'pi_hp_5')");

    // A subscription's renewal: its invoice.paid records the payment, the intent reads nothing.
    assertThat(lockedWhilePrefetched(intent(IntentOutcome.SUCCEEDED, null), "pi_hp_5")).isFalse();
    // A purchase of ours, and a failed intent (whose payment is recorded), read and lock it.
    assertThat(lockedWhilePrefetched(intent(IntentOutcome.SUCCEEDED, "pay_hp_pi"), "pi_hp_5"))
        .isTrue();
    assertThat(lockedWhilePrefetched(intent(IntentOutcome.FAILED, null), "pi_hp_5")).isTrue();
  }

  private static PaymentIntentSettled intent(IntentOutcome outcome, String paymentId) {
    return new PaymentIntentSettled(
        outcome, "pi_hp_5", paymentId, "hp-5", "cus_hp-5", 500L, 500L, "usd", 500L, null, null);
  }

  private static CheckoutCompleted checkout(String mode, String paymentStatus) {
    return new CheckoutCompleted(
        "cs_hp_4",
        mode,
        paymentStatus,
        "hp-4",
        "cus_hp-4",
        "subscription".equals(mode) ? "sub_hp_4" : null,
        null,
        null,
        500L,
        "usd",
        "pay_hp_cs",
        500L);
  }

  /** Whether the session's payment row is locked once the group's prefetch has been sent. */
  private static boolean lockedWhilePrefetched(CheckoutCompleted session) {
    return lockedWhilePrefetched(session, "checkout_session_id", "cs_hp_4");
  }

  /** Whether the intent's payment row is locked once the group's prefetch has been sent. */
  private static boolean lockedWhilePrefetched(PaymentIntentSettled intent, String intentId) {
    return lockedWhilePrefetched(intent, "payment_intent_id", intentId);
  }

  private static boolean lockedWhilePrefetched(StripeCommand command, String key, String value) {
    return tx.execute(
        uow -> {
          ReadBatch reads = uow.reads();
          payments.prefetch(uow, reads, List.of(command));
          reads.send();
          return !server.tryUpdate("payments", key, value);
        });
  }
}
