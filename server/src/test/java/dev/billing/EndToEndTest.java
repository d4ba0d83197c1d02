package dev.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.client.BillingClient;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.GrantCreditsResponse;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.proto.v1.SubscriptionStatus;
import dev.billing.testing.GrpcErrors;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole loop on real parts: a started server (Netty gRPC, Undertow), the embedded MariaDB,
 * signed Stripe-shaped webhooks, and the client-stub's BillingClient.
 */
class EndToEndTest {
  private static TestServer server;
  private static BillingClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(TestDatabase.fresh(), Map.of("BILLING_STREAM_HEARTBEAT", "100ms"));
    client =
        BillingClient.builder(server.grpcTarget())
            .bearerToken(TestServer.ADMIN_TOKEN)
            .deadline(Duration.ofSeconds(5))
            .build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void aSubscriptionWebhookReachesGetEntitlementAndAConnectedStream() throws Exception {
    String user = "e2e-user-1";
    BlockingQueue<StreamSubscriptionChangesResponse> received = new LinkedBlockingQueue<>();
    CountDownLatch connected = new CountDownLatch(1);
    client.streamChanges(
        StreamSubscriptionChangesRequest.newBuilder().addUserIds(user).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(StreamSubscriptionChangesResponse value) {
            connected.countDown();
            received.add(value);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    // The first heartbeat proves the stream is registered before the webhook is sent.
    assertThat(connected.await(10, TimeUnit.SECONDS)).isTrue();

    assertThat(client.getEntitlement(user).getTier()).isEqualTo("free");

    long now = Instant.now().getEpochSecond();
    Sub sub =
        Sub.of("sub_e2e_1", "cus_e2e_1", user, "price_pro", "trialing")
            .withTrialEnd(now + 14 * 86400)
            .withPeriodEnd(now + 14 * 86400);
    String payload =
        StripeFixtures.subscriptionEvent("evt_e2e_1", "customer.subscription.created", now, sub);
    assertThat(server.postSigned(payload).statusCode()).isEqualTo(200);

    Entitlement e = client.getEntitlement(user);
    assertThat(e.getTier()).isEqualTo("pro");
    assertThat(e.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);
    assertThat(e.getFeaturesList()).contains("priority_support", "advanced_analytics");
    assertThat(e.getLimitsMap()).containsEntry("monthly_limit", 100L);
    assertThat(e.getTrialEnd().getSeconds()).isEqualTo(now + 14 * 86400);
    assertThat(e.getCurrentPeriodEnd().getSeconds()).isEqualTo(now + 14 * 86400);
    assertThat(e.getVersion()).isEqualTo(1);

    SubscriptionChange change = nextChange(received);
    assertThat(change.getUserId()).isEqualTo(user);
    assertThat(change.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_TRIAL_STARTED);
    assertThat(change.getPreviousTier()).isEqualTo("free");
    assertThat(change.getEntitlement()).isEqualTo(e);
    assertThat(change.getStripeEventId()).isEqualTo("evt_e2e_1");
    assertThat(change.getSeq()).isPositive();

    // Redelivery: acknowledged, no second effect, nothing new on the stream.
    assertThat(server.postSigned(payload).body()).contains("duplicate");
    assertThat(client.getEntitlement(user).getVersion()).isEqualTo(1);

    // Credits: ledger + balance, idempotent, visible in the entitlement and on the stream.
    GrantCreditsResponse granted = client.grantCredits(user, 1000, "grant-e2e-1", "welcome");
    GrantCreditsResponse replay = client.grantCredits(user, 1000, "grant-e2e-1", "welcome");
    assertThat(granted.getBalance()).isEqualTo(1000);
    assertThat(replay.getReplayed()).isTrue();
    assertThat(replay.getTransactionId()).isEqualTo(granted.getTransactionId());
    assertThat(client.getEntitlement(user).getCreditBalance()).isEqualTo(1000);
    SubscriptionChange credits = nextChange(received);
    assertThat(credits.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_CREDITS_CHANGED);
    assertThat(credits.getSeq()).isGreaterThan(change.getSeq());
    assertThat(credits.getEntitlement().getVersion()).isEqualTo(2);
    assertThat(credits.getEntitlement().getTier()).isEqualTo("pro");
  }

  @Test
  void aStreamResumesFromACursorWithoutGapsOrDuplicates() throws Exception {
    String user = "e2e-user-resume";
    for (int i = 0; i < 3; i++) {
      client.grantCredits(user, 10, "resume-" + i, null);
    }
    long firstSeq = server.queryLong("SELECT MIN(seq) FROM change_log WHERE user_id = ?", user);
    BlockingQueue<StreamSubscriptionChangesResponse> received = new LinkedBlockingQueue<>();
    client.streamChanges(
        StreamSubscriptionChangesRequest.newBuilder()
            .setAfterSeq(firstSeq)
            .addUserIds(user)
            .build(),
        collect(received));
    SubscriptionChange a = nextChange(received);
    SubscriptionChange b = nextChange(received);
    assertThat(a.getEntitlement().getCreditBalance()).isEqualTo(20);
    assertThat(b.getEntitlement().getCreditBalance()).isEqualTo(30);
    client.grantCredits(user, 10, "resume-3", null);
    SubscriptionChange live = nextChange(received);
    assertThat(live.getEntitlement().getCreditBalance()).isEqualTo(40);
    assertThat(live.getSeq()).isGreaterThan(b.getSeq());
  }

  @Test
  void aNeverPayingUserIsFreeNotAnError() {
    Entitlement e = client.getEntitlement("never-paid");
    assertThat(e.getTier()).isEqualTo("free");
    assertThat(e.getStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_NONE);
    assertThat(e.getVersion()).isZero();
  }

  @Test
  void badInputIsInvalidArgumentWithFieldDetails() {
    StatusRuntimeException e =
        GrpcErrors.statusOf(() -> client.grantCredits("bad user id!", -5, "", null));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(GrpcErrors.fieldViolations(e))
        .containsExactlyInAnyOrder("user_id", "amount", "idempotency_key");

    assertThatThrownBy(() -> client.getEntitlement(""))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            s -> assertThat(s.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    // A checkout without mode or idempotency key is refused before anything reaches Stripe.
    assertThatThrownBy(
            () -> client.createCheckout(CreateCheckoutRequest.newBuilder().setUserId("u").build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            s -> assertThat(s.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    // The server is still up.
    assertThat(client.getEntitlement("still-up").getTier()).isEqualTo("free");
  }

  @Test
  void healthReflectionHealthzAndMetricsAreOn() throws Exception {
    ManagedChannel channel =
        ManagedChannelBuilder.forTarget(server.grpcTarget()).usePlaintext().build();
    try {
      HealthCheckResponse health =
          HealthGrpc.newBlockingStub(channel)
              .check(
                  HealthCheckRequest.newBuilder().setService("billing.v1.BillingService").build());
      assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

      BlockingQueue<ServerReflectionResponse> replies = new LinkedBlockingQueue<>();
      var requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(collect(replies));
      requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
      ServerReflectionResponse listed = replies.poll(10, TimeUnit.SECONDS);
      requests.onCompleted();
      assertThat(listed).isNotNull();
      assertThat(listed.getListServicesResponse().getServiceList())
          .extracting(s -> s.getName())
          .contains("billing.v1.BillingService", "grpc.health.v1.Health");
    } finally {
      channel.shutdownNow();
    }
    assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
    var metrics = server.get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("billing_webhook_events_total")
        .contains("jvm_memory_used_bytes");
  }

  private static <T> StreamObserver<T> collect(BlockingQueue<T> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  private static SubscriptionChange nextChange(BlockingQueue<StreamSubscriptionChangesResponse> q)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      StreamSubscriptionChangesResponse r = q.poll(100, TimeUnit.MILLISECONDS);
      if (r != null && r.hasChange()) {
        return r.getChange();
      }
    }
    throw new AssertionError("no change arrived within 10 s");
  }
}
