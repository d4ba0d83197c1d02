package dev.billing.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.persistence.DatabaseHealth;
import dev.billing.testing.TestDatabase;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.undertow.server.HttpHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class HttpServerTest {
  private static final HttpClient client = HttpClient.newHttpClient();

  @Test
  void aLoopbackTwinServesOnTheServersThreadsAndClosingItLeavesThemRunning() throws Exception {
    DatabaseHealth health = TestDatabase.unprobedHealth();
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicReference<String> mainThread = new AtomicReference<>();
    HttpHandler main =
        exchange -> {
          mainThread.set(Thread.currentThread().getName());
          exchange.getResponseSender().send("main");
        };
    HttpHandler twinHandler =
        exchange -> exchange.getResponseSender().send(Thread.currentThread().getName());
    HttpServer server = new HttpServer("127.0.0.1", 0, main, health, metrics);
    try {
      HttpServer twin = server.loopbackTwin(twinHandler);
      twin.start();
      String thread = post(twin.port());
      twin.close();
      assertThat(thread).startsWith("XNIO-");

      server.start();
      assertThat(post(server.port())).isEqualTo("main");
      // The twin answered on one of the threads that serve the server's connections: the same
      // XNIO worker ("XNIO-<n> I/O-<k>"), still running after the twin closed.
      assertThat(ioThreads()).contains(thread);
      assertThat(workerOf(thread)).isEqualTo(workerOf(mainThread.get()));
    } finally {
      server.close();
    }
  }

  @Test
  void closingTheServerEndsItsThreads() throws Exception {
    Set<String> before = ioThreads();
    HttpServer server =
        new HttpServer(
            "127.0.0.1",
            0,
            exchange -> exchange.getResponseSender().send("ok"),
            TestDatabase.unprobedHealth(),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    server.start();
    assertThat(post(server.port())).isEqualTo("ok");
    Set<String> serving = ioThreads();
    serving.removeAll(before);
    assertThat(serving).isNotEmpty();
    server.close();
    // close() waits for the worker to shut down; its threads then return from run().
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(ioThreads()).doesNotContainAnyElementsOf(serving));
  }

  private static String post(int port) throws Exception {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/stripe"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** The worker part of an XNIO thread's name ("XNIO-3" of "XNIO-3 I/O-1"). */
  private static String workerOf(String thread) {
    return thread.substring(0, thread.indexOf(' '));
  }

  /** The live XNIO I/O threads' names. */
  private static Set<String> ioThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("XNIO-") && n.contains("I/O"))
        .collect(Collectors.toSet());
  }
}
