package dev.billing.security;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import dev.billing.client.BillingClient;
import dev.billing.config.Catalog;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.stripe.WebhookSigner;
import dev.billing.stripe.emulator.StripeEmulator;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import dev.billing.transport.grpc.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A full run with real-looking secrets, failures included, while every log line is captured: no
 * Stripe key, webhook secret or bearer token appears in the logs, in error messages or in /metrics.
 */
class SecretsNeverLeakTest {
  /** Collects every log event, formatted, with stack traces. */
  static final class Capture extends AppenderBase<ILoggingEvent> {
    final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    protected void append(ILoggingEvent e) {
      lines.add(
          e.getLoggerName()
              + " "
              + e.getFormattedMessage()
              + (e.getThrowableProxy() == null
                  ? ""
                  : "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy())));
    }
  }

  @Test
  void noSecretAppearsInLogsErrorsOrMetrics(@TempDir Path dir) throws Exception {
    String random = UUID.randomUUID().toString().replace("-", "");
    String secretKey = "sk_test_" + random;
    String liveKey = "sk_live_" + random;
    String webhookSecret = "whsec_" + random;
    String token = "tok-" + random;
    String strangerToken = "stranger-" + random;
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "ops admin " + TokenStore.sha256Hex(token) + "\n");

    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Capture capture = new Capture();
    capture.setContext(context);
    capture.start();
    root.addAppender(capture);
    List<String> errors = new ArrayList<>();
    StripeEmulator stripe =
        new StripeEmulator(
            0,
            Catalog.defaults("price_pro", "price_studio"),
            webhookSecret,
            Clock.systemUTC(),
            Duration.ofMillis(50));
    stripe.start();
    try {
      var db = TestDatabase.fresh();
      Map<String, String> env =
          Map.of(
              "STRIPE_SECRET_KEY",
              secretKey,
              "STRIPE_WEBHOOK_SECRET",
              webhookSecret,
              "STRIPE_API_BASE",
              stripe.apiBase(),
              "BILLING_TOKENS_FILE",
              tokens.toString(),
              "BILLING_LOG_LEVEL",
              "DEBUG");
      try (TestServer server = TestServer.start(db, env)) {
        stripe.setWebhookEndpoint(server.url("/webhooks/stripe").toString());
        long t = Instant.now().getEpochSecond();
        String payload =
            StripeFixtures.subscriptionEvent(
                "evt_leak",
                "customer.subscription.created",
                t,
                Sub.of("sub_leak", "cus_leak", "leak-user", "price_pro", "active"));
        errors.add(server.post(payload, WebhookSigner.header(payload, webhookSecret, t)).body());
        errors.add(
            server.post(payload, WebhookSigner.header(payload, "whsec_" + random + "x", t)).body());
        errors.add(server.post(payload, "t=" + t + ",v1=" + webhookSecret).body());
        errors.add(server.post(payload, null).body());
        try (BillingClient ok =
                BillingClient.builder(server.grpcTarget()).bearerToken(token).build();
            BillingClient stranger =
                BillingClient.builder(server.grpcTarget()).bearerToken(strangerToken).build()) {
          ok.getEntitlement("leak-user");
          var co =
              ok.createCheckout(
                  CreateCheckoutRequest.newBuilder()
                      .setUserId("leak-buyer")
                      .setMode(CheckoutMode.CHECKOUT_MODE_CREDITS)
                      .setCreditPackage("credits_500")
                      .setIdempotencyKey("k1")
                      .build());
          server.pay(co.getUrl(), "4000000000009995", null);
          errors.add(message(() -> stranger.getEntitlement("leak-user")));
          errors.add(message(() -> ok.grantCredits("bad user", -1, "", null)));
        }
        errors.add(server.get("/metrics").body());
      }
      // The same with a live key Stripe rejects: the authentication failure must not echo the key.
      Files.writeString(tokens, "ops admin " + TokenStore.sha256Hex(token) + "\n");
      try (TestServer live =
              TestServer.start(
                  TestDatabase.fresh(),
                  Map.of(
                      "STRIPE_SECRET_KEY",
                      liveKey,
                      "STRIPE_WEBHOOK_SECRET",
                      webhookSecret,
                      "STRIPE_API_BASE",
                      stripe.apiBase(),
                      "BILLING_TOKENS_FILE",
                      tokens.toString()));
          BillingClient ok = BillingClient.builder(live.grpcTarget()).bearerToken(token).build()) {
        errors.add(
            message(
                () ->
                    ok.createCheckout(
                        CreateCheckoutRequest.newBuilder()
                            .setUserId("leak-user")
                            .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
                            .setPlan("pro")
                            .setIdempotencyKey("k2")
                            .build())));
        assertThat(errors.getLast()).contains("INTERNAL");
      }
    } finally {
      root.detachAppender(capture);
      stripe.close();
    }
    List<String> everything = new ArrayList<>(capture.lines);
    everything.addAll(errors);
    assertThat(capture.lines).isNotEmpty();
    for (String line : everything) {
      assertThat(line).doesNotContain(random);
      assertThat(line).doesNotContain(token).doesNotContain(strangerToken);
    }
  }

  private static String message(Runnable r) {
    try {
      r.run();
      return "";
    } catch (RuntimeException e) {
      return String.valueOf(e.getMessage());
    }
  }
}
