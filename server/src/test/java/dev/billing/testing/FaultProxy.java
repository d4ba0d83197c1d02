package dev.billing.testing;

import dev.billing.config.BillingConfig.DatabaseConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of the test database that can take it away without touching the database
 * other tests share: {@link #freeze} (connections stay open, nothing gets through: a hung or
 * SIGSTOPped server), {@link #kill} (every connection closed, new ones refused: a crashed server)
 * and {@link #restore}.
 */
public final class FaultProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private volatile boolean frozen;
  private volatile boolean killed;
  private volatile boolean closed;

  public FaultProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("fault-proxy-accept").start(this::acceptLoop);
  }

  /** A proxy in front of the database of {@code db}, and the same config pointed through it. */
  public static FaultProxy in(DatabaseConfig db) throws IOException {
    URI u = URI.create(db.url().substring("jdbc:".length()));
    return new FaultProxy(u.getHost(), u.getPort());
  }

  /** {@code db} with its host and port replaced by this proxy's. */
  public DatabaseConfig through(DatabaseConfig db) {
    String url = db.url().replaceFirst("//[^/]+/", "//127.0.0.1:" + listener.getLocalPort() + "/");
    return new DatabaseConfig(url, db.user(), db.password(), db.poolSize());
  }

  public void freeze() {
    frozen = true;
  }

  public void kill() {
    killed = true;
    open.forEach(FaultProxy::closeQuietly);
    open.clear();
  }

  public void restore() {
    killed = false;
    synchronized (gate) {
      frozen = false;
      gate.notifyAll();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        if (killed) {
          closeQuietly(client);
          continue;
        }
        Thread.ofVirtual().start(() -> connect(client));
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void connect(Socket client) {
    try {
      waitWhileFrozen();
      Socket server = new Socket();
      server.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
      open.add(client);
      open.add(server);
      if (killed) { // killed while this connection was being made: it dies with the rest
        closeQuietly(client);
        closeQuietly(server);
        return;
      }
      Thread.ofVirtual().start(() -> pipe(client, server));
      Thread.ofVirtual().start(() -> pipe(server, client));
    } catch (IOException | InterruptedException e) {
      closeQuietly(client);
    }
  }

  private void waitWhileFrozen() throws InterruptedException {
    synchronized (gate) {
      while (frozen && !closed) {
        gate.wait();
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        waitWhileFrozen(); // held, as a stopped server would hold it
        if (killed) {
          return;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // The other side closed, or the proxy killed the connection.
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      open.remove(from);
      open.remove(to);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    restore();
    kill();
    closeQuietly(listener);
  }

  private static void closeQuietly(ServerSocket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
