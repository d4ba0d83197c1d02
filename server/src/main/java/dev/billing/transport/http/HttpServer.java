package dev.billing.transport.http;

import dev.billing.persistence.DatabaseHealth;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.net.InetSocketAddress;

/**
 * The embedded Undertow server: {@code POST /webhooks/stripe}, {@code GET /healthz} and {@code GET
 * /readyz} (readiness: 200 only while the database answers), {@code GET /livez} (liveness: the
 * process serves) and {@code GET /metrics} (Prometheus text).
 */
public final class HttpServer implements AutoCloseable {
  private final Undertow undertow;

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
            .setWorkerThreads(Math.max(8, Runtime.getRuntime().availableProcessors() * 8))
            .build();
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
  }
}
