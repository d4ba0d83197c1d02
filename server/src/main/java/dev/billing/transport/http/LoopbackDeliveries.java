package dev.billing.transport.http;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Webhook deliveries to a loopback listener, with the request bytes Node's {@code http} sends (the
 * bench's webhook driver; the headers Stripe sets): lower-case headers, {@code Connection:
 * keep-alive}, head and body in one write, one delivery per kept-alive connection at a time. The
 * warm-up uses it instead of the JDK's {@code HttpClient}, whose code the service never runs and
 * which took about a fifth of the warm-up's JIT time (JFR compilation events, 2026-12-03).
 *
 * <p>Reads answers with a {@code Content-Length}, as the service's handlers send them. Not
 * thread-safe; blocking sockets with a read timeout, so a stuck server fails the warm-up instead of
 * hanging it.
 */
final class LoopbackDeliveries implements AutoCloseable {
  private final int port;
  private final String path;
  private final int timeoutMillis;
  private final List<Connection> connections = new ArrayList<>();

  LoopbackDeliveries(int port, String path, int timeoutMillis) {
    this.port = port;
    this.path = path;
    this.timeoutMillis = timeoutMillis;
  }

  /** A delivery's answer. */
  record Answer(int status, String body) {}

  /**
   * Sends every delivery (payload and its {@code Stripe-Signature}) at once, each on a connection
   * of its own, then reads the answers, in order.
   */
  List<Answer> post(List<String> payloads, List<String> signatures) throws IOException {
    while (connections.size() < payloads.size()) {
      connections.add(new Connection(port, timeoutMillis));
    }
    for (int i = 0; i < payloads.size(); i++) {
      connections.get(i).send(request(payloads.get(i), signatures.get(i)));
    }
    List<Answer> answers = new ArrayList<>(payloads.size());
    for (int i = 0; i < payloads.size(); i++) {
      answers.add(connections.get(i).answer());
    }
    return answers;
  }

  private byte[] request(String payload, String signature) {
    byte[] body = payload.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST "
            + path
            + " HTTP/1.1\r\n"
            + "content-type: application/json; charset=utf-8\r\n"
            + "content-length: "
            + body.length
            + "\r\n"
            + "stripe-signature: "
            + signature
            + "\r\n"
            + "user-agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
            + "Host: 127.0.0.1:"
            + port
            + "\r\n"
            + "Connection: keep-alive\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + body.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    return all;
  }

  /**
   * A health check as probes send it (curl's request: {@code GET}, no body, {@code Accept: *}{@code
   * /*}) on a connection of its own, closed after the answer. Probes come between deliveries all
   * day long; code compiled only for deliveries' {@code POST}s is deoptimised at the first probe
   * (JFR deoptimisation events in {@code RequestParser.handle}, {@code Connectors}, {@code
   * PathHandler}) and compiled again under load.
   */
  Answer probe(String probePath) throws IOException {
    Connection c = new Connection(port, timeoutMillis);
    try {
      c.send(
          ("GET "
                  + probePath
                  + " HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      return c.answer();
    } finally {
      c.close();
    }
  }

  @Override
  public void close() {
    for (Connection c : connections) {
      c.close();
    }
    connections.clear();
  }

  /** One kept-alive connection. */
  private static final class Connection {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    Connection(int port, int timeoutMillis) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(timeoutMillis);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream());
    }

    void send(byte[] request) throws IOException {
      out.write(request);
      out.flush();
    }

    /** Reads one response: status line, headers, a body of Content-Length bytes. */
    Answer answer() throws IOException {
      String status = line();
      String[] parts = status.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP response: " + status);
      }
      int code = Integer.parseInt(parts[1]);
      long length = -1;
      for (String header = line(); !header.isEmpty(); header = line()) {
        int colon = header.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = header.substring(colon + 1).trim();
        if (name.equals("content-length")) {
          length = Long.parseLong(value);
        }
      }
      if (length < 0) {
        throw new IOException("HTTP " + code + " without Content-Length");
      }
      byte[] body = in.readNBytes((int) length);
      if (body.length < length) {
        throw new IOException("connection closed mid-response");
      }
      return new Answer(code, new String(body, StandardCharsets.UTF_8));
    }

    private String line() throws IOException {
      StringBuilder sb = new StringBuilder();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new IOException("connection closed");
        }
        if (c != '\r') {
          sb.append((char) c);
        }
      }
      return sb.toString();
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
