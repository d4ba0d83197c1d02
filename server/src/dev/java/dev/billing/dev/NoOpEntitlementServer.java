package dev.billing.dev;

import com.google.protobuf.Timestamp;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.proto.v1.GetEntitlementResponse;
import dev.billing.proto.v1.SubscriptionStatus;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;

/**
 * The ceiling {@code make bench BENCH_ARGS=--ceiling} compares GetEntitlement with, as DESIGN.md
 * defines it: a no-op grpc-java unary call answering a reply built once from constants, with no
 * authentication, cache or database. {@code java ... NoOpEntitlementServer <port>}.
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
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
            .directExecutor()
            .addService(
                new BillingServiceGrpc.BillingServiceImplBase() {
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
    System.out.println("no-op GetEntitlement server on " + server.getPort());
    server.awaitTermination();
  }
}
