package dev.billing.transport.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Which thread runs a call. The server's own executor is direct, so a call is looked up and started
 * on the transport thread; the read-only hot-path RPCs stay there (their work is a token check and
 * a lookup in memory, and a cache miss is handed to a separate loader pool, so nothing blocks the
 * event loop), and every other RPC, which may wait on the database or on Stripe, moves to a pool.
 * (With a pool as the server's executor, grpc-java looks every call up on that pool first, so even
 * the hot path paid a thread hand-off.) Use with {@code directExecutor()}.
 *
 * <p>StreamSubscriptionChanges stays on the transport thread too: opening a stream checks the token
 * and registers it (a catch-up that reads the log runs on a thread of its own), and its
 * flow-control callbacks only move queued messages to the transport. The stream is then known by
 * its event loop, which sends it every change (see {@code StreamHub}).
 *
 * <p>The credit mutations (GrantCredits, ConsumeCredits) wait on nothing but the database, one
 * transaction each on one connection: they run on platform threads, as many as the pool has
 * connections. A virtual thread's every database round trip is a hop through the JDK's poller and a
 * wake-up of a carrier thread; a platform thread wakes where it blocked. (Measured with {@code make
 * bench BENCH_ARGS="--runs fanout --changes 4000 --fanout-warmup 1000 --streams 1 --thread-cpu"}:
 * 1.1 ms of server CPU per GrantCredits instead of 1.6-2.1, 0.5 ms of it on the call's thread
 * instead of 0.8-1.2 plus the poller's 0.1-0.15.) RecordUsage stays on virtual threads: its calls
 * wait for a group commit, so every call in flight must be able to wait at once (on a pool of 16
 * threads, {@code --runs usage --in-flight 64} fell from 9,400-9,800 calls/s to 4,400).
 */
public final class HotPathExecutors implements ServerCallExecutorSupplier {
  private static final Set<String> HOT =
      Set.of(
          "billing.v1.BillingService/GetEntitlement",
          "billing.v1.BillingService/CheckUsage",
          "billing.v1.BillingService/ListPlans",
          "billing.v1.BillingService/ListCreditPackages",
          "billing.v1.BillingService/StreamSubscriptionChanges");

  /**
   * A virtual thread per call: a call that waits on the database or Stripe holds no platform
   * thread, so thousands of streams opening at once (or calls waiting out an outage) cost no OS
   * thread each.
   */
  private static final Executor BLOCKING =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("grpc-call-", 0).factory());

  /** Calls that wait on the database only: see the class comment. */
  private static final Set<String> DATABASE_ONLY =
      Set.of("billing.v1.BillingService/GrantCredits", "billing.v1.BillingService/ConsumeCredits");

  private final ThreadPoolExecutor database;

  /**
   * @param connections the database pool's size: more threads would only wait for a connection
   */
  public HotPathExecutors(int connections) {
    database =
        new ThreadPoolExecutor(
            connections,
            connections,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> Thread.ofPlatform().daemon().name("grpc-db-call").unstarted(r));
    database.allowCoreThreadTimeOut(true); // idle, they end
  }

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (HOT.contains(method)) {
      return null;
    }
    return DATABASE_ONLY.contains(method) ? database : BLOCKING;
  }
}
