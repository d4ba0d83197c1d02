package dev.billing.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BillingConfigTest {
  private static final Map<String, String> MINIMAL =
      Map.of(
          "BILLING_DB_URL",
          "jdbc:mysql://db:3306/billing",
          "BILLING_TOKENS_FILE",
          "/etc/billing/tokens",
          "STRIPE_API_BASE",
          "http://127.0.0.1:12111");

  @Test
  void missingDatabaseUrlSaysHowToSetIt() {
    assertThatThrownBy(() -> BillingConfig.fromEnv(Env.of(Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("BILLING_DB_URL")
        .hasMessageContaining("jdbc:mysql://")
        .hasMessageContaining("make run");
  }

  @Test
  void missingTokensFileSaysWhatToPutInIt() {
    assertThatThrownBy(
            () ->
                BillingConfig.fromEnv(
                    Env.of(Map.of("BILLING_DB_URL", "jdbc:mysql://db:3306/billing"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("BILLING_TOKENS_FILE")
        .hasMessageContaining("sha256");
  }

  @Test
  void halfATlsConfigurationIsRefused() {
    assertThatThrownBy(
            () -> BillingConfig.fromEnv(Env.of(MINIMAL).with(Map.of("BILLING_TLS_CERT", "/x.pem"))))
        .hasMessageContaining("BILLING_TLS_KEY");
  }

  @Test
  void defaultsFollowTheContract() {
    BillingConfig c = BillingConfig.fromEnv(Env.of(MINIMAL));
    assertThat(c.grpcPort()).isEqualTo(9090);
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.stripe().emulated()).isTrue();
    assertThat(c.stripe().webhookSecrets()).containsExactly(BillingConfig.LOCAL_WEBHOOK_SECRET);
    assertThat(c.catalog().planForPrice("price_pro")).map(Plan::name).contains("pro");
    assertThat(c.catalog().plan("studio").orElseThrow().limits())
        .containsEntry("monthly_limit", 500L);
    assertThat(c.pastDueGrace()).isEqualTo(Duration.ofDays(3));
    assertThat(c.allowedOrigins())
        .extracting(Object::toString)
        .containsExactly("http://localhost:3000");
    assertThat(c.stripe().emulated()).isTrue();
    assertThat(c.stripe().apiBase()).isEqualTo("http://127.0.0.1:12111");
  }

  @Test
  void noStripeKeyAndNoApiBaseSaysHowToSetThem() {
    var env =
        Env.of(
            Map.of(
                "BILLING_DB_URL",
                "jdbc:mysql://db:3306/billing",
                "BILLING_TOKENS_FILE",
                "/etc/billing/tokens"));
    assertThatThrownBy(() -> BillingConfig.fromEnv(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("STRIPE_SECRET_KEY is not set")
        .hasMessageContaining("STRIPE_API_BASE")
        .hasMessageContaining("stripe-emulator.jar");
  }

  @Test
  void aSecretKeyTalksToStripeItself() {
    var env =
        Env.of(
            Map.of(
                "BILLING_DB_URL", "jdbc:mysql://db:3306/billing",
                "BILLING_TOKENS_FILE", "/etc/billing/tokens",
                "STRIPE_SECRET_KEY", "sk_test_abc",
                "STRIPE_WEBHOOK_SECRET", "whsec_abc"));
    BillingConfig c = BillingConfig.fromEnv(env);
    assertThat(c.stripe().emulated()).isFalse();
    assertThat(c.stripe().apiBase()).isEqualTo("https://api.stripe.com");
  }

  @Test
  void aLiveSecretKeyRequiresAWebhookSecret() {
    var env = Env.of(MINIMAL).with(Map.of("STRIPE_SECRET_KEY", "sk_test_abc"));
    assertThatThrownBy(() -> BillingConfig.fromEnv(env))
        .hasMessageContaining("STRIPE_WEBHOOK_SECRET")
        .hasMessageNotContaining("sk_test_abc");
  }

  @Test
  void twoWebhookSecretsForRotationAndPricesFromTheEnvironment() {
    var env =
        Env.of(MINIMAL)
            .with(
                Map.of(
                    "STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new",
                    "STRIPE_PRICE_PRO", "price_1ABC",
                    "BILLING_PAST_DUE_GRACE", "36h"));
    BillingConfig c = BillingConfig.fromEnv(env);
    assertThat(c.stripe().webhookSecrets()).containsExactly("whsec_old", "whsec_new");
    assertThat(c.catalog().planForPrice("price_1ABC")).map(Plan::name).contains("pro");
    assertThat(c.pastDueGrace()).isEqualTo(Duration.ofHours(36));
  }

  @Test
  void webhookSecretMustKeepItsPrefix() {
    assertThatThrownBy(
            () ->
                BillingConfig.fromEnv(Env.of(MINIMAL).with(Map.of("STRIPE_WEBHOOK_SECRET", "abc"))))
        .hasMessageContaining("whsec_");
  }

  @Test
  void dotEnvIsReadAndTheEnvironmentWins(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(".env");
    Files.writeString(
        file,
        "# comment\nBILLING_GRPC_PORT=7000\nexport BILLING_HTTP_PORT=\"7001\"\nBILLING_DB_URL=jdbc:mysql://x/y\nBILLING_TOKENS_FILE=/t\n"
            + "STRIPE_API_BASE=http://127.0.0.1:12111\n");
    Env env = Env.load(file, Map.of("BILLING_GRPC_PORT", "7100"));
    BillingConfig c = BillingConfig.fromEnv(env);
    assertThat(c.grpcPort()).isEqualTo(7100);
    assertThat(c.httpPort()).isEqualTo(7001);
  }

  @Test
  void catalogFileReplacesTheDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("catalog.json");
    Files.writeString(
        file,
        """
        {"plans":[{"name":"free","rank":0},
                  {"name":"team","price_id":"price_team","rank":1,"features":["sso"],"limits":{"seats":10},"amount":9900}],
         "credit_packages":[{"id":"credits_42","credits":42,"amount":42}]}
        """);
    BillingConfig c =
        BillingConfig.fromEnv(Env.of(MINIMAL).with(Map.of("BILLING_CATALOG", file.toString())));
    assertThat(c.catalog().planForPrice("price_team").orElseThrow().features())
        .containsExactly("sso");
    assertThat(c.catalog().plan("pro")).isEmpty();
    assertThat(c.catalog().creditPackage("credits_42").orElseThrow().credits()).isEqualTo(42);
  }

  @Test
  void badDurationsAreExplained() {
    assertThatThrownBy(
            () ->
                BillingConfig.fromEnv(
                    Env.of(MINIMAL).with(Map.of("BILLING_PAST_DUE_GRACE", "soon"))))
        .hasMessageContaining("BILLING_PAST_DUE_GRACE");
  }
}
