package dev.billing.dev;

import dev.billing.client.bench.BillingBench;
import dev.billing.config.Catalog;
import dev.billing.stripe.emulator.StripeEmulator;
import dev.billing.transport.grpc.TokenStore;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * {@code make bench}: a fresh embedded MariaDB, the production jar started with {@code java -jar}
 * on free ports, then {@link BillingBench} against it from this process (client and server share
 * the machine). Extra arguments go to the bench ({@code make bench BENCH_ARGS="--seconds 20"}).
 */
public final class BenchRun {
  private BenchRun() {}

  /** The server's heap as README "Running in production" sets it. */
  private static final List<String> PRODUCTION_HEAP = List.of("-Xms2g", "-Xmx2g");

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts a JVM running {@code main} of this classpath; its output goes to {@code log}. */
  private static Process java(Path log, String mainClass, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /**
   * The references (DESIGN.md sets the aims by them): a no-op gRPC server on this machine, started
   * once and measured by {@link #reference} in each round.
   */
  private static Process startReference(Path root, int port) throws Exception {
    Process noop = java(root.resolve("noop.log"), NoOpEntitlementServer.class.getName(), "" + port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (java.net.Socket ignored = new java.net.Socket("127.0.0.1", port)) {
        return noop;
      } catch (java.io.IOException e) {
        if (System.nanoTime() > deadline || !noop.isAlive()) {
          noop.destroy();
          throw new IllegalStateException("the no-op server did not start", e);
        }
        Thread.sleep(100);
      }
    }
  }

  /** Measures the references; returns their figures (see {@link BillingBench#results}). */
  private static Map<String, Double> reference(Process noop, int port, List<String> userArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--target",
                "localhost:" + port,
                "--token",
                "unused",
                "--server-pid",
                Long.toString(noop.pid())));
    String runs = "entitlements,fanout";
    for (int i = 0; i < userArgs.size(); i++) {
      if (userArgs.get(i).equals("--runs") && i + 1 < userArgs.size()) {
        runs = userArgs.get(++i).replace("webhooks", ""); // the references have no webhooks
      } else {
        args.add(userArgs.get(i));
      }
    }
    args.addAll(List.of("--runs", runs));
    System.out.println(
        "References: a no-op gRPC server (GetEntitlement answered with constants, and a bare"
            + " broadcast of each change to every stream)");
    BillingBench reference = new BillingBench();
    new CommandLine(reference).execute(args.toArray(String[]::new));
    return reference.results();
  }

  /**
   * Service / reference for every figure both sides measured (the aims: see DESIGN.md); over
   * several rounds, each round's ratio and their median, the figure the aims are read from (as the
   * peer benchmark reads its pairs).
   */
  private static void printRatios(
      List<Map<String, Double>> service, List<Map<String, Double>> reference) {
    if (reference.isEmpty()) {
      return;
    }
    if (service.size() == 1) {
      System.out.println("Same-run ratios, service / reference:");
    } else {
      System.out.printf(
          "Same-run ratios, service / reference, the median of %d alternated rounds (each"
              + " round's ratio after it):%n",
          service.size());
    }
    for (String name : service.getFirst().keySet()) {
      List<Double> values = new ArrayList<>();
      List<Double> refs = new ArrayList<>();
      List<Double> ratios = new ArrayList<>();
      for (int r = 0; r < service.size(); r++) {
        Double value = service.get(r).get(name);
        Double ref = reference.get(r).get(name);
        if (value != null && ref != null && ref > 0) {
          values.add(value);
          refs.add(ref);
          ratios.add(value / ref);
        }
      }
      if (ratios.size() == 1) {
        System.out.printf(
            "  %-34s %10.3f / %10.3f = %5.2fx%n",
            name, values.getFirst(), refs.getFirst(), ratios.getFirst());
      } else if (!ratios.isEmpty()) {
        System.out.printf(
            "  %-34s medians %10.3f / %10.3f   ratio %5.2fx   (%s)%n",
            name,
            median(values),
            median(refs),
            median(ratios),
            String.join(", ", ratios.stream().map(x -> String.format("%.2fx", x)).toList()));
      }
    }
  }

  /** The median (of an even count, the mean of the middle two). */
  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  public static void main(String[] args) throws Exception {
    List<String> userArgs = new ArrayList<>(List.of(args));
    boolean withCeiling = userArgs.remove("--ceiling");
    // --rounds N: the references and the service measured in turn N times (each side's process
    // started once), the ratios read as the median of the rounds' (one slow spell on a shared
    // machine then moves one round, not the result).
    int rounds = 1;
    int at = userArgs.indexOf("--rounds");
    if (at >= 0) {
      if (at + 1 >= userArgs.size() || !userArgs.get(at + 1).matches("[1-9][0-9]?")) {
        System.err.println("--rounds takes a number from 1 to 99");
        System.exit(2);
      }
      rounds = Integer.parseInt(userArgs.get(at + 1));
      userArgs.subList(at, at + 2).clear();
    }
    Path root =
        Path.of("server", "target", "bench-" + ProcessHandle.current().pid()).toAbsolutePath();
    EmbeddedMariaDb db = EmbeddedMariaDb.start(root, 0, true);
    Process server = null;
    Process noop = null;
    StripeEmulator stripe = null;
    int exit = 1;
    try {
      db.createDatabase("billing_bench");
      String token = "bench-token-" + ProcessHandle.current().pid();
      Path tokens = root.resolve("tokens");
      Files.writeString(tokens, "bench admin " + TokenStore.sha256Hex(token) + "\n");
      String secret = "whsec_bench_secret";
      int grpc = freePort();
      int http = freePort();
      stripe =
          new StripeEmulator(
              0,
              Catalog.defaults("price_pro", "price_studio"),
              secret,
              Clock.systemUTC(),
              Duration.ofSeconds(1));
      stripe.setWebhookEndpoint("http://localhost:" + http + "/webhooks/stripe");
      stripe.start();
      List<String> command =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "--enable-native-access=ALL-UNNAMED"));
      // The server runs with the heap README "Running in production" gives it (a later -Xms/-Xmx in
      // BENCH_SERVER_JAVA_OPTS wins), plus flags for the measured server only, e.g. a JFR
      // recording:
      // BENCH_SERVER_JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/server.jfr"
      command.addAll(PRODUCTION_HEAP);
      String serverOpts = System.getenv("BENCH_SERVER_JAVA_OPTS");
      if (serverOpts != null && !serverOpts.isBlank()) {
        command.addAll(List.of(serverOpts.trim().split("\\s+")));
      }
      command.addAll(List.of("-jar", "server/target/billing-server.jar"));
      System.out.println("Service JVM: " + String.join(" ", command.subList(1, command.size())));
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(root.resolve("server.log").toFile());
      var env = pb.environment();
      env.put("BILLING_DB_URL", db.jdbcUrl("billing_bench"));
      env.put("BILLING_DB_USER", "root");
      env.put("BILLING_DB_PASSWORD", "");
      env.put("BILLING_GRPC_PORT", Integer.toString(grpc));
      env.put("BILLING_HTTP_PORT", Integer.toString(http));
      env.put("BILLING_TOKENS_FILE", tokens.toString());
      env.put("STRIPE_WEBHOOK_SECRET", secret);
      env.put("STRIPE_API_BASE", stripe.apiBase());
      env.put("BILLING_LOG_LEVEL", "WARN");
      server = pb.start();
      Process started = server;
      // The production jar warms its webhook path up before it opens its HTTP port (30-45 s on a
      // slow two-core machine); a server that dies is reported at once.
      ChaosRun.awaitReady(
          HttpClient.newHttpClient(),
          http,
          Duration.ofSeconds(300),
          () -> {
            if (!started.isAlive()) {
              throw new IllegalStateException(
                  "the server did not come up; see " + root.resolve("server.log"));
            }
          });
      List<String> benchArgs =
          new ArrayList<>(
              List.of(
                  "--target",
                  "localhost:" + grpc,
                  "--token",
                  token,
                  "--webhook-url",
                  "http://localhost:" + http + "/webhooks/stripe",
                  "--webhook-secret",
                  secret,
                  "--server-pid",
                  Long.toString(server.pid())));
      benchArgs.addAll(userArgs);
      int noopPort = freePort();
      noop = withCeiling ? startReference(root, noopPort) : null;
      List<Map<String, Double>> references = new ArrayList<>();
      List<Map<String, Double>> services = new ArrayList<>();
      exit = 0;
      for (int round = 1; round <= rounds; round++) {
        if (rounds > 1) {
          System.out.printf("Round %d of %d%n", round, rounds);
        }
        if (noop != null) {
          references.add(reference(noop, noopPort, userArgs));
          System.out.println("The billing service:");
        }
        BillingBench service = new BillingBench();
        exit = Math.max(exit, new CommandLine(service).execute(benchArgs.toArray(String[]::new)));
        services.add(service.results());
      }
      printRatios(services, references);
    } finally {
      if (noop != null) {
        noop.destroy();
        noop.waitFor(10, TimeUnit.SECONDS);
      }
      if (server != null) {
        server.destroy();
        server.waitFor(20, TimeUnit.SECONDS);
      }
      if (stripe != null) {
        stripe.close();
      }
      db.close();
    }
    System.exit(exit);
  }
}
