package dev.billing.dev;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.billing.client.BillingClient;
import dev.billing.proto.v1.ConsumeCreditsRequest;
import dev.billing.stripe.WebhookSigner;
import dev.billing.transport.grpc.TokenStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code make chaos}: a soak run of the service as a real process on a real MariaDB. The same
 * signed Stripe events (subscription lifecycles, with duplicates, in shuffled order) and the same
 * credit grants and spends (each sent twice under its key) go to two runs: a crash-free reference,
 * and a run during which the server is killed with SIGKILL at random moments and restarted, and the
 * database is stopped and restarted mid-load. Deliveries are retried like Stripe does until they
 * are acknowledged. At the end every user's state (tier, status, payment problem, subscriptions,
 * credit balance and ledger) is compared between the two runs, and every event must be stored once.
 * Prints the figures; exits 1 unless nothing was lost, doubled or different.
 *
 * <p>Usage: {@code ChaosRun [users] [kills] [dbRestarts] [seed] [server command...]}; the server
 * command defaults to {@code java -jar server/target/billing-server.jar}.
 */
public final class ChaosRun {
  private static final String SECRET = "whsec_chaos";
  private static final String TOKEN = "chaos-admin-token-0123456789";
  private static final String[] PRICES = {"price_pro", "price_studio"};

  /** What a run measured. */
  public record Result(
      int users,
      int events,
      int deliveries,
      int creditOperations,
      int usageRecords,
      int kills,
      int dbRestarts,
      int supervisorRestarts,
      int retries,
      int lost,
      int doubled,
      int differing,
      long seconds) {
    public boolean clean() {
      return lost == 0 && doubled == 0 && differing == 0;
    }

    @Override
    public String toString() {
      return String.format(
          "chaos: %d users, %d events, %d deliveries (duplicates and shuffles), %d credit operations"
              + " and %d usage records (each sent twice), %d kill -9, %d database restarts, %d restarts of a server that"
              + " exited by itself, %d deliveries/calls retried, %d s%n"
              + "  lost %d, doubled %d, differing users %d",
          users,
          events,
          deliveries,
          creditOperations,
          usageRecords,
          kills,
          dbRestarts,
          supervisorRestarts,
          retries,
          seconds,
          lost,
          doubled,
          differing);
    }
  }

  public static void main(String[] args) throws Exception {
    int users = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int kills = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int dbRestarts = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    long seed = args.length > 3 ? Long.parseLong(args[3]) : 42;
    List<String> command =
        args.length > 4
            ? List.of(args).subList(4, args.length)
            : List.of(
                javaBin(),
                "--enable-native-access=ALL-UNNAMED",
                "-jar",
                "server/target/billing-server.jar");
    Result r = run(users, kills, dbRestarts, seed, command, Path.of("target", "chaos"));
    System.out.println(r);
    System.exit(r.clean() ? 0 : 1);
  }

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** One chaos run against a reference run; {@code command} starts the server (env is added). */
  public static Result run(
      int users, int kills, int dbRestarts, long seed, List<String> command, Path work)
      throws Exception {
    long started = System.nanoTime();
    Files.createDirectories(work);
    Path root = work.resolve("mariadb-" + ProcessHandle.current().pid());
    int dbPort = freePort();
    AtomicReference<EmbeddedMariaDb> db =
        new AtomicReference<>(EmbeddedMariaDb.start(root, dbPort, false));
    Path tokens = work.resolve("tokens");
    Files.writeString(tokens, "chaos admin " + TokenStore.sha256Hex(TOKEN) + "\n");
    Random random = new Random(seed);
    List<String> events = events(users, random);
    List<String> deliveries = new ArrayList<>(events);
    for (String e : events) {
      if (random.nextInt(5) == 0) {
        deliveries.add(e); // delivered at least once: a fifth twice
      }
    }
    Collections.shuffle(deliveries, random);
    try {
      db.get().createDatabase("reference");
      db.get().createDatabase("chaos");
      Load reference =
          load(
              "reference",
              dbPort,
              deliveries,
              users,
              0,
              0,
              random,
              command,
              tokens,
              work,
              db,
              root);
      Load chaos =
          load(
              "chaos",
              dbPort,
              deliveries,
              users,
              kills,
              dbRestarts,
              random,
              command,
              tokens,
              work,
              db,
              root);
      Map<String, String> expected = state(dbPort, "reference");
      Map<String, String> actual = state(dbPort, "chaos");
      int differing = 0;
      for (var e : expected.entrySet()) {
        if (!e.getValue().equals(actual.get(e.getKey()))) {
          differing++;
          System.out.println(
              "differs: "
                  + e.getKey()
                  + "\n  reference "
                  + e.getValue()
                  + "\n  chaos     "
                  + actual.get(e.getKey()));
        }
      }
      differing += (int) actual.keySet().stream().filter(k -> !expected.containsKey(k)).count();
      int stored =
          (int)
              count(
                  dbPort, "chaos", "SELECT COUNT(*) FROM stripe_events WHERE status = 'processed'");
      int doubled =
          (int)
              count(
                  dbPort,
                  "chaos",
                  "SELECT COUNT(*) FROM (SELECT b.user_id FROM credit_balances b JOIN (SELECT user_id,"
                      + " SUM(delta) s FROM credit_ledger GROUP BY user_id) l ON l.user_id ="
                      + " b.user_id WHERE l.s <> b.balance) x");
      // A counter that is not the sum of its records is a usage record counted twice (or lost).
      doubled +=
          (int)
              count(
                  dbPort,
                  "chaos",
                  "SELECT COUNT(*) FROM usage_counters c JOIN (SELECT user_id, metric, period_key,"
                      + " SUM(quantity) s FROM usage_records GROUP BY user_id, metric, period_key) r"
                      + " USING (user_id, metric, period_key) WHERE r.s <> c.used");
      return new Result(
          users,
          events.size(),
          deliveries.size(),
          reference.creditOperations,
          reference.usageRecords,
          chaos.kills,
          chaos.dbRestarts,
          chaos.supervisorRestarts,
          chaos.retries.get(),
          events.size() - stored,
          doubled,
          differing,
          (System.nanoTime() - started) / 1_000_000_000);
    } finally {
      db.get().close();
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  // ------------------------------------------------------------------ events

  /**
   * Each user's subscription lifecycle, one second apart: created (trialing), active, an upgrade, a
   * failed renewal and past_due, paid and active again; every third user's ends deleted.
   */
  static List<String> events(int users, Random random) {
    List<String> events = new ArrayList<>();
    long t0 = Instant.now().getEpochSecond() - 86_400;
    for (int u = 0; u < users; u++) {
      String user = "chaos-" + u;
      String sub = "sub_chaos_" + u;
      String cus = "cus_chaos_" + u;
      long t = t0 + u * 20L;
      String first = PRICES[random.nextInt(2)];
      events.add(
          subEvent(u, 0, "customer.subscription.created", t, sub, cus, user, first, "trialing"));
      events.add(
          subEvent(u, 1, "customer.subscription.updated", t + 1, sub, cus, user, first, "active"));
      events.add(
          subEvent(
              u,
              2,
              "customer.subscription.updated",
              t + 2,
              sub,
              cus,
              user,
              "price_studio",
              "active"));
      events.add(invoiceEvent(u, 3, "invoice.payment_failed", t + 3, sub, cus, user, false));
      events.add(
          subEvent(
              u,
              4,
              "customer.subscription.updated",
              t + 4,
              sub,
              cus,
              user,
              "price_studio",
              "past_due"));
      events.add(invoiceEvent(u, 5, "invoice.paid", t + 5, sub, cus, user, true));
      events.add(
          subEvent(
              u,
              6,
              "customer.subscription.updated",
              t + 6,
              sub,
              cus,
              user,
              "price_studio",
              "active"));
      if (u % 3 == 0) {
        events.add(
            subEvent(
                u,
                7,
                "customer.subscription.deleted",
                t + 7,
                sub,
                cus,
                user,
                "price_studio",
                "canceled"));
      }
    }
    return events;
  }

  private static JsonObject envelope(int u, int n, String type, long created, JsonObject object) {
    JsonObject data = new JsonObject();
    data.add("object", object);
    JsonObject e = new JsonObject();
    e.addProperty("id", "evt_chaos_" + u + "_" + n);
    e.addProperty("object", "event");
    e.addProperty("type", type);
    e.addProperty("created", created);
    e.addProperty("api_version", "2026-07-29.dahlia");
    e.addProperty("livemode", false);
    e.add("data", data);
    return e;
  }

  private static String subEvent(
      int u,
      int n,
      String type,
      long t,
      String sub,
      String cus,
      String user,
      String price,
      String status) {
    JsonObject priceObj = new JsonObject();
    priceObj.addProperty("id", price);
    JsonObject item = new JsonObject();
    item.addProperty("id", "si_" + sub);
    item.add("price", priceObj);
    item.addProperty("current_period_end", t + 30 * 86_400);
    JsonArray data = new JsonArray();
    data.add(item);
    JsonObject items = new JsonObject();
    items.addProperty("object", "list");
    items.add("data", data);
    JsonObject md = new JsonObject();
    md.addProperty("user_id", user);
    JsonObject s = new JsonObject();
    s.addProperty("id", sub);
    s.addProperty("object", "subscription");
    s.addProperty("customer", cus);
    s.addProperty("status", status);
    s.addProperty("cancel_at_period_end", false);
    s.add("items", items);
    s.add("metadata", md);
    return envelope(u, n, type, t, s).toString();
  }

  private static String invoiceEvent(
      int u, int n, String type, long t, String sub, String cus, String user, boolean paid) {
    JsonObject md = new JsonObject();
    md.addProperty("user_id", user);
    JsonObject details = new JsonObject();
    details.addProperty("subscription", sub);
    details.add("metadata", md);
    JsonObject parent = new JsonObject();
    parent.addProperty("type", "subscription_details");
    parent.add("subscription_details", details);
    JsonObject inv = new JsonObject();
    inv.addProperty("id", "in_chaos_" + u + "_" + n);
    inv.addProperty("object", "invoice");
    inv.addProperty("customer", cus);
    inv.addProperty("currency", "usd");
    inv.addProperty("amount_due", 4900);
    inv.addProperty("amount_paid", paid ? 4900 : 0);
    inv.addProperty("status", paid ? "paid" : "open");
    inv.add("parent", parent);
    return envelope(u, n, type, t, inv).toString();
  }

  // ------------------------------------------------------------------ one run

  private static final class Load {
    int kills;
    int dbRestarts;
    int creditOperations;
    volatile int supervisorRestarts;
    volatile int usageRecords;
    final AtomicInteger retries = new AtomicInteger();
  }

  private static final class Server {
    final List<String> command;
    final Map<String, String> env;
    final Path log;
    final int http;
    Process process;

    Server(List<String> command, Map<String, String> env, Path log, int http) {
      this.command = command;
      this.env = env;
      this.log = log;
      this.http = http;
    }

    synchronized void start() throws IOException {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      process = pb.start();
    }

    /** Restarts the server if it exited by itself, as a supervisor (systemd, Kubernetes) would. */
    synchronized boolean superviseOnce() throws IOException {
      if (process.isAlive()) {
        return false;
      }
      start();
      return true;
    }

    synchronized void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
    }

    synchronized void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  private static Load load(
      String database,
      int dbPort,
      List<String> deliveries,
      int users,
      int kills,
      int dbRestarts,
      Random random,
      List<String> command,
      Path tokens,
      Path work,
      AtomicReference<EmbeddedMariaDb> db,
      Path dbRoot)
      throws Exception {
    Load load = new Load();
    int http = freePort();
    int grpc = freePort();
    Map<String, String> env = new TreeMap<>();
    env.put("BILLING_DB_URL", "jdbc:mysql://127.0.0.1:" + dbPort + "/" + database);
    env.put("BILLING_DB_USER", "root");
    env.put("BILLING_DB_PASSWORD", "");
    env.put("BILLING_HTTP_PORT", Integer.toString(http));
    env.put("BILLING_GRPC_PORT", Integer.toString(grpc));
    env.put("BILLING_TOKENS_FILE", tokens.toString());
    env.put("BILLING_CATALOG", catalog(work).toString());
    env.put("STRIPE_WEBHOOK_SECRET", SECRET);
    env.put("STRIPE_SECRET_KEY", "sk_test_chaos");
    env.put(
        "STRIPE_API_BASE", "http://127.0.0.1:9"); // the ingest and credit paths never call Stripe
    env.put("BILLING_RECONCILE_INTERVAL", "0s");
    env.put("BILLING_WEBHOOK_RETRY_BASE", "200ms");
    env.put("BILLING_WARMUP_EVENTS", "0"); // restarts are what this measures: they start at once
    env.put("BILLING_LOG_LEVEL", "WARN");
    Server server = new Server(command, env, work.resolve(database + "-server.log"), http);
    server.start();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    awaitReady(client, http, Duration.ofSeconds(120));

    ExecutorService senders = Executors.newFixedThreadPool(16);
    List<Future<?>> work1 = new ArrayList<>();
    for (String payload : deliveries) {
      work1.add(senders.submit(() -> deliver(client, http, payload, load)));
    }
    // Credit operations: per user in a fixed order (so refusals are the same in both runs), each
    // sent twice under its key; users concurrently.
    BillingClient grpcClient =
        BillingClient.builder("localhost:" + grpc)
            .bearerToken(TOKEN)
            .deadline(Duration.ofSeconds(5))
            .build();
    for (int u = 0; u < users; u++) {
      String user = "chaos-" + u;
      long a = 100 + (u * 37L) % 400;
      long b = 50 + (u * 53L) % 500;
      long seats = u % 5;
      load.creditOperations += 3;
      load.usageRecords += 3;
      work1.add(
          senders.submit(
              () -> {
                for (int twice = 0; twice < 2; twice++) {
                  call(load, () -> grpcClient.grantCredits(user, a, "grant-1", "chaos"));
                  call(load, () -> consume(grpcClient, user, b, "spend-1"));
                  call(load, () -> grpcClient.grantCredits(user, 25, "grant-2", "chaos"));
                  // Usage of a running allowance every plan has (so the tier a record meets at
                  // its moment does not matter), each key sent twice.
                  for (int r = 1; r <= 3; r++) {
                    long q = r + seats;
                    String key = "use-" + r;
                    call(load, () -> grpcClient.recordUsage(user, "seats", q, key, false));
                  }
                }
                return null;
              }));
    }
    // Faults, spread over the load.
    Thread faults =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    int k = kills;
                    int d = dbRestarts;
                    // Every planned fault happens, also when the load finishes first.
                    while (k > 0 || d > 0 || work1.stream().anyMatch(f -> !f.isDone())) {
                      Thread.sleep(300 + random.nextInt(1200));
                      if (server.superviseOnce()) {
                        load.supervisorRestarts++;
                      }
                      if (k > 0 && (d == 0 || random.nextBoolean())) {
                        server.kill();
                        load.kills++;
                        k--;
                        Thread.sleep(200 + random.nextInt(500));
                        server.start();
                      } else if (d > 0) {
                        db.get().close();
                        load.dbRestarts++;
                        d--;
                        Thread.sleep(1000 + random.nextInt(1000));
                        db.set(EmbeddedMariaDb.start(dbRoot, dbPort, false));
                      }
                    }
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
    for (Future<?> f : work1) {
      f.get(10, TimeUnit.MINUTES);
    }
    faults.join();
    senders.shutdown();
    grpcClient.close();
    // Events stored but not yet applied (their first try failed) are retried by the server.
    if (server.superviseOnce()) {
      load.supervisorRestarts++;
    }
    awaitReady(client, http, Duration.ofSeconds(120));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (count(dbPort, database, "SELECT COUNT(*) FROM stripe_events WHERE status <> 'processed'")
            > 0
        && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    server.stop();
    return load;
  }

  private static Object consume(BillingClient client, String user, long amount, String key) {
    try {
      return client
          .stub()
          .consumeCredits(
              ConsumeCreditsRequest.newBuilder()
                  .setUserId(user)
                  .setAmount(amount)
                  .setIdempotencyKey(key)
                  .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
        return e.getStatus(); // a refusal is an answer
      }
      throw e;
    }
  }

  /** Calls until the service answers (a refusal included), as a client with retries would. */
  private static void call(Load load, java.util.concurrent.Callable<?> call) throws Exception {
    while (true) {
      try {
        call.call();
        return;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code != Status.Code.UNAVAILABLE
            && code != Status.Code.DEADLINE_EXCEEDED
            && code != Status.Code.UNKNOWN
            && code != Status.Code.CANCELLED) {
          throw e;
        }
        load.retries.incrementAndGet();
        Thread.sleep(100);
      }
    }
  }

  /** Delivers until acknowledged with a 2xx, as Stripe retries. */
  private static Void deliver(HttpClient client, int http, String payload, Load load)
      throws InterruptedException {
    while (true) {
      try {
        HttpRequest request =
            HttpRequest.newBuilder(URI.create("http://localhost:" + http + "/webhooks/stripe"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header(
                    "Stripe-Signature",
                    WebhookSigner.header(payload, SECRET, Instant.now().getEpochSecond()))
                .POST(HttpRequest.BodyPublishers.ofString(payload))
                .build();
        int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status / 100 == 2) {
          return null;
        }
        if (status / 100 == 4) {
          throw new IllegalStateException("delivery refused with " + status);
        }
      } catch (IOException e) {
        // the server is down (killed): retry
      }
      load.retries.incrementAndGet();
      Thread.sleep(100);
    }
  }

  private static void awaitReady(HttpClient client, int http, Duration timeout)
      throws InterruptedException {
    awaitReady(client, http, timeout, () -> {});
  }

  /**
   * Waits until {@code GET /healthz} on {@code http} answers 200; {@code stillStarting} may throw
   * to give up early (the process died).
   */
  static void awaitReady(HttpClient client, int http, Duration timeout, Runnable stillStarting)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      stillStarting.run();
      try {
        if (client
                .send(
                    HttpRequest.newBuilder(URI.create("http://localhost:" + http + "/healthz"))
                        .build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the server did not become ready on :" + http);
  }

  /**
   * The catalog of the soak: the default plans' prices, and a running allowance on every plan, so a
   * usage record is accepted whatever tier it meets.
   */
  private static Path catalog(Path work) throws java.io.IOException {
    Path file = work.resolve("chaos-catalog.json");
    String seats = "\"limits\": {\"seats\": {\"limit\": 1000000, \"reset\": \"never\"}}";
    Files.createDirectories(work);
    Files.writeString(
        file,
        "{\"plans\": [{\"name\": \"free\", \"rank\": 0, "
            + seats
            + "},\n {\"name\": \"pro\", \"price_id\": \"price_pro\", \"rank\": 1, \"amount\": 1900, "
            + seats
            + "},\n {\"name\": \"studio\", \"price_id\": \"price_studio\", \"rank\": 2,"
            + " \"amount\": 4900, "
            + seats
            + "}]}\n");
    return file;
  }

  // ------------------------------------------------------------------ state

  /** Every user's state as one comparable line. */
  private static Map<String, String> state(int dbPort, String database) throws SQLException {
    Map<String, String> state = new TreeMap<>();
    try (Connection c = connect(dbPort, database);
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              "SELECT user_id, tier, status, payment_problem, COALESCE(subscription_id, '')"
                  + " FROM entitlements")) {
        while (rs.next()) {
          state.merge(
              rs.getString(1),
              "tier="
                  + rs.getString(2)
                  + " status="
                  + rs.getString(3)
                  + " problem="
                  + rs.getInt(4)
                  + " sub="
                  + rs.getString(5),
              (x, y) -> x + " " + y);
        }
      }
      part(
          s,
          state,
          "subs",
          "SELECT user_id, GROUP_CONCAT(CONCAT(stripe_subscription_id, ':', status, ':', plan)"
              + " ORDER BY stripe_subscription_id) FROM subscriptions GROUP BY user_id");
      part(
          s,
          state,
          "usage",
          "SELECT user_id, GROUP_CONCAT(CONCAT(idempotency_key, ':', quantity) ORDER BY"
              + " idempotency_key) FROM usage_records GROUP BY user_id");
      part(s, state, "seats", "SELECT user_id, used FROM usage_counters");
      part(s, state, "balance", "SELECT user_id, balance FROM credit_balances");
      part(
          s,
          state,
          "ledger",
          "SELECT user_id, GROUP_CONCAT(CONCAT(idempotency_key, ':', delta) ORDER BY"
              + " idempotency_key) FROM credit_ledger GROUP BY user_id");
    }
    return state;
  }

  /** Adds {@code label=<second column>} to each user's line (the first column is the user). */
  private static void part(Statement s, Map<String, String> state, String label, String sql)
      throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        state.merge(rs.getString(1), label + "=" + rs.getString(2), (x, y) -> x + " " + y);
      }
    }
  }

  private static long count(int dbPort, String database, String sql) {
    try (Connection c = connect(dbPort, database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      return Long.MAX_VALUE; // the database is restarting
    }
  }

  private static Connection connect(int dbPort, String database) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:mysql://127.0.0.1:" + dbPort + "/" + database, "root", "");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private ChaosRun() {}
}
