package dev.billing.dev;

import dev.billing.grpc.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code make run}: the local stack. Starts an embedded MariaDB with its files under {@code
 * ./data/mariadb} (kept across runs), then the production jar against it with {@code java -jar},
 * exactly as it runs in production. Ctrl-C (or SIGTERM) stops both, server first.
 *
 * <p>Set {@code BILLING_DB_URL} to use your own database instead of the embedded one.
 */
public final class LocalRun {
  private LocalRun() {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of("server/target/billing-server.jar");
    if (!Files.isRegularFile(jar)) {
      System.err.println("missing " + jar + ": run `make build` first");
      System.exit(1);
    }
    Map<String, String> env = System.getenv();
    EmbeddedMariaDb db = null;
    List<String[]> extraEnv = new ArrayList<>();
    if (env.getOrDefault("BILLING_DB_URL", "").isBlank()) {
      Path root = Path.of("data", "mariadb").toAbsolutePath();
      int port = Integer.parseInt(env.getOrDefault("BILLING_DEV_DB_PORT", "0"));
      System.out.println("[make run] starting embedded MariaDB 11.4 (files in " + root + ")");
      db = EmbeddedMariaDb.start(root, port, false);
      db.createDatabase("billing");
      extraEnv.add(new String[] {"BILLING_DB_URL", db.jdbcUrl("billing")});
      extraEnv.add(new String[] {"BILLING_DB_USER", "root"});
      extraEnv.add(new String[] {"BILLING_DB_PASSWORD", ""});
      System.out.println(
          "[make run] embedded MariaDB on 127.0.0.1:" + db.port() + ", database billing");
    }

    try {
      runServer(jar, env, db, extraEnv);
    } catch (Exception | Error e) {
      if (db != null) {
        db.close();
      }
      throw e;
    }
  }

  private static void runServer(
      Path jar, Map<String, String> env, EmbeddedMariaDb db, List<String[]> extraEnv)
      throws Exception {
    if (env.getOrDefault("BILLING_TOKENS_FILE", "").isBlank()) {
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
