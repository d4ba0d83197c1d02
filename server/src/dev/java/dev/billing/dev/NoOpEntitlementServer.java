package dev.billing.dev;

import com.google.protobuf.Timestamp;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.proto.v1.GetEntitlementResponse;
import dev.billing.proto.v1.GrantCreditsRequest;
import dev.billing.proto.v1.GrantCreditsResponse;
import dev.billing.proto.v1.Heartbeat;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import dev.billing.proto.v1.SubscriptionChange;
import dev.billing.proto.v1.SubscriptionStatus;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The references {@code make bench BENCH_ARGS=--ceiling} compares the service with, as DESIGN.md
 * defines them: GetEntitlement as a no-op grpc-java unary call answering a reply built once from
 * constants (no authentication, cache or database), and change delivery as a bare grpc-java
 * broadcast: each GrantCredits sends one prebuilt change to every open StreamSubscriptionChanges
 * call with {@code onNext}, in the calling thread (no log, queue, filter or flow control). {@code
 * java ... NoOpEntitlementServer <port>}.
 */
public final class NoOpEntitlementServer {
  private NoOpEntitlementServer() {}

  public static void main(String[] args) throws Exception {
    GetEntitlementResponse reply =
        GetEntitlementResponse.newBuilder()
            .setEntitlement(
                Entitlement.newBuilder()
                    .setUserId("bench-user")
                    .setTier("pro")
                    .setStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE)
                    .addFeatures("exports")
                    .addFeatures("api")
                    .putLimits("projects", 50)
                    .setCreditBalance(1000)
                    .setCurrentPeriodEnd(Timestamp.newBuilder().setSeconds(1_800_000_000L))
                    .setTrialEnd(Timestamp.newBuilder().setSeconds(1_790_000_000L))
                    .setCancelAtPeriodEnd(false)
                    .setPaymentProblem(false)
                    .setVersion(7)
                    .setSubscriptionId("sub_bench"))
            .build();
    StreamSubscriptionChangesResponse hello =
        StreamSubscriptionChangesResponse.newBuilder()
            .setHeartbeat(Heartbeat.newBuilder().setLastSeq(0))
            .build();
    List<ServerCallStreamObserver<StreamSubscriptionChangesResponse>> streams =
        new CopyOnWriteArrayList<>();
    AtomicLong seq = new AtomicLong();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
            .directExecutor()
            .addService(
                new BillingServiceGrpc.BillingServiceImplBase() {
                  @Override
                  public void streamSubscriptionChanges(
                      StreamSubscriptionChangesRequest request,
                      StreamObserver<StreamSubscriptionChangesResponse> responses) {
                    var stream =
                        (ServerCallStreamObserver<StreamSubscriptionChangesResponse>) responses;
                    stream.setOnCancelHandler(() -> streams.remove(stream));
                    synchronized (stream) {
                      stream.onNext(hello); // the bench counts a stream as connected on this
                    }
                    streams.add(stream);
                  }

                  @Override
                  public void grantCredits(
                      GrantCreditsRequest request, StreamObserver<GrantCreditsResponse> responses) {
                    StreamSubscriptionChangesResponse message =
                        StreamSubscriptionChangesResponse.newBuilder()
                            .setChange(
                                SubscriptionChange.newBuilder()
                                    .setSeq(seq.incrementAndGet())
                                    .setUserId(request.getUserId())
                                    .setKind(ChangeKind.CHANGE_KIND_CREDITS_CHANGED)
                                    .setEntitlement(reply.getEntitlement()))
                            .build();
                    for (var stream : streams) {
                      synchronized (stream) {
                        stream.onNext(message);
                      }
                    }
                    responses.onNext(GrantCreditsResponse.newBuilder().setBalance(1).build());
                    responses.onCompleted();
                  }

                  @Override
                  public void getEntitlement(
                      GetEntitlementRequest request,
                      StreamObserver<GetEntitlementResponse> responses) {
                    responses.onNext(reply);
                    responses.onCompleted();
                  }
                })
            .build()
            .start();
    System.out.println("no-op reference server on " + server.getPort());
    server.awaitTermination();
  }
}
