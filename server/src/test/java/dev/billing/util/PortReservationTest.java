package dev.billing.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class PortReservationTest {
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aReservedPortIsNotListenedOnAndIsFreeOnceClosed() throws IOException {
    int port = freePort();
    try (PortReservation reserved = PortReservation.of(port, 0, null)) {
      // Bound, not listening: a connection is refused (and the kernel never hands a bound port
      // out as the local port of an outgoing connection).
      assertThatThrownBy(
              () -> {
                try (Socket c = new Socket("127.0.0.1", port)) {
                  c.getOutputStream().write(1);
                }
              })
          .isInstanceOf(IOException.class);
    }
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(port));
      assertThat(s.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void aPortInUseFailsAtOnceAndSaysWhich() throws IOException {
    int free = freePort();
    try (ServerSocket busy = new ServerSocket(0)) {
      int port = busy.getLocalPort();
      assertThatThrownBy(() -> PortReservation.of(free, port))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageStartingWith("port " + port + " is in use");
      // The ports it had reserved before failing are free again.
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(free));
      }
    }
  }
}
