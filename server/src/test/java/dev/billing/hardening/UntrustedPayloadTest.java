package dev.billing.hardening;

import static dev.billing.testing.StripeFixtures.checkoutSessionObject;
import static dev.billing.testing.StripeFixtures.event;
import static dev.billing.testing.StripeFixtures.invoiceObject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stripe objects this service did not create, and values out of bounds, are stored, audited and
 * ignored with a reason; nothing is silently cut (issue 11's findings from real payloads).
 */
class UntrustedPayloadTest {
  private static final String V = StripeFixtures.CURRENT_API_VERSION;
  private static TestServer server;

  @BeforeAll
  static void start() {
    server =
        TestServer.start(TestDatabase.fresh(), Map.of("BILLING_PLACEHOLDER_CONFIRM_AFTER", "1s"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String id(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 14);
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  private static void post(String payload) {
    assertThat(server.postSigned(payload).statusCode()).isEqualTo(200);
  }

  /** Posts checkout.session.completed carrying {@code session}; returns the event's id. */
  private static String completed(JsonObject session) {
    String eventId = id("evt_");
    post(event(eventId, "checkout.session.completed", now(), session, V));
    return eventId;
  }

  private static long balance(String user) {
    return server.client().getEntitlement(user).getCreditBalance();
  }

  private static long ignored(String eventId) {
    return server.queryLong(
        "SELECT COUNT(*) FROM audit_log WHERE stripe_event_id = ? AND action IN"
            + " ('payment.ignored', 'event.ignored')",
        eventId);
  }

  /** A customer this service knows (a subscriber). */
  private static String knownCustomer(String user) {
    String customer = id("cus_");
    post(
        StripeFixtures.subscriptionEvent(
            id("evt_"),
            "customer.subscription.created",
            now(),
            Sub.of(id("sub_"), customer, user, "price_pro", "active")));
    return customer;
  }

  private static JsonObject paidSession(
      String user, String customer, String paymentId, long amount, String currency) {
    JsonObject s =
        checkoutSessionObject(
            id("cs_"), "payment", customer, user, null, id("pi_"), amount, "paid", null);
    s.addProperty("currency", currency);
    if (paymentId != null) {
      s.getAsJsonObject("metadata").addProperty("payment_id", paymentId);
    }
    return s;
  }

  @Test
  void aPaidSessionThisServiceNeverCreatedGrantsNothingWhateverItsCurrency() {
    String user = id("u_");
    String customer = knownCustomer(user);
    String usd = completed(paidSession(user, customer, null, 999, "usd"));
    String eur = completed(paidSession(user, customer, null, 999, "eur"));
    assertThat(balance(user)).isZero();
    assertThat(ignored(usd)).isEqualTo(1);
    assertThat(ignored(eur)).isEqualTo(1);
    assertThat(server.queryLong("SELECT COUNT(*) FROM payments WHERE user_id = ?", user)).isZero();
  }

  @Test
  void aPurchaseWeStartedIsCreditedOnlyForWhatItSold() {
    String user = id("u_");
    String customer = knownCustomer(user);
    String payment = "pay_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    server.pendingPurchase(payment, user, null, 1000, 1000);
    String eur = completed(paidSession(user, customer, payment, 1000, "eur"));
    String other = completed(paidSession(user, customer, payment, 10, "usd"));
    assertThat(balance(user)).isZero();
    assertThat(ignored(eur)).isEqualTo(1);
    assertThat(ignored(other)).isEqualTo(1);
    completed(paidSession(user, customer, payment, 1000, "usd"));
    assertThat(balance(user)).isEqualTo(1000);
  }

  @Test
  void hugeNegativeAndFractionalAmountsAreIgnoredWithAReason() {
    String user = id("u_");
    String customer = knownCustomer(user);
    String payment = "pay_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    server.pendingPurchase(payment, user, null, 1000, 1000);
    for (String amount : new String[] {"1e30", "-500", "12.5"}) {
      JsonObject s = paidSession(user, customer, payment, 0, "usd");
      s.add("amount_total", com.google.gson.JsonParser.parseString(amount));
      assertThat(ignored(completed(s))).as(amount).isEqualTo(1);
    }
    assertThat(balance(user)).isZero();
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM payments WHERE user_id = ? AND status <> 'pending'", user))
        .isZero();
  }

  @Test
  void aOneOffInvoiceIsNotASubscriptionPayment() {
    String user = id("u_");
    String customer = knownCustomer(user);
    JsonObject invoice = invoiceObject(id("in_"), null, customer, user, 5000, true, null);
    invoice.remove("parent");
    String evt = id("evt_");
    post(event(evt, "invoice.paid", now(), invoice, V));
    assertThat(ignored(evt)).isEqualTo(1);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM payments WHERE invoice_id = ?",
                invoice.get("id").getAsString()))
        .isZero();
  }

  @Test
  void longIdsAndMalformedCurrenciesAreRefusedNotCut() {
    String user = id("u_");
    String longId = "sub_" + "x".repeat(300);
    String evt = id("evt_");
    post(
        StripeFixtures.subscriptionEvent(
            evt,
            "customer.subscription.created",
            now(),
            Sub.of(longId, id("cus_"), user, "price_pro", "active")));
    assertThat(ignored(evt)).isEqualTo(1);
    assertThat(server.queryLong("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", user))
        .isZero();
    assertThat(server.queryString("SELECT status FROM stripe_events WHERE id = ?", evt))
        .isEqualTo("processed");

    String customer = knownCustomer(user);
    String bad = completed(paidSession(user, customer, null, 999, "usdollars!"));
    assertThat(ignored(bad)).isEqualTo(1);
    assertThat(server.queryLong("SELECT COUNT(*) FROM payments WHERE user_id = ?", user)).isZero();
  }

  @Test
  void everyConnectionRunsInStrictSqlMode() {
    assertThat(server.queryString("SELECT @@SESSION.sql_mode")).contains("STRICT_ALL_TABLES");
  }

  @Test
  void aCheckoutPlaceholderThatNoSubscriptionFollowsEndsOnceStripeSaysItDoesNotExist() {
    String user = id("u_");
    completed(
        checkoutSessionObject(
            id("cs_"), "subscription", id("cus_"), user, id("sub_"), null, 1900, "paid", "pro"));
    // Nothing follows; the emulator (Stripe) has no such subscription.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                server.client().getEntitlement(user).getStatus()
                    != SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    assertThat(server.client().getEntitlement(user).getTier()).isEqualTo("free");
  }

  @Test
  void contentTypesOtherThanJsonAreRefused() {
    String body =
        StripeFixtures.subscriptionEvent(
            id("evt_"),
            "customer.subscription.created",
            now(),
            Sub.of(id("sub_"), id("cus_"), id("u_"), "price_pro", "active"));
    for (String type :
        new String[] {"application/jsonx", "application/json-patch+json", "text/json"}) {
      HttpRequest r =
          HttpRequest.newBuilder(server.url("/webhooks/stripe"))
              .header("Content-Type", type)
              .header(
                  "Stripe-Signature",
                  dev.billing.stripe.WebhookSigner.header(
                      body, StripeFixtures.WEBHOOK_SECRET, now()))
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
      assertThat(server.send(r).statusCode()).as(type).isEqualTo(415);
    }
    HttpRequest ok =
        HttpRequest.newBuilder(server.url("/webhooks/stripe"))
            .header("Content-Type", "application/json; charset=utf-8")
            .header(
                "Stripe-Signature",
                dev.billing.stripe.WebhookSigner.header(body, StripeFixtures.WEBHOOK_SECRET, now()))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    assertThat(server.send(ok).statusCode()).isEqualTo(200);
  }

  private static String sign(byte[] body, long t) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(
        new SecretKeySpec(
            StripeFixtures.WEBHOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
    return "t=" + t + ",v1=" + HexFormat.of().formatHex(mac.doFinal(body));
  }

  @Test
  void aSignedBodyThatIsNotUtf8IsAnInvalidEventNotABadSignature() throws Exception {
    String json =
        StripeFixtures.subscriptionEvent(
            id("evt_"),
            "customer.subscription.created",
            now(),
            Sub.of(id("sub_"), id("cus_"), id("u_"), "price_pro", "active"));
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(utf8, 0, utf8.length - 1);
    bytes.write(new byte[] {(byte) 0xC3, (byte) 0x28}); // an invalid two-byte sequence
    bytes.write('}');
    byte[] body = bytes.toByteArray();
    var response =
        server.send(
            HttpRequest.newBuilder(server.url("/webhooks/stripe"))
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", sign(body, now()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("invalid_event").contains("UTF-8");
    // The same bytes with a wrong signature are a bad signature.
    var forged =
        server.send(
            HttpRequest.newBuilder(server.url("/webhooks/stripe"))
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", sign(utf8, now()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    assertThat(forged.statusCode()).isEqualTo(400);
    assertThat(forged.body()).contains("invalid_signature");
  }

  @Test
  void aChunkedBodyOverOneMebibyteIsAnswered413() throws IOException {
    try (Socket socket = new Socket("localhost", server.server().httpPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + "Stripe-Signature: t=1,v1=00\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) ' ');
      // Sent while the answer is read, as an HTTP client does: 1.06 MiB, never finished.
      Thread sender =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < 17; i++) {
                        out.write(
                            (Integer.toHexString(chunk.length) + "\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        out.write(chunk);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                      }
                      out.flush();
                    } catch (IOException closedEarly) {
                      // The server stops reading once it has answered; its answer is what counts.
                    }
                  });
      InputStream in = socket.getInputStream();
      StringBuilder line = new StringBuilder();
      for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
        line.append((char) c);
      }
      assertThat(line.toString()).startsWith("HTTP/1.1 413");
      sender.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
