package dev.billing.stripe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.stripe.exception.CardException;
import com.stripe.exception.RateLimitException;
import dev.billing.config.Catalog;
import dev.billing.domain.gateway.CheckoutSessionResult;
import dev.billing.domain.gateway.CheckoutSessionSpec;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.error.BillingException;
import dev.billing.stripe.emulator.StripeEmulator;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The stripe-java gateway against the emulator, and how Stripe failures map to our errors. */
class StripeGatewayTest {
  private static StripeEmulator emulator;
  private static StripeGateway gateway;

  @BeforeAll
  static void start() {
    emulator =
        new StripeEmulator(
            0,
            Catalog.defaults("price_pro", "price_studio"),
            "whsec_x",
            Clock.systemUTC(),
            Duration.ofMillis(50));
    emulator.start();
    gateway = new StripeJavaGateway("sk_test_gateway", emulator.apiBase());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  private static CheckoutSessionSpec subscription(String customer, String price) {
    return new CheckoutSessionSpec(
        CheckoutSessionSpec.Mode.SUBSCRIPTION,
        customer,
        "u1",
        price,
        7,
        null,
        false,
        0,
        "usd",
        null,
        Map.of("user_id", "u1"),
        "http://localhost:3000/ok",
        "http://localhost:3000/no");
  }

  @Test
  void createsCustomersAndSessionsIdempotently() {
    String customer = gateway.createCustomer("u1", "u1@example.test", "cust-u1");
    assertThat(customer).startsWith("cus_");
    assertThat(gateway.createCustomer("u1", "u1@example.test", "cust-u1")).isEqualTo(customer);

    CheckoutSessionResult a =
        gateway.createCheckoutSession(subscription(customer, "price_pro"), "cs-1");
    CheckoutSessionResult b =
        gateway.createCheckoutSession(subscription(customer, "price_pro"), "cs-1");
    assertThat(a.id()).startsWith("cs_test_").isEqualTo(b.id());
    assertThat(a.status()).isEqualTo("open");
    assertThat(a.url()).isEqualTo(emulator.apiBase() + "/checkout/" + a.id());
    assertThat(a.amountTotal()).isZero(); // a trial charges nothing now
    assertThat(gateway.createPortalSession(customer, "http://localhost:3000", "p-1"))
        .contains("/portal/bps_");
  }

  @Test
  void sameKeyWithOtherParametersIsAConflict() {
    String customer = gateway.createCustomer("u2", null, "cust-u2");
    gateway.createCheckoutSession(subscription(customer, "price_pro"), "cs-2");
    assertThatThrownBy(
            () -> gateway.createCheckoutSession(subscription(customer, "price_studio"), "cs-2"))
        .isInstanceOf(BillingException.FailedPrecondition.class);
  }

  @Test
  void invalidRequestsAreInvalidArguments() {
    String customer = gateway.createCustomer("u3", null, "cust-u3");
    assertThatThrownBy(
            () -> gateway.createCheckoutSession(subscription(customer, "price_nope"), "cs-3"))
        .isInstanceOfSatisfying(
            BillingException.InvalidArgument.class,
            e -> assertThat(e.violations().getFirst().description()).contains("No such price"));
  }

  @Test
  void badCredentialsAreInternalWithoutTheKey() {
    StripeGateway live = new StripeJavaGateway("sk_live_supersecretvalue123", emulator.apiBase());
    assertThatThrownBy(() -> live.createCustomer("u4", null, "k"))
        .isInstanceOf(BillingException.Internal.class)
        .message()
        .doesNotContain("supersecret");
  }

  @Test
  void networkFailuresAreUnavailable() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    StripeGateway unreachable =
        new StripeJavaGateway("sk_test_x", "http://127.0.0.1:" + closedPort);
    assertThatThrownBy(() -> unreachable.createCustomer("u5", null, "k"))
        .isInstanceOf(BillingException.Unavailable.class);
  }

  @Test
  void cardErrorsCarryTheDeclineCodeAndRateLimitsAreRetryable() {
    var card =
        new CardException(
            "Your card has insufficient funds.",
            "req_1",
            "card_declined",
            null,
            "insufficient_funds",
            null,
            402,
            null);
    assertThat(StripeErrors.translate(card))
        .isInstanceOf(BillingException.FailedPrecondition.class)
        .satisfies(e -> assertThat(e.reason()).isEqualTo("CARD_INSUFFICIENT_FUNDS"));
    var rate = new RateLimitException("Too many requests", "req_2", "rate_limit", null, 429, null);
    assertThat(StripeErrors.translate(rate)).isInstanceOf(BillingException.Unavailable.class);
  }

  @Test
  void secretsAreRedacted() {
    assertThat(Redaction.redact("key sk_live_abcDEF123456 and whsec_abcdef123 here"))
        .isEqualTo("key sk_*** and whsec_*** here");
  }
}
