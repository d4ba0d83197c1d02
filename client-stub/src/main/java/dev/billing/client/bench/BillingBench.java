package dev.billing.client.bench;

import dev.billing.client.BearerToken;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.proto.v1.GrantCreditsRequest;
import dev.billing.proto.v1.GrantCreditsResponse;
import dev.billing.proto.v1.StreamSubscriptionChangesRequest;
import dev.billing.proto.v1.StreamSubscriptionChangesResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Load figures for a running billing service: hot GetEntitlement throughput and latency at several
 * concurrencies, signed webhook ingest rate, and change fan-out latency to many open streams.
 */
@Command(
    name = "billing-bench",
    mixinStandardHelpOptions = true,
    description = "Benchmark a running billing service.")
public final class BillingBench implements Callable<Integer> {
  @Option(names = "--target", defaultValue = "localhost:9090", description = "gRPC host:port")
  String target;

  @Option(names = "--token", required = true, description = "bearer token with the admin scope")
  String token;

  @Option(names = "--webhook-url", defaultValue = "http://localhost:8080/webhooks/stripe")
  String webhookUrl;

  @Option(
      names = "--webhook-secret",
      description = "whsec_... the service verifies with (skips the webhook bench if unset)")
  String webhookSecret;

  @Option(names = "--seconds", defaultValue = "20", description = "duration of each throughput run")
  int seconds;

  @Option(
      names = "--warmup",
      defaultValue = "20",
      description =
          "unmeasured seconds before each throughput run (the server's JIT needs a minute or more"
              + " on a slow machine to reach steady state)")
  int warmup;

  @Option(
      names = "--in-flight",
      split = ",",
      defaultValue = "16,64",
      description = "concurrent GetEntitlement calls")
  List<Integer> inFlight;

  @Option(names = "--webhook-concurrency", defaultValue = "16")
  int webhookConcurrency;

  @Option(
      names = "--streams",
      defaultValue = "1000",
      description = "open change streams for the fan-out run")
  int streams;

  @Option(
      names = "--changes",
      defaultValue = "1000",
      description =
          "changes measured in the fan-out run. Each reaches every stream, so the deliveries' p99"
              + " is set by the slowest 1%% of changes: with 100 it was the slowest change alone")
  int changes;

  @Option(
      names = "--fanout-warmup",
      defaultValue = "2000",
      description =
          "changes broadcast before the fan-out run's measured ones, not measured: by then both"
              + " servers' paths are compiled, and the run measures them, not the JIT (with 300 the"
              + " service's compilers still used 0.7-1.8 ms of CPU per measured change, its grant"
              + " path being called once per change; with 2,000, 0.1)")
  int fanoutWarmup;

  @Option(
      names = "--grant-warmup",
      defaultValue = "20000",
      description =
          "GrantCredits calls, 8 in flight, not measured, made while one stream per channel is"
              + " open and before the fan-out run opens the others: the grant path runs once per"
              + " change, so the broadcast's warm-up alone leaves it compiling while changes are"
              + " measured (one stream, 3,000 grants before: the compilers took 0.27-0.29 ms of CPU"
              + " per measured grant and its p99 was 7.5-8.3 ms; 20,000 before: 0.03 ms and 4.0 ms)")
  int grantWarmup;

  @Option(
      names = "--fanout-users",
      defaultValue = "new",
      description =
          "whom the fan-out run's grants go to: new (a new user per change) or known (each change to"
              + " a different user of --grant-warmup, whose row the server last wrote: the path of a"
              + " user's later mutations; needs --grant-warmup >= --fanout-warmup + --changes)")
  String fanoutUsers;

  /** The users the grant warm-up created: this prefix, then 0 to {@code grantWarmup - 1}. */
  private String warmedUsers;

  @Option(
      names = "--worst-changes",
      defaultValue = "0",
      description =
          "the fan-out run also prints its N slowest changes: GrantCredits' reply, then the first,"
              + " median and last delivery, in ms from the call (which part made p99)")
  int worstChanges;

  @Option(
      names = "--runs",
      split = ",",
      defaultValue = "entitlements,webhooks,fanout",
      description =
          "which runs to do: entitlements, webhooks, fanout, usage (RecordUsage, and CheckUsage"
              + " against GetEntitlement) (default: ${DEFAULT-VALUE})")
  List<String> runs;

  @Option(
      names = "--server-pid",
      description =
          "pid of the server process when it runs on this machine: each run also reports the"
              + " server's CPU time per operation")
  Long serverPid;

  /** The server's CPU time so far, or -1 when unknown. */
  private long serverCpuNanos() {
    if (serverPid == null) {
      return -1;
    }
    return ProcessHandle.of(serverPid)
        .flatMap(h -> h.info().totalCpuDuration())
        .map(Duration::toNanos)
        .orElse(-1L);
  }

  @Option(
      names = "--thread-cpu",
      description =
          "with --server-pid on Linux: the fan-out run also prints the server's CPU time per"
              + " delivery by thread name (from /proc), to see where the broadcast spends it")
  boolean threadCpu;

  /**
   * The server's CPU clock ticks so far by thread name (digits dropped, so a pool is one line),
   * from /proc; empty when unknown. Threads that ended in between are not counted.
   */
  private Map<String, Long> serverThreadTicks() {
    Map<String, Long> ticks = new TreeMap<>();
    if (serverPid == null) {
      return ticks;
    }
    Path tasks = Path.of("/proc", serverPid.toString(), "task");
    try (var dirs = Files.list(tasks)) {
      for (var task : dirs.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = Files.readString(task.resolve("comm")).strip();
          // Fields after the parenthesised name: state is the 3rd field, utime the 14th, stime
          // 15th.
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
          ticks.merge(name.replaceAll("[0-9]+", "#"), t, Long::sum);
        } catch (IOException | RuntimeException gone) {
          // The thread ended while being read.
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return ticks;
  }

  /** Prints the CPU per op of each thread name that used any between two readings. */
  private static void printThreadCpu(Map<String, Long> before, Map<String, Long> after, long ops) {
    if (after.isEmpty() || ops == 0) {
      return;
    }
    double msPerTick = 10.0; // USER_HZ is 100 on Linux
    after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(
            e ->
                System.out.printf(
                    "    %-24s %8.4f ms/op  (%,d ms)%n",
                    e.getKey(), e.getValue() * msPerTick / ops, e.getValue() * 10));
  }

  /** " server CPU 0.123 ms/op" for a run that started at {@code cpuBefore}, or "". */
  private String serverCpuPerOp(long cpuBefore, long ops) {
    long after = serverCpuNanos();
    if (cpuBefore < 0 || after < 0 || ops == 0) {
      return "";
    }
    return String.format("   server CPU %.3f ms/op", (after - cpuBefore) / 1e6 / ops);
  }

  /** Callbacks run on the transport thread: the client should not be what is measured. */
  private ManagedChannel channel() {
    return NettyChannelBuilder.forTarget(target).usePlaintext().directExecutor().build();
  }

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (fanoutWarmup < 0) {
      throw new ParameterException(
          spec.commandLine(), "--fanout-warmup must be 0 or more, not " + fanoutWarmup);
    }
    if (grantWarmup < 0) {
      throw new ParameterException(
          spec.commandLine(), "--grant-warmup must be 0 or more, not " + grantWarmup);
    }
    if (!fanoutUsers.equals("new") && !fanoutUsers.equals("known")) {
      throw new ParameterException(
          spec.commandLine(), "--fanout-users is new or known, not " + fanoutUsers);
    }
    if (fanoutUsers.equals("known") && grantWarmup < fanoutWarmup + changes) {
      throw new ParameterException(
          spec.commandLine(),
          "--fanout-users known needs --grant-warmup of at least "
              + (fanoutWarmup + changes)
              + " (--fanout-warmup + --changes)");
    }
    System.out.printf(
        "billing-bench against %s (%d cores here)%n",
        target, Runtime.getRuntime().availableProcessors());
    if (runs.contains("entitlements")) {
      for (int n : inFlight) {
        entitlements(n);
      }
    }
    if (runs.contains("webhooks") && webhookSecret != null) {
      webhooks();
    }
    if (runs.contains("fanout") && streams > 0) {
      fanOut();
    }
    if (runs.contains("usage") && webhookSecret != null) {
      for (int n : inFlight) {
        usage(n);
      }
      for (int n : inFlight) {
        if (!runs.contains("entitlements")) {
          entitlements(n);
        }
        checks(n);
        double ratio =
            results.get("checks." + n + ".calls_per_s")
                / results.get("entitlements." + n + ".calls_per_s");
        results.put("checks_vs_entitlements." + n, ratio);
        System.out.printf(
            "CheckUsage / GetEntitlement, in-flight %3d, same run: %.2fx calls/s, p99 %.3f / %.3f ms%n",
            n,
            ratio,
            results.get("checks." + n + ".p99_ms"),
            results.get("entitlements." + n + ".p99_ms"));
      }
    }
    return 0;
  }

  /**
   * This run's figures by name (e.g. {@code entitlements.64.calls_per_s}, {@code fanout.p99_ms}).
   */
  private final Map<String, Double> results = new java.util.LinkedHashMap<>();

  /** The figures of the last {@code call()}, for a caller that compares two runs. */
  public Map<String, Double> results() {
    return results;
  }

  private void entitlements(int concurrency) throws Exception {
    GetEntitlementRequest[] requests = new GetEntitlementRequest[1000];
    for (int i = 0; i < requests.length; i++) {
      requests[i] = GetEntitlementRequest.newBuilder().setUserId("bench-user-" + i).build();
    }
    // The warm-up asks every user once (fills the server's snapshot).
    measure(
        "entitlements",
        "GetEntitlement ",
        concurrency,
        stub ->
            (i, ok, fail) ->
                stub.getEntitlement(requests[(int) (i % requests.length)], observer(ok, fail)));
  }

  /**
   * CheckUsage of api_calls for the users GetEntitlement asks for (the warm-up fills the server's
   * snapshot, as GetEntitlement's does).
   */
  private void checks(int concurrency) throws Exception {
    dev.billing.proto.v1.CheckUsageRequest[] requests =
        new dev.billing.proto.v1.CheckUsageRequest[1000];
    for (int i = 0; i < requests.length; i++) {
      requests[i] =
          dev.billing.proto.v1.CheckUsageRequest.newBuilder()
              .setUserId("bench-user-" + i)
              .setMetric("api_calls")
              .setQuantity(1)
              .build();
    }
    measure(
        "checks",
        "CheckUsage     ",
        concurrency,
        stub ->
            (i, ok, fail) ->
                stub.checkUsage(requests[(int) (i % requests.length)], observer(ok, fail)));
  }

  /**
   * RecordUsage (record mode, 1 unit of api_calls, a new key each call) for 64 users put on pro by
   * a signed subscription event each: durable calls per second, latency, server CPU per call.
   */
  private void usage(int concurrency) throws Exception {
    int users = 64;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    long now = Instant.now().getEpochSecond();
    for (int u = 0; u < users; u++) {
      String body = subscriptionEvent("evt_bench_usage_" + now + "_" + u, now, u, "active");
      http.send(
          HttpRequest.newBuilder(URI.create(webhookUrl))
              .header("Content-Type", "application/json")
              .header("Stripe-Signature", sign(body, webhookSecret, now))
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build(),
          HttpResponse.BodyHandlers.discarding());
    }
    String run = Long.toString(System.nanoTime(), 36);
    measure(
        "usage",
        "RecordUsage    ",
        concurrency,
        stub ->
            (i, ok, fail) ->
                stub.recordUsage(
                    dev.billing.proto.v1.RecordUsageRequest.newBuilder()
                        .setUserId("bench-wh-" + (i % users))
                        .setMetric("api_calls")
                        .setQuantity(1)
                        .setIdempotencyKey(run + "-" + i)
                        .setMode(dev.billing.proto.v1.UsageMode.USAGE_MODE_RECORD)
                        .build(),
                    observer(ok, fail)));
  }

  /** Starts call number {@code i}; it runs {@code ok} or {@code fail} when it ends. */
  private interface AsyncCall {
    void start(long i, Runnable ok, Runnable fail);
  }

  private static <T> StreamObserver<T> observer(Runnable ok, Runnable fail) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        fail.run();
      }

      @Override
      public void onCompleted() {
        ok.run();
      }
    };
  }

  /**
   * A warm-up, then a measured run of {@code concurrency} calls in flight on a fresh channel:
   * calls/s, p50/p99 and the server's CPU per call, printed and kept as {@code
   * <name>.<concurrency>.calls_per_s} and {@code .p99_ms}.
   */
  private void measure(
      String name,
      String label,
      int concurrency,
      java.util.function.Function<BillingServiceGrpc.BillingServiceStub, AsyncCall> calls)
      throws Exception {
    ManagedChannel ch = channel();
    try {
      AsyncCall call =
          calls.apply(BillingServiceGrpc.newStub(ch).withCallCredentials(new BearerToken(token)));
      AtomicLong next = new AtomicLong();
      drive(call, next, concurrency, Duration.ofSeconds(warmup), null);
      long[] latencies = new long[5_000_000];
      AtomicInteger recorded = new AtomicInteger();
      long cpuBefore = serverCpuNanos();
      long start = System.nanoTime();
      long done =
          drive(
              call,
              next,
              concurrency,
              Duration.ofSeconds(seconds),
              nanos -> {
                int i = recorded.getAndIncrement();
                if (i < latencies.length) {
                  latencies[i] = nanos;
                }
              });
      double elapsed = (System.nanoTime() - start) / 1e9;
      long[] sorted = Arrays.copyOf(latencies, Math.min(recorded.get(), latencies.length));
      Arrays.sort(sorted);
      results.put(name + "." + concurrency + ".calls_per_s", done / elapsed);
      results.put(name + "." + concurrency + ".p99_ms", pct(sorted, 0.99));
      System.out.printf(
          "%s in-flight %3d: %,10.0f calls/s   p50 %6.3f ms   p99 %6.3f ms   (%,d calls in %.1f s)%s%n",
          label,
          concurrency,
          done / elapsed,
          pct(sorted, 0.50),
          pct(sorted, 0.99),
          done,
          elapsed,
          serverCpuPerOp(cpuBefore, done));
    } finally {
      ch.shutdownNow();
    }
  }

  private interface LatencySink {
    void record(long nanos);
  }

  /** Keeps {@code concurrency} calls in flight for {@code d}; returns how many completed. */
  private static long drive(
      AsyncCall call, AtomicLong next, int concurrency, Duration d, LatencySink sink)
      throws InterruptedException {
    Semaphore permits = new Semaphore(concurrency);
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      permits.acquire();
      long t0 = System.nanoTime();
      call.start(
          next.getAndIncrement(),
          () -> {
            if (sink != null) {
              sink.record(System.nanoTime() - t0);
            }
            done.incrementAndGet();
            permits.release();
          },
          () -> {
            errors.incrementAndGet();
            permits.release();
          });
    }
    permits.acquire(concurrency);
    if (errors.get() > 0) {
      System.out.printf("  (%d calls failed)%n", errors.get());
    }
    return done.get();
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
  }

  private static String sign(String payload, String secret, long t) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return "t="
        + t
        + ",v1="
        + HexFormat.of()
            .formatHex(mac.doFinal((t + "." + payload).getBytes(StandardCharsets.UTF_8)));
  }

  private static String subscriptionEvent(String eventId, long created, int user, String status) {
    long periodEnd = created + 30 * 86400;
    return "{\"id\":\""
        + eventId
        + "\",\"object\":\"event\",\"api_version\":\"2026-07-29.dahlia\",\"created\":"
        + created
        + ",\"type\":\"customer.subscription.updated\",\"livemode\":false,\"pending_webhooks\":1,\"data\":{\"object\":"
        + "{\"id\":\"sub_bench_"
        + user
        + "\",\"object\":\"subscription\",\"customer\":\"cus_bench_"
        + user
        + "\",\"status\":\""
        + status
        + "\",\"cancel_at_period_end\":false,\"metadata\":{\"user_id\":\"bench-wh-"
        + user
        + "\"},"
        + "\"items\":{\"object\":\"list\",\"data\":[{\"id\":\"si_bench_"
        + user
        + "\",\"object\":\"subscription_item\","
        + "\"current_period_end\":"
        + periodEnd
        + ",\"price\":{\"id\":\"price_pro\",\"object\":\"price\"}}]}}}}";
  }

  private void webhooks() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    AtomicInteger counter = new AtomicInteger();
    long runId = System.currentTimeMillis();
    postWebhooks(http, runId, counter, Duration.ofSeconds(warmup)); // not measured
    long cpuBefore = serverCpuNanos();
    long start = System.nanoTime();
    long[] okAndFailed = postWebhooks(http, runId, counter, Duration.ofSeconds(seconds));
    double elapsed = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "Webhook ingest  %3d in flight: %,10.0f events/s   (%,d stored and applied, %d failed, %.1f s)%s%n",
        webhookConcurrency,
        okAndFailed[0] / elapsed,
        okAndFailed[0],
        okAndFailed[1],
        elapsed,
        serverCpuPerOp(cpuBefore, okAndFailed[0]));
  }

  /** Posts signed events from {@code webhookConcurrency} threads for a while: {ok, failed}. */
  private long[] postWebhooks(HttpClient http, long runId, AtomicInteger counter, Duration d)
      throws Exception {
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long end = System.nanoTime() + d.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(webhookConcurrency);
    List<java.util.concurrent.Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < webhookConcurrency; w++) {
      workers.add(
          pool.submit(
              () -> {
                while (System.nanoTime() < end) {
                  int n = counter.incrementAndGet();
                  long now = Instant.now().getEpochSecond();
                  String body =
                      subscriptionEvent(
                          "evt_bench_" + runId + "_" + n,
                          now + n,
                          n % 2000,
                          n % 7 == 0 ? "past_due" : "active");
                  HttpRequest request =
                      HttpRequest.newBuilder(URI.create(webhookUrl))
                          .header("Content-Type", "application/json")
                          .header("Stripe-Signature", sign(body, webhookSecret, now))
                          .POST(HttpRequest.BodyPublishers.ofString(body))
                          .build();
                  int status =
                      http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                  (status == 200 ? ok : failed).incrementAndGet();
                }
                return null;
              }));
    }
    for (var f : workers) {
      f.get();
    }
    pool.shutdown();
    return new long[] {ok.get(), failed.get()};
  }

  private void fanOut() throws Exception {
    int channels = 8;
    List<ManagedChannel> chs = new ArrayList<>();
    for (int i = 0; i < channels; i++) {
      chs.add(channel());
    }
    try {
      Map<String, Long> sentAt = new ConcurrentHashMap<>();
      Map<String, CountDownLatch> delivered = new ConcurrentHashMap<>();
      Map<String, Integer> changeIndex = new ConcurrentHashMap<>();
      long[] latencies = new long[streams * changes];
      long[][] byChange = new long[worstChanges > 0 ? changes : 0][streams];
      AtomicIntegerArray byChangeCount = new AtomicIntegerArray(byChange.length);
      AtomicInteger recorded = new AtomicInteger();
      // One stream per channel first, for the grant warm-up's changes to go somewhere (a broadcast
      // loop compiled while it never ran would be compiled again once measured), then the rest.
      int first = Math.min(channels, streams);
      CountDownLatch connectedFirst = new CountDownLatch(first);
      CountDownLatch connected = new CountDownLatch(streams - first);
      for (int s = 0; s < streams; s++) {
        CountDownLatch connecting = s < first ? connectedFirst : connected;
        AtomicBoolean heard = new AtomicBoolean();
        var stub =
            BillingServiceGrpc.newStub(chs.get(s % channels))
                .withCallCredentials(new BearerToken(token));
        stub.streamSubscriptionChanges(
            StreamSubscriptionChangesRequest.getDefaultInstance(),
            new StreamObserver<>() {
              @Override
              public void onNext(StreamSubscriptionChangesResponse value) {
                if (value.hasHeartbeat()) {
                  if (heard.compareAndSet(false, true)) {
                    connecting.countDown();
                  }
                  return;
                }
                String user = value.getChange().getUserId();
                Long t0 = sentAt.get(user);
                if (t0 != null) {
                  int i = recorded.getAndIncrement();
                  long latency = System.nanoTime() - t0;
                  if (i < latencies.length) {
                    latencies[i] = latency;
                  }
                  Integer c = byChange.length > 0 ? changeIndex.get(user) : null;
                  if (c != null) {
                    int k = byChangeCount.getAndIncrement(c);
                    if (k < streams) {
                      byChange[c][k] = latency;
                    }
                  }
                }
                CountDownLatch done = delivered.get(user);
                if (done != null) {
                  done.countDown();
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        if (s == first - 1) {
          warmUpGrants(chs, connectedFirst);
        }
      }
      if (!connected.await(60, TimeUnit.SECONDS)) {
        System.out.printf(
            "Fan-out: only %d of %d streams connected%n",
            streams - connected.getCount() - connectedFirst.getCount(), streams);
      }
      var blocking =
          BillingServiceGrpc.newBlockingStub(chs.getFirst())
              .withCallCredentials(new BearerToken(token));
      long runId = System.currentTimeMillis();
      long cpuBefore = -1;
      Map<String, Long> threadsBefore = Map.of();
      long[] replies = new long[changes]; // GrantCredits' own round trip, commit included
      long[] calledAt = new long[changes]; // wall clock, to match a slow change with server logs
      for (int c = -fanoutWarmup; c < changes; c++) {
        String user =
            fanoutUsers.equals("known")
                ? warmedUsers + (c + fanoutWarmup)
                : "bench-fan-" + runId + "-" + c;
        CountDownLatch done = new CountDownLatch(streams);
        delivered.put(user, done);
        if (fanoutWarmup > 0 && c == -Math.min(50, fanoutWarmup)) {
          // This process receives every delivery too: it collects its own garbage a few changes
          // before the measured ones, so that a pause of the measuring client (the same for both
          // servers) does not fall among them. Not without a warm-up: it would come just before the
          // first measured change (which it slowed to 50 ms).
          System.gc();
        }
        if (c == 0) {
          cpuBefore = serverCpuNanos();
          if (threadCpu) {
            threadsBefore = serverThreadTicks();
          }
        }
        if (c >= 0) {
          changeIndex.put(user, c);
          sentAt.put(user, System.nanoTime()); // the first changes only warm up
        }
        long callStart = System.nanoTime();
        if (c >= 0) {
          calledAt[c] = System.currentTimeMillis();
        }
        blocking.grantCredits(
            GrantCreditsRequest.newBuilder()
                .setUserId(user)
                .setAmount(1)
                .setIdempotencyKey("fan-" + c)
                .build());
        if (c >= 0) {
          replies[c] = System.nanoTime() - callStart;
        }
        // One change at a time, each sent once every stream has the previous one: this measures
        // the broadcast, not a queue of changes behind it.
        if (!done.await(30, TimeUnit.SECONDS)) {
          System.out.printf(
              "Fan-out: change %d reached only %d of %d streams%n",
              c, streams - done.getCount(), streams);
        }
      }
      Map<String, Long> threadsAfter = threadCpu ? serverThreadTicks() : Map.of();
      long[] sorted = Arrays.copyOf(latencies, Math.min(recorded.get(), latencies.length));
      Arrays.sort(sorted);
      results.put("fanout.p50_ms", pct(sorted, 0.50));
      results.put("fanout.p99_ms", pct(sorted, 0.99));
      printWorstChanges(byChange, byChangeCount, replies, calledAt);
      Arrays.sort(replies);
      results.put("fanout.grant_reply_p50_ms", pct(replies, 0.50));
      System.out.printf(
          "Fan-out to %,d streams: %,d deliveries   GrantCredits->subscriber p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms   (GrantCredits reply p50 %5.2f ms)%s%n",
          streams,
          sorted.length,
          pct(sorted, 0.50),
          pct(sorted, 0.99),
          sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6,
          pct(replies, 0.50),
          serverCpuPerOp(cpuBefore, sorted.length));
      printThreadCpu(threadsBefore, threadsAfter, sorted.length);
    } finally {
      chs.forEach(ManagedChannel::shutdownNow);
    }
  }

  /**
   * {@code --grant-warmup} GrantCredits calls, 8 in flight over the channels, while one stream per
   * channel is open (a broadcast to 1,000 streams per call would take minutes): to new users, as
   * the measured ones are. Waits for those streams first.
   */
  private void warmUpGrants(List<ManagedChannel> chs, CountDownLatch streamsConnected)
      throws InterruptedException {
    if (!streamsConnected.await(60, TimeUnit.SECONDS)) {
      System.out.println("Fan-out: the first streams did not connect");
    }
    if (grantWarmup == 0) {
      return;
    }
    long started = System.nanoTime();
    Semaphore inFlight = new Semaphore(8);
    AtomicLong failed = new AtomicLong();
    warmedUsers = "bench-warm-" + System.currentTimeMillis() + "-";
    List<BillingServiceGrpc.BillingServiceStub> stubs =
        chs.stream()
            .map(ch -> BillingServiceGrpc.newStub(ch).withCallCredentials(new BearerToken(token)))
            .toList();
    for (int i = 0; i < grantWarmup; i++) {
      inFlight.acquire();
      stubs
          .get(i % stubs.size())
          .grantCredits(
              GrantCreditsRequest.newBuilder()
                  .setUserId(warmedUsers + i)
                  .setAmount(1)
                  .setIdempotencyKey("warm-" + i)
                  .build(),
              new StreamObserver<>() {
                @Override
                public void onNext(GrantCreditsResponse value) {}

                @Override
                public void onError(Throwable t) {
                  failed.incrementAndGet();
                  inFlight.release();
                }

                @Override
                public void onCompleted() {
                  inFlight.release();
                }
              });
    }
    inFlight.acquire(8);
    System.out.printf(
        "Fan-out: %,d GrantCredits to warm up in %.1f s (%d failed)%n",
        grantWarmup, (System.nanoTime() - started) / 1e9, failed.get());
  }

  /** The {@code --worst-changes} slowest changes by their last delivery, with their parts. */
  private void printWorstChanges(
      long[][] byChange, AtomicIntegerArray counts, long[] replies, long[] calledAt) {
    if (byChange.length == 0) {
      return;
    }
    Integer[] order = new Integer[byChange.length];
    for (int c = 0; c < order.length; c++) {
      order[c] = c;
      Arrays.sort(byChange[c], 0, Math.min(streams, counts.get(c)));
    }
    Arrays.sort(
        order,
        (a, b) ->
            Long.compare(
                byChange[b][Math.max(0, Math.min(streams, counts.get(b)) - 1)],
                byChange[a][Math.max(0, Math.min(streams, counts.get(a)) - 1)]));
    long[] first = new long[order.length];
    long[] spread = new long[order.length];
    for (int c = 0; c < order.length; c++) {
      int n = Math.min(streams, counts.get(c));
      first[c] = n == 0 ? 0 : byChange[c][0];
      spread[c] = n == 0 ? 0 : byChange[c][n - 1] - byChange[c][0];
    }
    Arrays.sort(first);
    Arrays.sort(spread);
    System.out.printf(
        "  over the changes, ms: until the first delivery p50 %.2f p90 %.2f p99 %.2f;"
            + " first to last delivery p50 %.2f p90 %.2f p99 %.2f%n",
        pct(first, 0.50),
        pct(first, 0.90),
        pct(first, 0.99),
        pct(spread, 0.50),
        pct(spread, 0.90),
        pct(spread, 0.99));
    System.out.printf(
        "  slowest changes (ms from the call): change  called at  reply  first  median  p99  last%n");
    for (int i = 0; i < Math.min(worstChanges, order.length); i++) {
      int c = order[i];
      int n = Math.min(streams, counts.get(c));
      long[] d = byChange[c];
      System.out.printf(
          "    %4d  %s  %6.2f  %6.2f  %6.2f  %6.2f  %6.2f%n",
          c,
          Instant.ofEpochMilli(calledAt[c]).toString().substring(11, 23),
          replies[c] / 1e6,
          n == 0 ? Double.NaN : d[0] / 1e6,
          n == 0 ? Double.NaN : d[n / 2] / 1e6,
          n == 0 ? Double.NaN : d[(int) (n * 0.99)] / 1e6,
          n == 0 ? Double.NaN : d[n - 1] / 1e6);
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new BillingBench()).execute(args));
  }
}
