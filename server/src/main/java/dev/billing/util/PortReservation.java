package dev.billing.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds TCP ports that a server will listen on later: each is bound by a socket that neither
 * listens nor connects, so nothing can connect to it, and the kernel never hands it out as the
 * local port of an outgoing connection meanwhile (the service's own start-up connections included,
 * which would otherwise make the later listen fail with "address already in use"). A port another
 * socket listens on (or an open connection holds) fails here, before the work the reservation
 * covers. Closing frees them at once.
 */
public final class PortReservation implements AutoCloseable {
  private final List<Socket> held = new ArrayList<>();

  private PortReservation() {}

  /**
   * Reserves these ports on every address; 0 and null (a port chosen at start, or none) skipped.
   */
  public static PortReservation of(Integer... ports) {
    PortReservation r = new PortReservation();
    try {
      for (Integer port : ports) {
        if (port == null || port == 0) {
          continue;
        }
        Socket s = new Socket();
        r.held.add(s);
        try {
          // As the server's listener will: connections of an earlier run in TIME_WAIT are no
          // conflict.
          s.setReuseAddress(true);
          s.bind(new InetSocketAddress(port));
        } catch (IOException e) {
          throw new UncheckedIOException("port " + port + " is in use: " + e.getMessage(), e);
        }
      }
      return r;
    } catch (RuntimeException e) {
      r.close();
      throw e;
    }
  }

  @Override
  public void close() {
    for (Socket s : held) {
      try {
        s.close();
      } catch (IOException e) {
        // a socket that never connected: nothing to flush
      }
    }
    held.clear();
  }
}
