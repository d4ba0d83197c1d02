package dev.billing.hardening;

import static dev.billing.testing.GrpcErrors.reasonOf;
import static dev.billing.testing.GrpcErrors.statusOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.client.BillingClient;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.ConsumeCreditsRequest;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreatePortalSessionRequest;
import dev.billing.testing.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A key's first outcome, refusal included, is its outcome (issue 11's idempotency findings); a
 * request rejected by validation before it ran may be retried under the same key.
 */
class FirstOutcomeTest {
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
    return TestServer.uniqueUser("fo_");
  }

  private static ConsumeCreditsRequest consume(String user, long amount, String key) {
    return ConsumeCreditsRequest.newBuilder()
        .setUserId(user)
        .setAmount(amount)
        .setIdempotencyKey(key)
        .build();
  }

  @Test
  void aRefusedConsumptionStaysRefusedUnderItsKeyOnceTheBalanceWouldAllowIt() {
    String user = user();
    client.grantCredits(user, 10, "seed", "test");
    StatusRuntimeException first =
        statusOf(() -> client.stub().consumeCredits(consume(user, 50, "spend-1")));
    assertThat(first.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(reasonOf(first)).isEqualTo("INSUFFICIENT_CREDITS");

    client.grantCredits(user, 100, "top-up", "test");
    StatusRuntimeException retry =
        statusOf(() -> client.stub().consumeCredits(consume(user, 50, "spend-1")));
    assertThat(retry.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(reasonOf(retry)).isEqualTo("INSUFFICIENT_CREDITS");
    assertThat(client.getEntitlement(user).getCreditBalance()).isEqualTo(110);

    // Another request under the refused key is a reused key, not a fresh attempt.
    assertThat(reasonOf(statusOf(() -> client.stub().consumeCredits(consume(user, 5, "spend-1")))))
        .isEqualTo("IDEMPOTENCY_KEY_REUSED");
    // A new key is a new request.
    assertThat(client.stub().consumeCredits(consume(user, 50, "spend-2")).getBalance())
        .isEqualTo(60);
  }

  @Test
  void aRequestRejectedByValidationMayBeRetriedUnderTheSameKey() {
    String user = user();
    client.grantCredits(user, 100, "seed", "test");
    assertThat(
            statusOf(() -> client.stub().consumeCredits(consume(user, 0, "v-1")))
                .getStatus()
                .getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(client.stub().consumeCredits(consume(user, 30, "v-1")).getBalance()).isEqualTo(70);
  }

  private static CreateCheckoutRequest.Builder proCheckout(String user, String key) {
    return CreateCheckoutRequest.newBuilder()
        .setUserId(user)
        .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
        .setPlan("pro")
        .setIdempotencyKey(key);
  }

  @Test
  void aCheckoutKeyReusedWithAnotherTrialIsRefusedAndTheSameRequestGetsTheSameSession() {
    String user = user();
    String first = client.createCheckout(proCheckout(user, "co-1").build()).getSessionId();
    assertThat(client.createCheckout(proCheckout(user, "co-1").build()).getSessionId())
        .isEqualTo(first);
    StatusRuntimeException e =
        statusOf(() -> client.createCheckout(proCheckout(user, "co-1").setTrialDays(7).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(reasonOf(e)).isEqualTo("IDEMPOTENCY_KEY_REUSED");
  }

  @Test
  void twoPortalOpensWithDifferentReturnUrlsInOneMinuteBothSucceed() {
    String user = user();
    client.createCheckout(proCheckout(user, "co-portal").build()); // the user gets a customer
    String a =
        client
            .stub()
            .createPortalSession(
                CreatePortalSessionRequest.newBuilder()
                    .setUserId(user)
                    .setReturnUrl("http://localhost:3000/settings")
                    .build())
            .getUrl();
    String b =
        client
            .stub()
            .createPortalSession(
                CreatePortalSessionRequest.newBuilder()
                    .setUserId(user)
                    .setReturnUrl("http://localhost:3000/billing")
                    .build())
            .getUrl();
    assertThat(a).isNotBlank();
    assertThat(b).isNotBlank().isNotEqualTo(a);
  }
}
