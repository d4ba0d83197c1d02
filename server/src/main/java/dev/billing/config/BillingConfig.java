package dev.billing.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything the server needs, built once from the environment and passed down through
 * constructors. Each field's environment variable and default are documented in README.md.
 */
public record BillingConfig(
    int grpcPort,
    int httpPort,
    DatabaseConfig database,
    StripeConfig stripe,
    Catalog catalog,
    List<URI> allowedOrigins,
    Duration pastDueGrace,
    WebhookConfig webhooks,
    StreamConfig stream,
    long entitlementCacheSize,
    Duration shutdownGrace,
    Duration maintenanceInterval,
    Path tokensFile,
    Duration tokensReload,
    TlsConfig tls,
    ResilienceConfig resilience,
    ConsoleConfig console) {

  /**
   * The operator console's own listener.
   *
   * @param port null: no console
   * @param bind the address it listens on (loopback by default: never the webhook port's
   *     internet-facing address)
   * @param secureCookie whether the session cookie is marked Secure (behind TLS)
   */
  public record ConsoleConfig(Integer port, String bind, boolean secureCookie) {}

  /**
   * Outage behaviour and self-repair.
   *
   * @param dbProbeInterval how often the database is probed (its own connection, off the pool)
   * @param dbProbeTimeout a probe that takes longer marks the database unreachable
   * @param webhookStoreWait the longest a delivery waits to be stored before it is answered 503
   * @param placeholderConfirmAfter a subscription known only from its checkout for this long is
   *     read from Stripe (and ended if Stripe does not have it)
   * @param reconcileInterval background reconciliation with Stripe; zero = off
   * @param meterReportInterval how often recorded usage is reported to Stripe's meters
   */
  public record ResilienceConfig(
      Duration dbProbeInterval,
      Duration dbProbeTimeout,
      Duration webhookStoreWait,
      Duration placeholderConfirmAfter,
      Duration reconcileInterval,
      Duration meterReportInterval) {}

  /**
   * Optional TLS for gRPC: a PEM certificate chain and key; with {@code clientCa}, mutual TLS
   * (clients must present a certificate signed by it).
   */
  public record TlsConfig(Path certChain, Path privateKey, Path clientCa) {
    public boolean enabled() {
      return certChain != null;
    }
  }

  /** Connection settings for MySQL 8 / MariaDB 10.6+ through mysql-connector-j. */
  public record DatabaseConfig(String url, String user, String password, int poolSize) {
    @Override
    public String toString() {
      return "DatabaseConfig[url=" + url + ", user=" + user + ", poolSize=" + poolSize + "]";
    }
  }

  /**
   * Stripe access. No secret key is allowed only with an explicit {@code apiBase} (a Stripe
   * emulator started on its own, such as {@code stripe-emulator.jar}); the service never starts one
   * itself.
   *
   * @param webhookSecrets one or two signing secrets ({@code whsec_...}); two during a rotation
   */
  /**
   * @param testClocks give each new Stripe customer its own test clock (test mode only), so
   *     renewals can be produced on demand ({@code make advance-clock})
   */
  public record StripeConfig(
      String secretKey,
      List<String> webhookSecrets,
      String publishableKey,
      String apiBase,
      boolean testClocks) {
    public boolean emulated() {
      return secretKey == null;
    }

    /** The key stripe-java sends: the configured one, or a test key an emulator accepts. */
    public String effectiveSecretKey() {
      return secretKey != null ? secretKey : "sk_test_local_emulator";
    }

    @Override
    public String toString() {
      return "StripeConfig[emulated=" + emulated() + ", apiBase=" + apiBase + "]";
    }
  }

  /**
   * Webhook ingestion: signature tolerance, retry of events whose processing failed, writer
   * threads, and how many synthetic events warm the path up at start (0: none), for at most how
   * long.
   */
  public record WebhookConfig(
      Duration signatureTolerance,
      int maxAttempts,
      Duration retryBase,
      Duration retryScan,
      int writers,
      int warmupEvents,
      Duration warmupBudget) {}

  /**
   * The change stream: how often the feed looks for other replicas' changes, heartbeats, buffering.
   */
  public record StreamConfig(
      Duration pollInterval,
      Duration heartbeatInterval,
      int bufferSize,
      Duration retention,
      Duration pruneInterval,
      Duration stallTimeout) {}

  /** Development-only webhook secret used with an emulator when none is configured. */
  public static final String LOCAL_WEBHOOK_SECRET = "whsec_local_development_only";

  public static BillingConfig fromEnv(Env env) {
    String dbUrl =
        env.get("BILLING_DB_URL")
            .orElseThrow(
                () ->
                    new ConfigException(
                        "BILLING_DB_URL is not set. Point it at MySQL 8 or MariaDB 10.6+, for example"
                            + " BILLING_DB_URL=jdbc:mysql://127.0.0.1:3306/billing"
                            + " BILLING_DB_USER=billing BILLING_DB_PASSWORD=... (environment or .env)."
                            + " For local development, `make run` starts an embedded MariaDB and sets it"
                            + " for you."));
    if (!dbUrl.startsWith("jdbc:mysql:") && !dbUrl.startsWith("jdbc:mariadb:")) {
      throw new ConfigException(
          "BILLING_DB_URL must be a jdbc:mysql:// URL (MySQL or MariaDB), got: "
              + redactUrl(dbUrl));
    }
    DatabaseConfig db =
        new DatabaseConfig(
            dbUrl,
            env.get("BILLING_DB_USER", "root"),
            env.get("BILLING_DB_PASSWORD", ""),
            env.getInt("BILLING_DB_POOL_SIZE", 16));

    Path tokensFile =
        env.get("BILLING_TOKENS_FILE")
            .map(Path::of)
            .orElseThrow(
                () ->
                    new ConfigException(
                        "BILLING_TOKENS_FILE is not set. Point it at a file of calling services, one per line:"
                            + " `<service-name> <scope>[,<scope>...] <sha256-hex-of-token>` (scopes:"
                            + " entitlements:read, checkout:write, credits:write, stream:read, admin)."
                            + " `make run` creates a development one."));

    String secretKey = env.get("STRIPE_SECRET_KEY").orElse(null);
    String apiBase = env.get("STRIPE_API_BASE").orElse(null);
    if (secretKey == null && apiBase == null) {
      throw new ConfigException(
          "STRIPE_SECRET_KEY is not set. Set it to the account's secret key (sk_live_... or"
              + " sk_test_..., from the Stripe dashboard) together with STRIPE_WEBHOOK_SECRET"
              + " (environment or .env). To run against a local Stripe emulator instead, set"
              + " STRIPE_API_BASE to its URL (for example STRIPE_API_BASE=http://127.0.0.1:12111 with"
              + " `java -jar server/target/stripe-emulator.jar --port 12111 ...`); `make run` does"
              + " this for you.");
    }
    List<String> webhookSecrets =
        env.get("STRIPE_WEBHOOK_SECRET")
            .map(
                v ->
                    Arrays.stream(v.split(","))
                        .map(String::strip)
                        .filter(s -> !s.isEmpty())
                        .toList())
            .orElse(List.of());
    if (webhookSecrets.isEmpty()) {
      if (secretKey != null) {
        throw new ConfigException(
            "STRIPE_WEBHOOK_SECRET is not set. Copy the endpoint's signing secret (whsec_...) from the"
                + " Stripe dashboard, or the one `stripe listen` prints.");
      }
      webhookSecrets = List.of(LOCAL_WEBHOOK_SECRET);
    }
    for (String s : webhookSecrets) {
      if (!s.startsWith("whsec_")) {
        throw new ConfigException("STRIPE_WEBHOOK_SECRET must start with whsec_ (keep the prefix)");
      }
    }
    if (webhookSecrets.size() > 2) {
      throw new ConfigException("STRIPE_WEBHOOK_SECRET takes at most two secrets (old,new)");
    }
    StripeConfig stripe =
        new StripeConfig(
            secretKey,
            webhookSecrets,
            env.get("STRIPE_PUBLISHABLE_KEY").orElse(null),
            apiBase != null ? apiBase : "https://api.stripe.com",
            testClocks(env, secretKey));

    Catalog catalog = Catalog.fromEnv(env);

    List<URI> origins = new ArrayList<>();
    for (String raw : env.get("FRONTEND_URL", "http://localhost:3000").split(",")) {
      try {
        URI u = URI.create(raw.strip());
        if (u.getScheme() == null
            || u.getHost() == null
            || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
          throw new IllegalArgumentException();
        }
        origins.add(
            URI.create(
                u.getScheme()
                    + "://"
                    + u.getHost()
                    + (u.getPort() == -1 ? "" : ":" + u.getPort())));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("FRONTEND_URL must list absolute http(s) URLs, comma-separated");
      }
    }

    return new BillingConfig(
        env.getInt("BILLING_GRPC_PORT", 9090),
        env.getInt("BILLING_HTTP_PORT", 8080),
        db,
        stripe,
        catalog,
        List.copyOf(origins),
        env.getDuration("BILLING_PAST_DUE_GRACE", Duration.ofDays(3)),
        new WebhookConfig(
            env.getDuration("BILLING_WEBHOOK_TOLERANCE", Duration.ofSeconds(300)),
            env.getInt("BILLING_WEBHOOK_MAX_ATTEMPTS", 8),
            env.getDuration("BILLING_WEBHOOK_RETRY_BASE", Duration.ofSeconds(2)),
            env.getDuration("BILLING_WEBHOOK_RETRY_SCAN", Duration.ofSeconds(1)),
            env.getInt("BILLING_WEBHOOK_WRITERS", 1),
            env.getInt("BILLING_WARMUP_EVENTS", 20_000),
            env.getDuration("BILLING_WARMUP_MAX", Duration.ofSeconds(75))),
        new StreamConfig(
            env.getDuration("BILLING_FEED_POLL_INTERVAL", Duration.ofMillis(100)),
            env.getDuration("BILLING_STREAM_HEARTBEAT", Duration.ofSeconds(15)),
            env.getInt("BILLING_STREAM_BUFFER", 1024),
            env.getDuration("BILLING_CHANGE_LOG_RETENTION", Duration.ofDays(7)),
            env.getDuration("BILLING_CHANGE_LOG_PRUNE_INTERVAL", Duration.ofMinutes(1)),
            env.getDuration("BILLING_STREAM_STALL_TIMEOUT", Duration.ofSeconds(30))),
        env.getLong("BILLING_ENTITLEMENT_CACHE_SIZE", 1_000_000L),
        env.getDuration("BILLING_SHUTDOWN_GRACE", Duration.ofSeconds(10)),
        env.getDuration("BILLING_MAINTENANCE_INTERVAL", Duration.ofSeconds(10)),
        tokensFile,
        env.getDuration("BILLING_TOKENS_RELOAD", Duration.ofSeconds(5)),
        tls(env),
        new ResilienceConfig(
            env.getDuration("BILLING_DB_PROBE_INTERVAL", Duration.ofMillis(250)),
            env.getDuration("BILLING_DB_PROBE_TIMEOUT", Duration.ofMillis(500)),
            env.getDuration("BILLING_WEBHOOK_STORE_WAIT", Duration.ofSeconds(5)),
            env.getDuration("BILLING_PLACEHOLDER_CONFIRM_AFTER", Duration.ofMinutes(10)),
            env.getDuration("BILLING_RECONCILE_INTERVAL", Duration.ofHours(1)),
            env.getDuration("BILLING_METER_REPORT_INTERVAL", Duration.ofSeconds(1))),
        new ConsoleConfig(
            env.get("BILLING_CONSOLE_PORT").map(Integer::parseInt).orElse(null),
            env.get("BILLING_CONSOLE_BIND").orElse("127.0.0.1"),
            env.get("BILLING_CONSOLE_SECURE_COOKIE")
                .map(Boolean::parseBoolean)
                .orElse(env.get("BILLING_TLS_CERT").isPresent())));
  }

  private static boolean testClocks(Env env, String secretKey) {
    boolean on = Boolean.parseBoolean(env.get("STRIPE_TEST_CLOCKS", "false"));
    if (on && secretKey != null && secretKey.startsWith("sk_live_")) {
      throw new ConfigException(
          "STRIPE_TEST_CLOCKS=true needs a test key: test clocks do not exist in live mode");
    }
    return on;
  }

  private static TlsConfig tls(Env env) {
    var cert = env.get("BILLING_TLS_CERT").map(Path::of).orElse(null);
    var key = env.get("BILLING_TLS_KEY").map(Path::of).orElse(null);
    var ca = env.get("BILLING_TLS_CLIENT_CA").map(Path::of).orElse(null);
    if ((cert == null) != (key == null)) {
      throw new ConfigException(
          "BILLING_TLS_CERT and BILLING_TLS_KEY go together (PEM chain and PEM private key)");
    }
    if (ca != null && cert == null) {
      throw new ConfigException(
          "BILLING_TLS_CLIENT_CA (mutual TLS) needs BILLING_TLS_CERT and BILLING_TLS_KEY");
    }
    for (Path p : new Path[] {cert, key, ca}) {
      if (p != null && !java.nio.file.Files.isReadable(p)) {
        throw new ConfigException("TLS file " + p + " is not readable");
      }
    }
    return new TlsConfig(cert, key, ca);
  }

  /** A JDBC URL with any password parameter removed, fit for logs and errors. */
  public static String redactUrl(String url) {
    return url.replaceAll("(?i)(password=)[^&]*", "$1***");
  }
}
