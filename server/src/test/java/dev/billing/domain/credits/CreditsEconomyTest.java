package dev.billing.domain.credits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.proto.v1.ApplyReferralCodeRequest;
import dev.billing.proto.v1.CancelMode;
import dev.billing.proto.v1.CancelSubscriptionRequest;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.ConsumeCreditsRequest;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.proto.v1.GetPaymentRequest;
import dev.billing.proto.v1.GetReferralCodeRequest;
import dev.billing.proto.v1.ListAuditEntriesRequest;
import dev.billing.proto.v1.ListCreditTransactionsRequest;
import dev.billing.proto.v1.ListCreditTransactionsResponse;
import dev.billing.proto.v1.ListPaymentsRequest;
import dev.billing.proto.v1.Money;
import dev.billing.proto.v1.PaymentStatus;
import dev.billing.proto.v1.RefundPaymentRequest;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.testing.GrpcErrors;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The credits economy through the API, with purchases and refunds paid at the local Stripe
 * emulator.
 */
class CreditsEconomyTest {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    client = server.client();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String user() {
    return TestServer.uniqueUser("ce_");
  }

  private static CreateCheckoutResponse buyCredits(String user, long cents, String referral) {
    CreateCheckoutResponse co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_CREDITS)
                .setAmount(Money.newBuilder().setAmountMinor(cents).setCurrency("usd"))
                .setIdempotencyKey("buy-" + UUID.randomUUID())
                .setReferralCode(referral == null ? "" : referral)
                .build());
    assertThat(server.pay(co.getUrl(), "4242424242424242", null).statusCode()).isEqualTo(200);
    return co;
  }

  private static String referralCode(String user) {
    return client
        .stub()
        .getReferralCode(GetReferralCodeRequest.newBuilder().setUserId(user).build())
        .getCode();
  }

  private static long balance(String user) {
    return client.getEntitlement(user).getCreditBalance();
  }

  @Test
  void consumingMoreThanTheBalanceIsRefusedAndNeverGoesNegative() {
    String user = user();
    client.grantCredits(user, 100, "g1", null);
    var consumed =
        client
            .stub()
            .consumeCredits(
                ConsumeCreditsRequest.newBuilder()
                    .setUserId(user)
                    .setAmount(60)
                    .setIdempotencyKey("c1")
                    .build());
    assertThat(consumed.getBalance()).isEqualTo(40);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .consumeCredits(
                            ConsumeCreditsRequest.newBuilder()
                                .setUserId(user)
                                .setAmount(41)
                                .setIdempotencyKey("c2")
                                .build())))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
    // A replay of c1 returns the first result and takes nothing.
    var replay =
        client
            .stub()
            .consumeCredits(
                ConsumeCreditsRequest.newBuilder()
                    .setUserId(user)
                    .setAmount(60)
                    .setIdempotencyKey("c1")
                    .build());
    assertThat(replay.getReplayed()).isTrue();
    assertThat(replay.getBalance()).isEqualTo(40);
    assertThat(balance(user)).isEqualTo(40);
  }

  @Test
  void theLedgerIsListedNewestFirstInPages() {
    String user = user();
    for (int i = 1; i <= 5; i++) {
      client.grantCredits(user, i, "page-" + i, "grant " + i);
    }
    Set<String> seen = new HashSet<>();
    ListCreditTransactionsResponse page1 =
        client
            .stub()
            .listCreditTransactions(
                ListCreditTransactionsRequest.newBuilder().setUserId(user).setPageSize(2).build());
    assertThat(page1.getTransactionsList()).extracting(t -> t.getAmount()).containsExactly(5L, 4L);
    assertThat(page1.getTransactions(0).getBalanceAfter()).isEqualTo(15);
    assertThat(page1.getTransactions(0).getCreateTime().getSeconds()).isPositive();
    page1.getTransactionsList().forEach(t -> seen.add(t.getTransactionId()));
    var page2 =
        client
            .stub()
            .listCreditTransactions(
                ListCreditTransactionsRequest.newBuilder()
                    .setUserId(user)
                    .setPageSize(2)
                    .setPageToken(page1.getNextPageToken())
                    .build());
    var page3 =
        client
            .stub()
            .listCreditTransactions(
                ListCreditTransactionsRequest.newBuilder()
                    .setUserId(user)
                    .setPageSize(2)
                    .setPageToken(page2.getNextPageToken())
                    .build());
    page2.getTransactionsList().forEach(t -> seen.add(t.getTransactionId()));
    page3.getTransactionsList().forEach(t -> seen.add(t.getTransactionId()));
    assertThat(page3.getTransactionsList()).extracting(t -> t.getAmount()).containsExactly(1L);
    assertThat(page3.getNextPageToken()).isEmpty();
    assertThat(seen).hasSize(5);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .listCreditTransactions(
                            ListCreditTransactionsRequest.newBuilder()
                                .setUserId(user)
                                .setPageToken("garbage!")
                                .build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .listCreditTransactions(
                            ListCreditTransactionsRequest.newBuilder()
                                .setUserId(user)
                                .setPageSize(1000)
                                .build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void aReferredUsersFirstPurchaseOfTenDollarsPaysBothOnce() {
    String referrer = user();
    String newcomer = user();
    String code = referralCode(referrer);
    assertThat(referralCode(referrer)).isEqualTo(code);
    var applied =
        client
            .stub()
            .applyReferralCode(
                ApplyReferralCodeRequest.newBuilder().setUserId(newcomer).setCode(code).build());
    assertThat(applied.getReferrerUserId()).isEqualTo(referrer);
    assertThat(
            client
                .stub()
                .applyReferralCode(
                    ApplyReferralCodeRequest.newBuilder().setUserId(newcomer).setCode(code).build())
                .getReplayed())
        .isTrue();
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .applyReferralCode(
                            ApplyReferralCodeRequest.newBuilder()
                                .setUserId(referrer)
                                .setCode(code)
                                .build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);

    buyCredits(newcomer, 500, null); // under $10: no bonus yet
    await().atMost(WAIT).until(() -> balance(newcomer) == 500);
    buyCredits(newcomer, 1500, null);
    await().atMost(WAIT).until(() -> balance(newcomer) == 500 + 1500 + 1000);
    await().atMost(WAIT).until(() -> balance(referrer) == 1000);
    buyCredits(newcomer, 2000, null);
    await().atMost(WAIT).until(() -> balance(newcomer) == 5000);
    assertThat(balance(referrer)).isEqualTo(1000);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM credit_ledger WHERE kind = 'referral_bonus' AND user_id IN (?, ?)",
                referrer,
                newcomer))
        .isEqualTo(2);
    // A user with purchases can no longer be referred.
    String other = user();
    String otherCode = referralCode(other);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .applyReferralCode(
                            ApplyReferralCodeRequest.newBuilder()
                                .setUserId(newcomer)
                                .setCode(otherCode)
                                .build())))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
  }

  @Test
  void aReferralCodeGivenAtCheckoutCounts() {
    String referrer = user();
    String newcomer = user();
    String code = referralCode(referrer);
    buyCredits(newcomer, 1000, code);
    await().atMost(WAIT).until(() -> balance(newcomer) == 2000);
    await().atMost(WAIT).until(() -> balance(referrer) == 1000);
  }

  @Test
  void paymentsAreListedAndRefundsClawBackCreditsWhenStripeConfirms() {
    String user = user();
    CreateCheckoutResponse co = buyCredits(user, 3000, null);
    await().atMost(WAIT).until(() -> balance(user) == 3000);
    var payment =
        client
            .stub()
            .getPayment(GetPaymentRequest.newBuilder().setPaymentId(co.getPaymentId()).build())
            .getPayment();
    assertThat(payment.getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_SUCCEEDED);
    assertThat(payment.getAmount().getAmountMinor()).isEqualTo(3000);
    assertThat(payment.getPaymentIntentId()).startsWith("pi_");
    assertThat(
            client
                .stub()
                .listPayments(ListPaymentsRequest.newBuilder().setUserId(user).build())
                .getPaymentsList())
        .extracting(p -> p.getPaymentId())
        .containsExactly(co.getPaymentId());

    var refund =
        client
            .stub()
            .refundPayment(
                RefundPaymentRequest.newBuilder()
                    .setPaymentId(co.getPaymentId())
                    .setAmountMinor(1000)
                    .setIdempotencyKey("r1")
                    .setReason("goodwill")
                    .build());
    assertThat(refund.getRefundId()).startsWith("re_");
    await().atMost(WAIT).until(() -> balance(user) == 2000);
    // Retrying the same refund request refunds nothing more.
    client
        .stub()
        .refundPayment(
            RefundPaymentRequest.newBuilder()
                .setPaymentId(co.getPaymentId())
                .setAmountMinor(1000)
                .setIdempotencyKey("r1")
                .build());
    client
        .stub()
        .refundPayment(
            RefundPaymentRequest.newBuilder()
                .setPaymentId(co.getPaymentId())
                .setIdempotencyKey("r2")
                .build());
    await().atMost(WAIT).until(() -> balance(user) == 0);
    await()
        .atMost(WAIT)
        .until(
            () ->
                client
                        .stub()
                        .getPayment(
                            GetPaymentRequest.newBuilder().setPaymentId(co.getPaymentId()).build())
                        .getPayment()
                        .getStatus()
                    == PaymentStatus.PAYMENT_STATUS_REFUNDED);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM credit_ledger WHERE user_id = ? AND kind = 'refund'", user))
        .isEqualTo(2);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .refundPayment(
                            RefundPaymentRequest.newBuilder()
                                .setPaymentId(co.getPaymentId())
                                .setIdempotencyKey("r3")
                                .build())))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .getPayment(
                            GetPaymentRequest.newBuilder()
                                .setPaymentId("pay_000000000000000000000000")
                                .build())))
        .isEqualTo(Status.Code.NOT_FOUND);

    var audit =
        client
            .stub()
            .listAuditEntries(
                ListAuditEntriesRequest.newBuilder().setUserId(user).setPageSize(3).build());
    assertThat(audit.getEntriesList()).hasSize(3);
    assertThat(audit.getEntries(0).getId()).isGreaterThan(audit.getEntries(1).getId());
    assertThat(audit.getNextPageToken()).isNotEmpty();
    var rest =
        client
            .stub()
            .listAuditEntries(
                ListAuditEntriesRequest.newBuilder()
                    .setUserId(user)
                    .setPageSize(100)
                    .setPageToken(audit.getNextPageToken())
                    .build());
    assertThat(rest.getEntries(0).getId()).isLessThan(audit.getEntries(2).getId());
    assertThat(rest.getEntriesList()).extracting(e -> e.getAction()).contains("credits.purchase");
  }

  @Test
  void cancelSubscriptionGoesThroughStripeAndComesBackByWebhook() {
    String user = user();
    CreateCheckoutResponse co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
                .setPlan("pro")
                .setIdempotencyKey("sub-" + user)
                .build());
    server.pay(co.getUrl(), "4242424242424242", null);
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getTier().equals("pro"));

    var atEnd =
        client
            .stub()
            .cancelSubscription(
                CancelSubscriptionRequest.newBuilder()
                    .setUserId(user)
                    .setMode(CancelMode.CANCEL_MODE_AT_PERIOD_END)
                    .setIdempotencyKey("c1")
                    .build());
    assertThat(atEnd.getSubscriptionId()).startsWith("sub_");
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getCancelAtPeriodEnd());
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("pro");

    client
        .stub()
        .cancelSubscription(
            CancelSubscriptionRequest.newBuilder()
                .setUserId(user)
                .setMode(CancelMode.CANCEL_MODE_IMMEDIATELY)
                .setIdempotencyKey("c2")
                .build());
    await().atMost(WAIT).until(() -> client.getEntitlement(user).getTier().equals("free"));
    assertThat(client.getEntitlement(user).getStatus())
        .isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .cancelSubscription(
                            CancelSubscriptionRequest.newBuilder()
                                .setUserId(user)
                                .setMode(CancelMode.CANCEL_MODE_IMMEDIATELY)
                                .setIdempotencyKey("c3")
                                .build())))
        .isIn(Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION);
    assertThat(
            GrpcErrors.codeOf(
                () ->
                    client
                        .stub()
                        .cancelSubscription(
                            CancelSubscriptionRequest.newBuilder()
                                .setUserId(user())
                                .setIdempotencyKey("c4")
                                .build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }
}
