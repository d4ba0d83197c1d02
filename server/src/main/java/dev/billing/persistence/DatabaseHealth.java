package dev.billing.persistence;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the database answers, known without asking it on a request's path. A probe thread runs
 * {@code SELECT 1} every {@code interval} on a connection of its own (off the pool, with connect
 * and socket timeouts of {@code timeout}), so a database that is down or frozen is known within
 * {@code interval + timeout}. When it goes down, the connections transactions hold are aborted (a
 * statement blocked on a frozen server fails at once instead of waiting for its socket timeout) and
 * the listeners hear of it; the writers, the RPCs and readiness then answer "unavailable" at once
 * until a probe succeeds again.
 */
public final class DatabaseHealth implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DatabaseHealth.class);

  /** Told when the database goes down or comes back. */
  public interface Listener {
    void databaseDown();

    default void databaseUp() {}
  }

  private final String url;
  private final Properties credentials;
  private final Duration interval;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Set<Connection> inUse = ConcurrentHashMap.newKeySet();
  private final Executor aborter = Thread.ofVirtual().name("db-abort")::start;
  private volatile boolean up = true;
  private volatile boolean running = true;
  private Connection probe;
  private Thread thread;

  public DatabaseHealth(
      String url, String user, String password, Duration interval, Duration timeout) {
    this.url = Database.withTimeouts(url, timeout);
    this.credentials = new Properties();
    credentials.setProperty("user", user);
    if (password != null) {
      credentials.setProperty("password", password);
    }
    this.interval = interval;
  }

  /** A probe now, then every interval on a daemon thread. */
  public DatabaseHealth start() {
    probeOnce();
    thread = Thread.ofPlatform().daemon().name("db-probe").start(this::loop);
    return this;
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  /** True while the last probe succeeded. */
  public boolean isUp() {
    return up;
  }

  /** A connection a transaction holds: aborted if the database goes down meanwhile. */
  void register(Connection c) {
    inUse.add(c);
    if (!up) {
      abort(c);
    }
  }

  void unregister(Connection c) {
    inUse.remove(c);
  }

  private void loop() {
    while (running) {
      LockSupport.parkNanos(interval.toNanos());
      if (running) {
        probeOnce();
      }
    }
  }

  /** Probes the database once; returns whether it answered. */
  public synchronized boolean probeOnce() {
    boolean ok;
    try {
      if (probe == null || probe.isClosed()) {
        probe = DriverManager.getConnection(url, credentials);
      }
      try (Statement s = probe.createStatement()) {
        s.execute("SELECT 1");
      }
      ok = true;
    } catch (SQLException | RuntimeException e) {
      ok = false;
      closeProbe();
      if (up) {
        log.warn("database unreachable: {}", e.getMessage());
      }
    }
    if (ok != up) {
      up = ok;
      if (ok) {
        log.info("database reachable again");
        listeners.forEach(Listener::databaseUp);
      } else {
        inUse.forEach(this::abort);
        listeners.forEach(Listener::databaseDown);
      }
    }
    return ok;
  }

  private void abort(Connection c) {
    try {
      c.abort(aborter);
    } catch (SQLException | RuntimeException e) {
      log.debug("abort failed: {}", e.getMessage());
    }
  }

  private void closeProbe() {
    if (probe != null) {
      try {
        probe.abort(aborter);
      } catch (SQLException | RuntimeException ignored) {
        // It is being replaced.
      }
      probe = null;
    }
  }

  @Override
  public void close() {
    running = false;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closeProbe();
  }
}
