package dev.billing.domain.checkout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.proto.v1.CheckoutMode;
import dev.billing.proto.v1.CreateCheckoutRequest;
import dev.billing.proto.v1.CreateCheckoutResponse;
import dev.billing.testing.HeadlessChromium;
import dev.billing.testing.TestServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;

/**
 * A person pays on the hosted checkout page: headless Chromium (Debian's chromium and
 * chromium-driver, which .ci/run installs) opens the page, types 4242…, pays, and the entitlement
 * changes. Without Chromium the test says so loudly and is skipped.
 */
class HostedCheckoutBrowserTest {
  private static TestServer server;
  private static BillingClient client;
  private static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    browser = HeadlessChromium.start();
    server = TestServer.start();
    client = server.client();
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

  @Test
  void aPersonPaysOnTheHostedPageAndTheEntitlementChanges() {
    String user = "browser-user-1";
    CreateCheckoutResponse co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId(user)
                .setMode(CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION)
                .setPlan("pro")
                .setIdempotencyKey("browser-1")
                .build());
    assertThat(client.getEntitlement(user).getTier()).isEqualTo("free");

    browser.get(co.getUrl());
    assertThat(browser.findElement(By.tagName("h1")).getText()).contains("pro");
    browser.findElement(By.id("email")).sendKeys("person@example.test");
    browser.findElement(By.id("card_number")).sendKeys("4242 4242 4242 4242");
    browser.findElement(By.id("expiry")).sendKeys("12 / 34");
    browser.findElement(By.id("cvc")).sendKeys("123");
    browser.findElement(By.id("pay")).click();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> browser.findElements(By.id("status")).size() == 1);
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Payment succeeded");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> client.getEntitlement(user).getTier().equals("pro"));
  }

  @Test
  void aDeclinedCardShowsTheErrorOnThePage() {
    CreateCheckoutResponse co =
        client.createCheckout(
            CreateCheckoutRequest.newBuilder()
                .setUserId("browser-user-2")
                .setMode(CheckoutMode.CHECKOUT_MODE_CREDITS)
                .setCreditPackage("credits_500")
                .setIdempotencyKey("browser-2")
                .build());
    browser.get(co.getUrl());
    browser.findElement(By.id("card_number")).sendKeys("4000 0000 0000 9995");
    browser.findElement(By.id("pay")).click();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> browser.findElements(By.id("error")).size() == 1);
    assertThat(browser.findElement(By.id("error")).getText()).contains("insufficient funds");
    assertThat(client.getEntitlement("browser-user-2").getCreditBalance()).isZero();
  }
}
