package dev.billing.transport.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server: BillingService, plus health and server reflection (v1 and v1alpha) so grpcurl
 * and {@code buf curl} work with no proto files. Built from an injected {@link ServerBuilder}:
 * production passes a Netty builder, tests an in-process one.
 */
public final class GrpcServer implements AutoCloseable {
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Duration shutdownGrace;

  @SuppressWarnings(
      "deprecation") // ProtoReflectionService serves v1alpha, which older grpcurl builds use.
  public GrpcServer(
      ServerBuilder<?> builder,
      BindableService billing,
      List<ServerInterceptor> interceptors,
      Duration shutdownGrace) {
    this.shutdownGrace = shutdownGrace;
    this.server =
        builder
            .addService(ServerInterceptors.intercept(billing, interceptors))
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(ProtoReflectionService.newInstance())
            .addService(health.getHealthService())
            .build();
  }

  /**
   * Starts taking calls, its health (grpc.health.v1) SERVING or NOT_SERVING from the first call on
   * (set before the port opens: a check in between would find the service unknown).
   */
  public void start(boolean serving) throws IOException {
    setServing(serving);
    server.start();
  }

  /** -1 for in-process servers. */
  public int port() {
    return server.getPort();
  }

  /** Stops taking calls, lets running calls finish within the grace period, then cancels them. */
  /** Readiness for grpc.health.v1: NOT_SERVING while the database is unreachable. */
  public void setServing(boolean serving) {
    ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus("", status);
    health.setStatus("billing.v1.BillingService", status);
  }

  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
