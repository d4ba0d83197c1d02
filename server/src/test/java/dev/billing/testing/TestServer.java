package dev.billing.testing;

import dev.billing.BillingServer;
import dev.billing.client.BearerToken;
import dev.billing.config.BillingConfig;
import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.config.Catalog;
import dev.billing.config.Env;
import dev.billing.domain.audit.Cause;
import dev.billing.stripe.WebhookSigner;
import dev.billing.stripe.emulator.StripeEmulator;
import dev.billing.transport.grpc.TokenStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * A started BillingServer on a fresh database, real ports, with helpers to post signed webhooks.
 */
public final class TestServer implements AutoCloseable {
  /** Tokens of the test callers; the file lists their SHA-256 only. */
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789";

  public static final Map<String, String> SCOPED_TOKENS =
      Map.of(
          "entitlements:read", "test-reader-token",
          "checkout:write", "test-checkout-token",
          "credits:write", "test-credits-token",
          "stream:read", "test-stream-token",
          "usage:write", "test-usage-token",
          "console", "test-console-token");

  private static volatile Path tokensFile;

  /** A tokens file with an admin caller and one caller per scope. */
  public static synchronized Path tokensFile() {
    if (tokensFile == null) {
      try {
        Path f = Files.createTempFile("billing-tokens", ".txt");
        StringBuilder sb = new StringBuilder("# test callers\n");
        sb.append("test-admin admin ").append(TokenStore.sha256Hex(ADMIN_TOKEN)).append('\n');
        SCOPED_TOKENS.forEach(
            (scope, token) ->
                sb.append("svc-")
                    .append(scope.replace(':', '-'))
                    .append(' ')
                    .append(scope)
                    .append(' ')
                    .append(TokenStore.sha256Hex(token))
                    .append('\n'));
        Files.writeString(f, sb.toString());
        f.toFile().deleteOnExit();
        tokensFile = f;
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return tokensFile;
  }

  /** Call credentials of the admin test caller, for raw stubs. */
  public static BearerToken adminCredentials() {
    return new BearerToken(ADMIN_TOKEN);
  }

  private final BillingServer server;
  private final StripeEmulator emulator;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestServer(BillingServer server, StripeEmulator emulator) {
    this.server = server;
    this.emulator = emulator;
  }

  public static TestServer start() {
    return start(TestDatabase.fresh(), Map.of());
  }

  /**
   * A server on a freshly created database that skips the start-up warm-up: for tests of the write
   * path's parts, which run their own transactions ({@link #transactions}).
   */
  public static TestServer startWithoutWarmup() {
    return start(TestDatabase.fresh(), Map.of("BILLING_WARMUP_EVENTS", "0"));
  }

  /**
   * Transactions of their own over this server's database, with no commit hooks (a test adds the
   * ones it needs) and a database health that is never probed.
   */
  public dev.billing.persistence.Transactions transactions() {
    return new dev.billing.persistence.Transactions(
        server().database().sessionFactory(), TestDatabase.unprobedHealth());
  }

  /**
   * Starts the server with the environment of {@link #env} plus {@code overrides}. Unless the
   * overrides name a Stripe ({@code STRIPE_API_BASE} or {@code STRIPE_SECRET_KEY}), a local Stripe
   * emulator is started first, on a free port, and the server is pointed at it, as {@code make run}
   * does.
   */
  public static TestServer start(DatabaseConfig db, Map<String, String> overrides) {
    Map<String, String> all = new HashMap<>(overrides);
    StripeEmulator emulator = null;
    if (!all.containsKey("STRIPE_API_BASE") && !all.containsKey("STRIPE_SECRET_KEY")) {
      Env env = env(db, overrides);
      emulator =
          new StripeEmulator(
              0,
              Catalog.fromEnv(env),
              env.get("STRIPE_WEBHOOK_SECRET").orElseThrow().split(",")[0].strip(),
              Clock.systemUTC(),
              env.getDuration("STRIPE_EMULATOR_RETRY_BASE", Duration.ofMillis(50)));
      emulator.start();
      all.put("STRIPE_API_BASE", emulator.apiBase());
    }
    try {
      BillingServer server = BillingServer.start(BillingConfig.fromEnv(env(db, all)));
      if (emulator != null) {
        emulator.setWebhookEndpoint("http://localhost:" + server.httpPort() + "/webhooks/stripe");
      }
      return new TestServer(server, emulator);
    } catch (IOException | RuntimeException e) {
      if (emulator != null) {
        emulator.close();
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e);
    }
  }

  /** The local Stripe emulator this server talks to, or null when the test named another. */
  public StripeEmulator emulator() {
    return emulator;
  }

  /** The environment a test server runs with: free ports, the fixture secret, fast retries. */
  public static Env env(DatabaseConfig db, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("BILLING_DB_URL", db.url());
    env.put("BILLING_DB_USER", db.user());
    env.put("BILLING_DB_PASSWORD", db.password());
    env.put("BILLING_GRPC_PORT", "0");
    env.put("BILLING_HTTP_PORT", "0");
    env.put("STRIPE_WEBHOOK_SECRET", StripeFixtures.WEBHOOK_SECRET);
    env.put("BILLING_TOKENS_FILE", tokensFile().toString());
    env.put("BILLING_WEBHOOK_RETRY_BASE", "50ms");
    env.put("BILLING_WEBHOOK_RETRY_SCAN", "50ms");
    env.put("BILLING_SHUTDOWN_GRACE", "2s");
    env.put("STRIPE_EMULATOR_RETRY_BASE", "50ms");
    env.put("BILLING_MAINTENANCE_INTERVAL", "200ms");
    env.put("BILLING_RECONCILE_INTERVAL", "0s");
    env.put("BILLING_WARMUP_EVENTS", "0"); // WarmupTest runs it
    env.putAll(overrides);
    return Env.of(env);
  }

  private io.grpc.ManagedChannel channel;
  private dev.billing.client.BillingClient client;

  /** A BillingClient of the admin test caller (10 s deadlines), closed with this server. */
  public synchronized dev.billing.client.BillingClient client() {
    if (client == null) {
      client =
          dev.billing.client.BillingClient.builder(grpcTarget())
              .bearerToken(ADMIN_TOKEN)
              .deadline(Duration.ofSeconds(10))
              .build();
    }
    return client;
  }

  /** A plaintext channel to this server (no credentials), closed with it. */
  public synchronized io.grpc.ManagedChannel channel() {
    if (channel == null) {
      channel = io.grpc.ManagedChannelBuilder.forTarget(grpcTarget()).usePlaintext().build();
    }
    return channel;
  }

  public BillingServer server() {
    return server;
  }

  public String grpcTarget() {
    return "localhost:" + server.grpcPort();
  }

  public URI url(String path) {
    return URI.create("http://localhost:" + server.httpPort() + path);
  }

  /** Posts a payload signed with the fixture secret, as Stripe would. */
  public HttpResponse<String> postSigned(String payload) {
    return post(
        payload,
        WebhookSigner.header(
            payload, StripeFixtures.WEBHOOK_SECRET, Instant.now().getEpochSecond()));
  }

  public HttpResponse<String> post(String payload, String signatureHeader) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(url("/webhooks/stripe"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(payload));
    if (signatureHeader != null) {
      b.header("Stripe-Signature", signatureHeader);
    }
    return send(b.build());
  }

  /**
   * Announces a webhook body of {@code contentLength} bytes without sending it, and returns the
   * status the server answers with. (Sending a body the server refuses races with the server
   * closing the connection; announcing it is enough for the limit.)
   */
  public int statusForAnnouncedBody(long contentLength) {
    try (java.net.Socket socket = new java.net.Socket("localhost", server.httpPort())) {
      socket.setSoTimeout(10_000);
      String request =
          "POST /webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
              + "Stripe-Signature: t=1,v1=00\r\nContent-Length: "
              + contentLength
              + "\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String statusLine =
          new java.io.BufferedReader(
                  new java.io.InputStreamReader(
                      socket.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII))
              .readLine();
      return Integer.parseInt(statusLine.split(" ")[1]);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Pays a hosted checkout session with a test card, as a script would (JSON answer). */
  public HttpResponse<String> pay(String sessionUrl, String cardNumber, String threeDs) {
    String form =
        "card_number=" + cardNumber + (threeDs == null ? "" : "&three_d_secure=" + threeDs);
    return send(
        HttpRequest.newBuilder(URI.create(sessionUrl + "/pay"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build());
  }

  /**
   * A new user ({@code prefix} and a random suffix) on {@code plan} through a hosted checkout paid
   * with a test card, once GetEntitlement shows the subscription active.
   */
  public String subscribedUser(String plan, String prefix) {
    return subscribedUser(plan, prefix, "4242424242424242");
  }

  /** A user id no other test uses: {@code prefix} and a random suffix. */
  public static String uniqueUser(String prefix) {
    return prefix + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  /** {@link #subscribedUser(String, String)} paying with {@code cardNumber} (a test card). */
  public String subscribedUser(String plan, String prefix, String cardNumber) {
    String user = uniqueUser(prefix);
    var co =
        client()
            .createCheckout(
                dev.billing.proto.v1.CreateCheckoutRequest.newBuilder()
                    .setUserId(user)
                    .setMode(dev.billing.proto.v1.CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
                    .setPlan(plan)
                    .setIdempotencyKey("co-" + user)
                    .build());
    int status = pay(co.getUrl(), cardNumber, null).statusCode();
    if (status != 200) {
      throw new AssertionError("paying the checkout answered " + status);
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client().getEntitlement(user).getStatus()
                    == dev.billing.proto.v1.SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    return user;
  }

  /** A call to the emulator's Stripe API with a test key. */
  public HttpResponse<String> stripeApi(String method, String path, String form) {
    return send(
        HttpRequest.newBuilder(URI.create(emulator.apiBase() + path))
            .header("Authorization", "Bearer sk_test_local_emulator")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .method(
                method,
                form == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(form))
            .build());
  }

  public HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(url(path)).GET().build());
  }

  public HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A single number from the test database, e.g. {@code count("SELECT COUNT(*) FROM t WHERE a = ?",
   * x)}.
   */
  /**
   * A counter's value on /metrics, e.g. {@code metric("billing_x_total{path=\"y\"}")}; 0 if absent.
   */
  public double metric(String series) {
    String prefix = series + " ";
    return get("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(prefix.length()).trim()))
        .findFirst()
        .orElse(0);
  }

  /**
   * {@code count} grants of one credit from {@code threads} threads at once, grant {@code i} to
   * {@code user.apply(i)} under key {@code "k" + i}; returns when all have committed.
   */
  public void grantConcurrently(int threads, int count, IntFunction<String> user) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> grants = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String u = user.apply(i);
        String key = "k" + i;
        grants.add(pool.submit(() -> server.credits().grant(u, 1, key, null, Cause.api("t"))));
      }
      for (Future<?> g : grants) {
        g.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  /** The user's credit balance as stored. */
  public long creditBalance(String user) {
    return queryLong("SELECT balance FROM credit_balances WHERE user_id = ?", user);
  }

  /** How many credit ledger rows the user has. */
  public long ledgerRows(String user) {
    return queryLong("SELECT COUNT(*) FROM credit_ledger WHERE user_id = ?", user);
  }

  public long queryLong(String sql, Object... args) {
    return query(
        sql,
        args,
        rs -> {
          rs.next();
          return rs.getLong(1);
        });
  }

  public String queryString(String sql, Object... args) {
    return query(sql, args, rs -> rs.next() ? rs.getString(1) : null);
  }

  /** The first column of every row. */
  public List<Long> queryLongs(String sql, Object... args) {
    return query(
        sql,
        args,
        rs -> {
          List<Long> values = new ArrayList<>();
          while (rs.next()) {
            values.add(rs.getLong(1));
          }
          return values;
        });
  }

  /**
   * A credit purchase as CreateCheckout records it before the customer pays: Stripe's report that
   * it was paid credits only a purchase this service started.
   */
  public void pendingPurchase(
      String paymentId, String userId, String sessionId, long amountMinor, long credits) {
    execute(
        "INSERT INTO payments (id, user_id, kind, status, amount, currency, credits,"
            + " checkout_session_id, idempotency_key) VALUES (?, ?, 'credits', 'pending', ?, 'usd',"
            + " ?, ?, ?)",
        paymentId,
        userId,
        amountMinor,
        credits,
        sessionId,
        "test-" + paymentId);
  }

  /** Runs one statement on the test database; returns the rows it changed. */
  public int execute(String sql, Object... args) {
    try (Connection c = server.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      int changed = ps.executeUpdate();
      if (!c.getAutoCommit()) {
        c.commit();
      }
      return changed;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Updates the row from a connection of its own, waiting at most a second for its lock: true if it
   * was updated, false if the wait timed out (another transaction holds the row).
   */
  public boolean tryUpdate(String table, String key, String value) {
    try (Connection c = server.database().dataSource().getConnection();
        java.sql.Statement st = c.createStatement()) {
      st.execute("SET SESSION innodb_lock_wait_timeout = 1");
      int changed =
          st.executeUpdate(
              "UPDATE " + table + " SET user_id = user_id WHERE " + key + " = '" + value + "'");
      if (!c.getAutoCommit()) {
        c.commit();
      }
      return changed >= 0;
    } catch (SQLException e) {
      if (e.getErrorCode() == 1205) { // lock wait timeout
        return false;
      }
      throw new IllegalStateException(e);
    }
  }

  private interface Rows<T> {
    T read(ResultSet rs) throws SQLException;
  }

  private <T> T query(String sql, Object[] args, Rows<T> rows) {
    try (Connection c = server.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rows.read(rs);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (channel != null) {
        channel.shutdownNow();
      }
      if (client != null) {
        client.close();
      }
    }
    server.close();
    if (emulator != null) {
      emulator.close();
    }
  }
}
