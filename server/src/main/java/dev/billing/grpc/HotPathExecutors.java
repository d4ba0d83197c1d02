package dev.billing.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Runs the read-only hot-path RPCs on the transport thread (no thread hand-off): their work is a
 * token check and a lookup in memory, and a cache miss is handed to a separate loader pool, so
 * nothing blocks the event loop. Every other RPC uses the server's default executor.
 */
public final class HotPathExecutors implements ServerCallExecutorSupplier {
  private static final Executor DIRECT = Runnable::run;
  private static final Set<String> HOT =
      Set.of(
          "billing.v1.BillingService/GetEntitlement",
          "billing.v1.BillingService/ListPlans",
          "billing.v1.BillingService/ListCreditPackages");

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    return HOT.contains(call.getMethodDescriptor().getFullMethodName()) ? DIRECT : null;
  }
}
