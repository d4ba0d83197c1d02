package dev.billing.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.billing.client.BillingClient;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import io.grpc.StatusRuntimeException;
import io.grpc.testing.TlsTesting;
import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gRPC over TLS with client certificates required (mTLS), using grpc-java's test certificates. */
class TransportSecurityTest {
  @TempDir static Path dir;
  private static TestServer server;
  private static File ca;
  private static File clientCert;
  private static File clientKey;

  private static File cert(String name) throws Exception {
    Path p = dir.resolve(name);
    try (InputStream in = TlsTesting.loadCert(name)) {
      Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
    }
    return p.toFile();
  }

  @BeforeAll
  static void start() throws Exception {
    ca = cert("ca.pem");
    clientCert = cert("client.pem");
    clientKey = cert("client.key");
    server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of(
                "BILLING_TLS_CERT", cert("server1.pem").toString(),
                "BILLING_TLS_KEY", cert("server1.key").toString(),
                "BILLING_TLS_CLIENT_CA", ca.toString()));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static BillingClient.Builder tls() {
    // server1.pem is issued for *.test.google.fr; check it under that name.
    return BillingClient.builder(server.grpcTarget())
        .trustCertificates(ca)
        .overrideAuthority("foo.test.google.fr")
        .bearerToken(TestServer.ADMIN_TOKEN)
        .deadline(Duration.ofSeconds(5));
  }

  @Test
  void aClientWithACertificateSignedByTheClientCaGetsIn() {
    try (BillingClient client = tls().clientCertificate(clientCert, clientKey).build()) {
      assertThat(client.getEntitlement("tls-user").getTier()).isEqualTo("free");
    }
  }

  @Test
  void withoutAClientCertificateOrWithoutTlsTheConnectionIsRefused() {
    try (BillingClient noCert = tls().build()) {
      assertThatThrownBy(() -> noCert.getEntitlement("tls-user"))
          .isInstanceOf(StatusRuntimeException.class);
    }
    try (BillingClient plain =
        BillingClient.builder(server.grpcTarget())
            .bearerToken(TestServer.ADMIN_TOKEN)
            .deadline(Duration.ofSeconds(5))
            .build()) {
      assertThatThrownBy(() -> plain.getEntitlement("tls-user"))
          .isInstanceOf(StatusRuntimeException.class);
    }
  }
}
