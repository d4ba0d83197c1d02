package dev.billing.domain.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.client.ChangeListener;
import dev.billing.client.ChangeSubscription;
import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two server processes on one database: change_log is the bus. A webhook posted to replica A
 * reaches a subscriber of replica B, and B's GetEntitlement reflects it, within a second.
 */
class MultiReplicaTest {
  private static TestServer replicaA;
  private static Process replicaB;
  private static int bGrpc;
  private static int bHttp;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    DatabaseConfig db = TestDatabase.fresh();
    replicaA = TestServer.start(db, Map.of());
    bGrpc = freePort();
    bHttp = freePort();
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                classpath,
                "dev.billing.Main")
            .redirectErrorStream(true)
            .redirectOutput(new File("target/replica-b.log"));
    Map<String, String> env = pb.environment();
    env.putAll(TestServer.env(db, Map.of()).asMap());
    env.put("BILLING_GRPC_PORT", Integer.toString(bGrpc));
    env.put("BILLING_HTTP_PORT", Integer.toString(bHttp));
    // B talks to A's emulator rather than starting its own.
    env.put("STRIPE_API_BASE", replicaA.emulator().apiBase());
    replicaB = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () ->
                http.send(
                            HttpRequest.newBuilder(
                                    URI.create("http://localhost:" + bHttp + "/healthz"))
                                .build(),
                            HttpResponse.BodyHandlers.ofString())
                        .statusCode()
                    == 200);
  }

  @AfterAll
  static void stop() throws Exception {
    if (replicaB != null) {
      replicaB.destroy(); // SIGTERM: graceful shutdown
      if (!replicaB.waitFor(20, TimeUnit.SECONDS)) {
        replicaB.destroyForcibly();
      }
    }
    replicaA.close();
  }

  @Test
  void aWebhookOnReplicaAReachesASubscriberAndTheCacheOfReplicaB() throws Exception {
    String user = "replica-user";
    try (BillingClient onB =
        BillingClient.builder("localhost:" + bGrpc)
            .bearerToken(TestServer.ADMIN_TOKEN)
            .deadline(Duration.ofSeconds(5))
            .build()) {
      assertThat(onB.getEntitlement(user).getTier())
          .isEqualTo("free"); // B caches the free snapshot
      BlockingQueue<SubscriptionChange> received = new LinkedBlockingQueue<>();
      CountDownLatch connected = new CountDownLatch(1);
      ChangeSubscription subscription =
          onB.subscribe(
              null,
              List.of(user),
              List.of(),
              new ChangeListener() {
                @Override
                public void onChange(SubscriptionChange change) {
                  received.add(change);
                }

                @Override
                public void onCursor(long seq) {
                  connected.countDown();
                }
              });
      assertThat(connected.await(10, TimeUnit.SECONDS)).isTrue();

      long posted = System.nanoTime();
      Sub sub = Sub.of("sub_replica", "cus_replica", user, "price_studio", "active");
      assertThat(
              replicaA
                  .postSigned(
                      StripeFixtures.subscriptionEvent(
                          "evt_replica",
                          "customer.subscription.created",
                          Instant.now().getEpochSecond(),
                          sub))
                  .statusCode())
          .isEqualTo(200);
      SubscriptionChange change = received.poll(1, TimeUnit.SECONDS);
      assertThat(change)
          .as("the change reached replica B's subscriber within a second")
          .isNotNull();
      assertThat(change.getEntitlement().getTier()).isEqualTo("studio");
      assertThat(change.getStripeEventId()).isEqualTo("evt_replica");
      long reachedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - posted);
      await()
          .atMost(Duration.ofSeconds(1))
          .until(() -> onB.getEntitlement(user).getTier().equals("studio"));
      System.out.println("replica A webhook -> replica B subscriber: " + reachedMillis + " ms");
      subscription.close();
    }
  }
}
