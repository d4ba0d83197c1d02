package dev.billing.transport.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.testing.HeadlessChromium;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;

/**
 * The operator console in headless Chromium: an admin signs in, finds a user by Stripe customer,
 * reads the timeline and the Stripe event behind a change (secrets masked), grants credits through
 * the confirmation, replays a dead letter; a console (read-only) token cannot act; requests without
 * a session or without the CSRF token are refused.
 */
class ConsoleBrowserTest {
  private static TestServer server;
  private static BillingClient client;
  private static WebDriver browser;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    browser = HeadlessChromium.start();
    server = TestServer.start(TestDatabase.fresh(), Map.of("BILLING_CONSOLE_PORT", "0"));
    client = server.client();
    base = server.server().console().url();
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
  }

  private static void signIn(String token) {
    browser.manage().deleteAllCookies();
    browser.get(base + "login");
    browser.findElement(By.id("token")).sendKeys(token);
    browser.findElement(By.id("sign-in")).click();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !browser.findElements(By.id("logout")).isEmpty()
                    || !browser.findElements(By.id("error")).isEmpty());
  }

  private static String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  private static void awaitElement(String id) {
    await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElements(By.id(id)).size() == 1);
  }

  /**
   * Clicks an action, checks that its confirmation page states {@code effect}, confirms it; returns
   * what the result page says was done.
   */
  private static String confirmed(By action, String effect) {
    browser.findElement(action).click();
    awaitElement("effect"); // the next page, not the one clicked on
    assertThat(text("effect")).contains(effect);
    browser.findElement(By.id("confirm")).click();
    awaitElement("done");
    return text("done");
  }

  @Test
  void anAdminFindsAUserReadsWhyAndGrantsCreditsWithAConfirmation() throws Exception {
    long now = Instant.now().getEpochSecond();
    Sub sub = Sub.of("sub_console_1", "cus_console_1", "console-user", "price_pro", "active");
    assertThat(
            server
                .postSigned(
                    StripeFixtures.subscriptionEvent(
                        "evt_console_1", "customer.subscription.created", now, sub))
                .statusCode())
        .isEqualTo(200);
    // The subscription event links the Stripe customer to the user.
    assertThat(
            server.queryString(
                "SELECT user_id FROM customers WHERE stripe_customer_id = 'cus_console_1'"))
        .isEqualTo("console-user");

    signIn(TestServer.ADMIN_TOKEN);
    browser.findElement(By.id("q")).sendKeys("cus_console_1");
    browser.findElement(By.id("search")).click();
    awaitElement("tier");
    assertThat(text("tier")).isEqualTo("pro");
    assertThat(text("timeline")).contains("entitlement.changed").contains("evt_console_1");
    // The Stripe event behind the change, one click away, secrets masked.
    browser.findElement(By.linkText("evt_console_1")).click();
    awaitElement("payload"); // the next page, not the one clicked on
    assertThat(text("payload")).contains("customer.subscription.created");

    browser.get(base + "users/console-user");
    browser.findElement(By.id("amount")).sendKeys("250");
    browser.findElement(By.id("reason")).sendKeys("goodwill after outage");
    browser.findElement(By.id("grant")).click();
    awaitElement("effect"); // the next page, not the one clicked on
    assertThat(text("effect")).contains("from 0 to 250");
    String confirmPage = browser.getCurrentUrl();
    browser.findElement(By.id("confirm")).click();
    awaitElement("done");
    assertThat(text("done")).contains("Granted 250 credits");
    assertThat(client.getEntitlement("console-user").getCreditBalance()).isEqualTo(250);
    if (browser instanceof TakesScreenshot shot) {
      // What the README's screenshot (docs/console.png) was copied from.
      browser.manage().window().setSize(new org.openqa.selenium.Dimension(1200, 1500));
      Files.write(Path.of("target", "console.png"), shot.getScreenshotAs(OutputType.BYTES));
    }
    // The confirmation submitted twice (same form, same key) grants once.
    browser.navigate().back();
    assertThat(browser.getCurrentUrl()).isEqualTo(confirmPage);
    browser.findElement(By.id("confirm")).click();
    awaitElement("done");
    assertThat(text("done")).contains("Already granted");
    assertThat(client.getEntitlement("console-user").getCreditBalance()).isEqualTo(250);
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE actor = 'console:test-admin'"
                    + " AND (action = 'console.login' OR action LIKE 'credits.%')"))
        .isGreaterThanOrEqualTo(2);
    assertThat(browser.findElements(By.id("chart"))).hasSize(1);
  }

  @Test
  void anAdminFindsAUserByEmailRefundsCancelsAndComparesWithStripe() throws Exception {
    String user = server.subscribedUser("pro", "con_");
    String customer =
        server.queryString("SELECT stripe_customer_id FROM customers WHERE user_id = ?", user);
    assertThat(
            server
                .stripeApi("POST", "/v1/customers/" + customer, "email=case-42%40example.test")
                .statusCode())
        .isEqualTo(200);
    signIn(TestServer.ADMIN_TOKEN);
    // Keyboard first: the skip link is the first stop.
    browser.findElement(By.tagName("body")).sendKeys(org.openqa.selenium.Keys.TAB);
    assertThat(browser.switchTo().activeElement().getText()).isEqualTo("Skip to content");
    browser.findElement(By.id("q")).sendKeys("case-42@example.test");
    browser.findElement(By.id("search")).click();
    awaitElement("tier");
    assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo(user);

    assertThat(confirmed(By.cssSelector("a.refund"), "Stripe refunds 1900 usd"))
        .contains("Refund re_");
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND actor = 'console:test-admin'"
                    + " AND action LIKE 'payment.refund%'",
                user))
        .isEqualTo(1);

    assertThat(confirmed(By.cssSelector("a.cancel"), "At the end of the period"))
        .contains("at the end of the period");
    String subscription = client.getEntitlement(user).getSubscriptionId();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> client.getEntitlement(user).getCancelAtPeriodEnd());
    assertThat(server.stripeApi("GET", "/v1/subscriptions/" + subscription, null).body())
        .contains("\"cancel_at_period_end\":true");

    browser.get(base + "reconcile");
    browser.findElement(By.id("run")).click();
    awaitElement("summary");
    assertThat(text("summary")).contains("subscriptions compared");
  }

  @Test
  void anAdminReplaysADeadLetter() {
    server.execute(
        "INSERT INTO stripe_events (id, type, created, payload, status, attempts, last_error)"
            + " VALUES ('evt_dead_1', 'customer.subscription.updated', 1,"
            + " '{\"id\":\"evt_dead_1\"}', 'dead', 8, 'boom')");
    signIn(TestServer.ADMIN_TOKEN);
    browser.get(base + "dead-letters");
    assertThat(text("dead")).contains("evt_dead_1");
    assertThat(confirmed(By.cssSelector("a.replay"), "applied again"))
        .contains("evt_dead_1 requeued");
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'console.replay'"
                    + " AND entity_id = 'evt_dead_1'"))
        .isEqualTo(1);
  }

  @Test
  void aConsoleTokenReadsButCannotActAndNothingIsServedWithoutASessionOrCsrf() throws Exception {
    signIn(TestServer.SCOPED_TOKENS.get("console"));
    browser.get(base + "users/reader-checked");
    awaitElement("tier");
    assertThat(browser.findElements(By.id("grant"))).isEmpty();
    browser.get(base + "users/reader-checked/grant?amount=5&reason=x");
    browser.findElement(By.id("confirm")).click();
    awaitElement("status");
    assertThat(text("status")).contains("admin scope");
    assertThat(client.getEntitlement("reader-checked").getCreditBalance()).isZero();

    HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    // No session: pages send to sign-in, actions are refused.
    HttpResponse<String> page =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "users/x")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(303);
    assertThat(page.headers().firstValue("location")).hasValue("/console/login");
    HttpResponse<String> action =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "users/x/grant"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("amount=5&reason=x&key=k"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(action.statusCode()).isEqualTo(401);
    // An admin session without the CSRF token: refused.
    signIn(TestServer.ADMIN_TOKEN);
    var cookie = browser.manage().getCookieNamed(ConsoleServer.COOKIE);
    assertThat(cookie.isHttpOnly()).isTrue();
    assertThat(cookie.getSameSite()).isEqualTo("Strict");
    HttpResponse<String> forged =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "users/x/grant"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Cookie", ConsoleServer.COOKIE + "=" + cookie.getValue())
                .POST(HttpRequest.BodyPublishers.ofString("amount=5&reason=x&key=k"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(client.getEntitlement("x").getCreditBalance()).isZero();
    // A token that is not in the tokens file does not sign in; the refusal is audited.
    signIn("not-a-token");
    awaitElement("error");
    assertThat(text("error")).contains("not in the tokens file");
    assertThat(
            server.queryLong(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'console.login_refused'"))
        .isPositive();
  }
}
