package dev.billing.dev;

import dev.billing.config.BillingConfig;
import dev.billing.config.Catalog;
import dev.billing.config.Env;
import dev.billing.stripe.emulator.StripeEmulator;
import dev.billing.transport.grpc.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code make run}: the local stack. Starts an embedded MariaDB with its files under {@code
 * ./data/mariadb} (kept across runs) and the local Stripe emulator (port {@code
 * STRIPE_EMULATOR_PORT}, default 12111), then the production jar against both with {@code java
 * -jar}, exactly as it runs in production, pointed at the emulator by {@code STRIPE_API_BASE}.
 * Ctrl-C (or SIGTERM) stops everything, server first.
 *
 * <p>Set {@code BILLING_DB_URL} to use your own database instead of the embedded one, and {@code
 * STRIPE_SECRET_KEY} (or {@code STRIPE_API_BASE}) to use Stripe (or another emulator) instead of
 * the local one; both are read from the environment or {@code ./.env}.
 */
public final class LocalRun {
  private LocalRun() {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of("server/target/billing-server.jar");
    if (!Files.isRegularFile(jar)) {
      System.err.println("missing " + jar + ": run `make build` first");
      System.exit(1);
    }
    Env env = Env.load();
    EmbeddedMariaDb db = null;
    List<String[]> extraEnv = new ArrayList<>();
    if (env.get("BILLING_CONSOLE_PORT").isEmpty()) {
      extraEnv.add(new String[] {"BILLING_CONSOLE_PORT", "8081"});
      System.out.println(
          "[make run] operator console on http://localhost:8081/console/ (sign in with the"
              + " development token)");
    }
    if (env.get("BILLING_RECONCILE_INTERVAL").isEmpty()) {
      // Background reconciliation is off under make run (make reconcile runs it on demand).
      extraEnv.add(new String[] {"BILLING_RECONCILE_INTERVAL", "0s"});
    }
    if (env.get("BILLING_WARMUP_EVENTS").isEmpty()) {
      // make run starts at once; the production jar warms its webhook path up first (README).
      extraEnv.add(new String[] {"BILLING_WARMUP_EVENTS", "0"});
    }
    if (env.get("BILLING_DB_URL").isEmpty()) {
      Path root = Path.of("data", "mariadb").toAbsolutePath();
      int port = env.getInt("BILLING_DEV_DB_PORT", 0);
      System.out.println("[make run] starting embedded MariaDB 11.4 (files in " + root + ")");
      db = EmbeddedMariaDb.start(root, port, false);
      db.createDatabase("billing");
      extraEnv.add(new String[] {"BILLING_DB_URL", db.jdbcUrl("billing")});
      extraEnv.add(new String[] {"BILLING_DB_USER", "root"});
      extraEnv.add(new String[] {"BILLING_DB_PASSWORD", ""});
      System.out.println(
          "[make run] embedded MariaDB on 127.0.0.1:" + db.port() + ", database billing");
    }

    StripeEmulator stripe = null;
    try {
      if (env.get("STRIPE_SECRET_KEY").isEmpty() && env.get("STRIPE_API_BASE").isEmpty()) {
        String secret = env.get("STRIPE_WEBHOOK_SECRET", BillingConfig.LOCAL_WEBHOOK_SECRET);
        stripe =
            new StripeEmulator(
                env.getInt("STRIPE_EMULATOR_PORT", 12111),
                Catalog.fromEnv(env),
                secret.split(",")[0].strip(),
                Clock.systemUTC(),
                env.getDuration("STRIPE_EMULATOR_RETRY_BASE", Duration.ofSeconds(1)));
        stripe.setWebhookEndpoint(
            "http://localhost:" + env.getInt("BILLING_HTTP_PORT", 8080) + "/webhooks/stripe");
        stripe.start();
        extraEnv.add(new String[] {"STRIPE_API_BASE", stripe.apiBase()});
        // Each new customer on a test clock of its own: make advance-clock produces renewals.
        if (env.get("STRIPE_TEST_CLOCKS").isEmpty()) {
          extraEnv.add(new String[] {"STRIPE_TEST_CLOCKS", "true"});
        }
        extraEnv.add(new String[] {"STRIPE_WEBHOOK_SECRET", secret});
        System.out.println("[make run] local Stripe emulator on " + stripe.apiBase());
      }
      runServer(jar, env, db, stripe, extraEnv);
    } catch (Exception | Error e) {
      if (stripe != null) {
        stripe.close();
      }
      if (db != null) {
        db.close();
      }
      throw e;
    }
  }

  private static void runServer(
      Path jar, Env env, EmbeddedMariaDb db, StripeEmulator stripe, List<String[]> extraEnv)
      throws Exception {
    if (env.get("BILLING_TOKENS_FILE").isEmpty()) {
      Path tokens = Path.of("data", "dev-tokens").toAbsolutePath();
      Files.createDirectories(tokens.getParent());
      Files.writeString(
          tokens,
          "# Created by `make run`: the development token, all scopes. Never use it in production:\n"
              + "# the server refuses to start with it when a live Stripe key is configured.\n"
              + "local-dev admin "
              + TokenStore.sha256Hex(TokenStore.DEV_TOKEN)
              + "\n");
      extraEnv.add(new String[] {"BILLING_TOKENS_FILE", tokens.toString()});
      System.out.println(
          "[make run] development token (all scopes): "
              + TokenStore.DEV_TOKEN
              + "  ->  grpcurl -H 'authorization: Bearer "
              + TokenStore.DEV_TOKEN
              + "' ...");
    }

    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-jar");
    command.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    for (String[] kv : extraEnv) {
      pb.environment().put(kv[0], kv[1]);
    }
    Process server = pb.start();
    EmbeddedMariaDb database = db;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.destroy();
                  try {
                    if (!server.waitFor(20, TimeUnit.SECONDS)) {
                      server.destroyForcibly();
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  if (stripe != null) {
                    stripe.close();
                  }
                  if (database != null) {
                    database.close();
                  }
                },
                "local-run-stop"));
    int code = server.waitFor();
    if (database != null) {
      try {
        database.close();
      } catch (RuntimeException ignored) {
        // already stopped by the shutdown hook
      }
    }
    System.exit(code);
  }
}
