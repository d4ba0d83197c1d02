package dev.billing.stripe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import dev.billing.config.Catalog;
import dev.billing.stripe.emulator.StripeEmulator;
import dev.billing.stripe.emulator.TriggerCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The emulator delivers signed webhooks and retries while the endpoint answers non-2xx. */
class EmulatorWebhookDeliveryTest {
  private static final String SECRET = "whsec_delivery_test";
  private StripeEmulator emulator;
  private HttpServer endpoint;
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private final List<String> types = new CopyOnWriteArrayList<>();
  private final AtomicInteger badSignatures = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    SignatureVerifier verifier =
        new SignatureVerifier(List.of(SECRET), Duration.ofMinutes(5), Clock.systemUTC());
    endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    endpoint.createContext(
        "/webhooks/stripe",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          try {
            verifier.verify(body, exchange.getRequestHeaders().getFirst("Stripe-Signature"));
          } catch (Exception e) {
            badSignatures.incrementAndGet();
          }
          var event = JsonParser.parseString(body).getAsJsonObject();
          int n =
              attempts
                  .computeIfAbsent(event.get("id").getAsString(), k -> new AtomicInteger())
                  .incrementAndGet();
          if (n == 1) {
            types.add(event.get("type").getAsString());
          }
          int status = n <= 2 ? 500 : 200; // fail twice, like a service that is restarting
          exchange.sendResponseHeaders(status, -1);
          exchange.close();
        });
    endpoint.start();
    emulator =
        new StripeEmulator(
            0,
            Catalog.defaults("price_pro", "price_studio"),
            SECRET,
            Clock.systemUTC(),
            Duration.ofMillis(20));
    emulator.start();
    emulator.setWebhookEndpoint(
        "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/webhooks/stripe");
  }

  @AfterEach
  void stop() {
    emulator.close();
    endpoint.stop(0);
  }

  @Test
  void triggeredEventsAreSignedDeliveredAndRetriedUntilAccepted() {
    StringWriter out = new StringWriter();
    int exit =
        new CommandLine(new TriggerCommand())
            .setOut(new PrintWriter(out))
            .execute(
                "--event",
                "invoice.payment_failed",
                "--user",
                "u-trigger",
                "--emulator",
                emulator.apiBase());
    assertThat(exit).isZero();
    // The command lists the event ids it made the emulator emit, one per indented line.
    Set<String> emitted =
        out.toString()
            .lines()
            .filter(l -> l.startsWith("  "))
            .map(l -> l.trim().split(" ")[1])
            .collect(Collectors.toSet());
    assertThat(emitted).isNotEmpty();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                attempts.keySet().equals(emitted)
                    && attempts.values().stream().allMatch(a -> a.get() == 3)
                    && emulator.deliveredWebhooks() == emitted.size());
    assertThat(types)
        .contains(
            "customer.subscription.created",
            "invoice.payment_failed",
            "customer.subscription.updated");
    assertThat(badSignatures.get()).isZero();
    assertThat(emulator.deliveredWebhooks()).isEqualTo(emitted.size());
    assertThat(emulator.failedWebhookAttempts()).isEqualTo(2L * emitted.size());
  }

  @Test
  void unknownEventTypesAreRefusedWithTheSupportedList() {
    int exit =
        new CommandLine(new TriggerCommand())
            .execute(
                "--event", "balance.available", "--user", "u1", "--emulator", emulator.apiBase());
    assertThat(exit).isEqualTo(1);
  }
}
