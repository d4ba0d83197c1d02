package dev.billing.transport.http;

import dev.billing.persistence.DatabaseHealth;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * The embedded Undertow server: {@code POST /webhooks/stripe}, {@code GET /healthz} and {@code GET
 * /readyz} (readiness: 200 only while the database answers), {@code GET /livez} (liveness: the
 * process serves) and {@code GET /metrics} (Prometheus text).
 */
public final class HttpServer implements AutoCloseable {
  private final Undertow undertow;
  private final XnioWorker worker;
  private final ByteBufferPool buffers;
  private final DatabaseHealth health;
  private final PrometheusMeterRegistry metrics;

  /** Whether this server made {@link #worker} and {@link #buffers}, and so ends them. */
  private final boolean owner;

  public HttpServer(
      int port, HttpHandler webhook, DatabaseHealth health, PrometheusMeterRegistry metrics) {
    this("0.0.0.0", port, webhook, health, metrics);
  }

  /** The same routes on {@code host:port} (port 0: any free port, see {@link #port()}). */
  public HttpServer(
      String host,
      int port,
      HttpHandler webhook,
      DatabaseHealth health,
      PrometheusMeterRegistry metrics) {
    this(host, port, webhook, health, metrics, newWorker(), newBuffers(), true);
  }

  private HttpServer(
      String host,
      int port,
      HttpHandler webhook,
      DatabaseHealth health,
      PrometheusMeterRegistry metrics,
      XnioWorker worker,
      ByteBufferPool buffers,
      boolean owner) {
    this.worker = worker;
    this.buffers = buffers;
    this.health = health;
    this.metrics = metrics;
    this.owner = owner;
    HttpHandler routes =
        Handlers.path()
            .addExactPath("/webhooks/stripe", webhook)
            // Readiness (the database answers) and liveness, from memory on the I/O thread: they
            // answer at once whatever the load and whatever the database does.
            .addExactPath("/healthz", getOrHead(exchange -> ready(exchange, health)))
            .addExactPath("/readyz", getOrHead(exchange -> ready(exchange, health)))
            .addExactPath("/livez", getOrHead(HttpServer::live))
            .addExactPath(
                "/metrics",
                getOnly(
                    exchange -> {
                      exchange
                          .getResponseHeaders()
                          .put(Headers.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                      exchange.getResponseSender().send(metrics.scrape());
                    }));
    this.undertow =
        Undertow.builder()
            .addHttpListener(port, host)
            .setHandler(routes)
            .setWorker(worker)
            .setByteBufferPool(buffers)
            .build();
  }

  /**
   * The same routes, with {@code webhook} for the webhooks, on a loopback port of its own (see
   * {@link #port()}), served by this server's I/O and worker threads from its buffers: the warm-up
   * runs on the threads, thread-local buffer caches and accept path that real deliveries will use,
   * so what is compiled for it is not compiled again (deoptimised) when they come. Closing it
   * leaves this server's threads running.
   */
  public HttpServer loopbackTwin(HttpHandler webhook) {
    return new HttpServer("127.0.0.1", 0, webhook, health, metrics, worker, buffers, false);
  }

  /** The I/O and worker threads, set as {@link Undertow#start()} sets its own. */
  private static XnioWorker newWorker() {
    int ioThreads = Math.max(Runtime.getRuntime().availableProcessors(), 2);
    int workerThreads = Math.max(8, Runtime.getRuntime().availableProcessors() * 8);
    try {
      return Xnio.getInstance(Undertow.class.getClassLoader())
          .createWorker(
              OptionMap.builder()
                  .set(Options.WORKER_IO_THREADS, ioThreads)
                  .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
                  .set(Options.CONNECTION_LOW_WATER, 1_000_000)
                  .set(Options.WORKER_TASK_CORE_THREADS, workerThreads)
                  .set(Options.WORKER_TASK_MAX_THREADS, workerThreads)
                  .set(Options.TCP_NODELAY, true)
                  .set(Options.CORK, true)
                  .getMap());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the HTTP server's threads", e);
    }
  }

  /** Direct 16 KB buffers, as {@link Undertow} makes for a heap of 128 MB or more. */
  private static ByteBufferPool newBuffers() {
    return new DefaultByteBufferPool(true, 16 * 1024, -1, 4);
  }

  /** GET or HEAD, run on a worker thread (the handler may block). */
  private static HttpHandler getOnly(HttpHandler next) {
    HttpHandler checked = getOrHead(next);
    return exchange -> {
      if (exchange.isInIoThread()) {
        exchange.dispatch(checked);
        return;
      }
      checked.handleRequest(exchange);
    };
  }

  /** GET or HEAD, answered on the calling thread (the I/O thread: the handler must not block). */
  private static HttpHandler getOrHead(HttpHandler next) {
    return exchange -> {
      if (!Methods.GET.equals(exchange.getRequestMethod())
          && !Methods.HEAD.equals(exchange.getRequestMethod())) {
        exchange.setStatusCode(405);
        exchange.getResponseHeaders().put(Headers.ALLOW, "GET");
        exchange.getResponseSender().send("method not allowed\n");
        return;
      }
      next.handleRequest(exchange);
    };
  }

  private static void live(HttpServerExchange exchange) {
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseSender().send("{\"status\":\"alive\"}");
  }

  private static void ready(HttpServerExchange exchange, DatabaseHealth health) {
    boolean up = health.isUp();
    exchange.setStatusCode(up ? 200 : 503);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange
        .getResponseSender()
        .send(up ? "{\"status\":\"ok\"}" : "{\"status\":\"database unavailable\"}");
  }

  public void start() {
    undertow.start();
  }

  public int port() {
    return ((InetSocketAddress) undertow.getListenerInfo().getFirst().getAddress()).getPort();
  }

  @Override
  public void close() {
    undertow.stop();
    if (owner) {
      worker.shutdown();
      try {
        if (!worker.awaitTermination(5, TimeUnit.SECONDS)) {
          worker.shutdownNow();
        }
      } catch (InterruptedException e) {
        worker.shutdownNow();
        Thread.currentThread().interrupt();
      }
      buffers.close();
    }
  }
}
