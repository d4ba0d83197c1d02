package dev.billing.transport.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Which thread runs a call. The server's own executor is direct, so a call is looked up and started
 * on the transport thread; the read-only hot-path RPCs stay there (their work is a token check and
 * a lookup in memory, and a cache miss is handed to a separate loader pool, so nothing blocks the
 * event loop), and every other RPC, which may wait on the database or on Stripe, moves to a pool.
 * (With a pool as the server's executor, grpc-java looks every call up on that pool first, so even
 * the hot path paid a thread hand-off.) Use with {@code directExecutor()}.
 */
public final class HotPathExecutors implements ServerCallExecutorSupplier {
  private static final Set<String> HOT =
      Set.of(
          "billing.v1.BillingService/GetEntitlement",
          "billing.v1.BillingService/CheckUsage",
          "billing.v1.BillingService/ListPlans",
          "billing.v1.BillingService/ListCreditPackages");

  /**
   * A virtual thread per call: a call that waits on the database or Stripe holds no platform
   * thread, so thousands of streams opening at once (or calls waiting out an outage) cost no OS
   * thread each.
   */
  private static final Executor BLOCKING =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("grpc-call-", 0).factory());

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    return HOT.contains(call.getMethodDescriptor().getFullMethodName()) ? null : BLOCKING;
  }
}
