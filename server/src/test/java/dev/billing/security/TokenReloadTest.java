package dev.billing.security;

import static dev.billing.testing.GrpcErrors.codeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BearerToken;
import dev.billing.config.ConfigException;
import dev.billing.proto.v1.BillingServiceGrpc;
import dev.billing.proto.v1.GetEntitlementRequest;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import dev.billing.transport.grpc.TokenStore;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens are added, rotated and revoked by editing the tokens file, without a restart. */
class TokenReloadTest {
  @TempDir Path dir;

  private static String line(String service, String scopes, String token) {
    return service + " " + scopes + " " + TokenStore.sha256Hex(token) + "\n";
  }

  private static Status.Code getEntitlement(TestServer server, String token) {
    return codeOf(
        () ->
            BillingServiceGrpc.newBlockingStub(server.channel())
                .withCallCredentials(new BearerToken(token))
                .getEntitlement(GetEntitlementRequest.newBuilder().setUserId("u-reload").build()));
  }

  private static double reloads(TestServer server, String outcome) {
    return server.metric("billing_tokens_reloads_total{outcome=\"" + outcome + "\"}");
  }

  /** Writes the file in one move, as a deployment tool (or a Kubernetes secret) does. */
  private void write(Path file, String contents) throws IOException {
    Path tmp = Files.createTempFile(dir, "tokens", ".tmp");
    Files.writeString(tmp, contents);
    Files.move(
        tmp,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void editsToTheTokensFileTakeEffectWithoutARestart() throws Exception {
    Path file = dir.resolve("tokens");
    write(file, line("svc-a", "entitlements:read", "token-a-0123456789"));
    try (TestServer server =
        TestServer.start(
            TestDatabase.fresh(),
            Map.of("BILLING_TOKENS_FILE", file.toString(), "BILLING_TOKENS_RELOAD", "50ms"))) {
      assertThat(getEntitlement(server, "token-a-0123456789")).isEqualTo(Status.Code.OK);
      assertThat(getEntitlement(server, "token-b-0123456789"))
          .isEqualTo(Status.Code.UNAUTHENTICATED);

      // Rotation: b replaces a.
      write(file, line("svc-b", "entitlements:read", "token-b-0123456789"));
      // (the counter moves just after the new tokens are in force)
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  reloads(server, "applied") >= 1
                      && getEntitlement(server, "token-b-0123456789") == Status.Code.OK);
      assertThat(getEntitlement(server, "token-a-0123456789"))
          .isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(reloads(server, "applied")).isEqualTo(1);

      // A broken file is refused: b keeps working.
      write(file, "svc-b entitlements:read not-a-hash\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> reloads(server, "refused") >= 1);
      assertThat(getEntitlement(server, "token-b-0123456789")).isEqualTo(Status.Code.OK);

      // Narrowing b's scopes takes effect too.
      write(file, line("svc-b", "stream:read", "token-b-0123456789"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> getEntitlement(server, "token-b-0123456789") == Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void theDevelopmentTokenIsRefusedNextToALiveKeyAtStartAndOnReload() throws Exception {
    Path file = dir.resolve("tokens-live");
    write(file, line("make-run", "admin", TokenStore.DEV_TOKEN));
    assertThatThrownBy(() -> TokenStore.load(file, true))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("development token");

    write(file, line("svc-a", "admin", "token-a-0123456789"));
    TokenStore store = TokenStore.load(file, true);
    write(
        file,
        line("svc-a", "admin", "token-a-0123456789")
            + line("make-run", "admin", TokenStore.DEV_TOKEN));
    assertThatThrownBy(store::reloadIfChanged).isInstanceOf(ConfigException.class);
    assertThat(store.authenticate(TokenStore.DEV_TOKEN)).isNull();
    assertThat(store.authenticate("token-a-0123456789")).isNotNull();

    // Without a live key the same file is fine, and an unchanged file is not reloaded twice.
    TokenStore relaxed = TokenStore.load(file, false);
    assertThat(relaxed.authenticate(TokenStore.DEV_TOKEN)).isNotNull();
    assertThat(relaxed.reloadIfChanged()).isFalse();
  }
}
