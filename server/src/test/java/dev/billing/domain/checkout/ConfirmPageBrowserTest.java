package dev.billing.domain.checkout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.billing.client.BillingClient;
import dev.billing.testing.HeadlessChromium;
import dev.billing.testing.TestServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;

/**
 * The emulator's confirm page, which stands in for Stripe.js in a product's own payment form, in
 * headless Chromium: a PaymentIntent paid through 3-D Secure adds the credits; a declined card
 * shows the error and adds nothing; a card saved through a SetupIntent is listed.
 */
class ConfirmPageBrowserTest {
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

  private void typeCard(String number) {
    browser.findElement(By.id("card_number")).sendKeys(number);
    browser.findElement(By.id("expiry")).sendKeys("12 / 34");
    browser.findElement(By.id("cvc")).sendKeys("123");
    browser.findElement(By.id("confirm")).click();
  }

  @Test
  void aPaymentThroughThreeDSecureAddsTheCredits() {
    var intent = client.createPaymentIntent("confirm-user-1", "credits_1000", "c-1");
    browser.get(server.emulator().confirmUrl(intent.getClientSecret()));
    assertThat(browser.findElement(By.tagName("h1")).getText()).contains("Pay");
    typeCard("4000 0025 0000 3155");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> browser.findElements(By.id("authenticate")).size() == 1);
    assertThat(browser.findElement(By.id("challenge")).getText()).contains("3-D Secure");
    assertThat(client.getEntitlement("confirm-user-1").getCreditBalance()).isZero();
    browser.findElement(By.id("authenticate")).click();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> browser.findElements(By.id("status")).size() == 1);
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Payment succeeded");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> client.getEntitlement("confirm-user-1").getCreditBalance() == 1000);
  }

  @Test
  void aDeclinedCardShowsTheErrorAndAddsNothing() {
    var intent = client.createPaymentIntent("confirm-user-2", "credits_500", "c-2");
    browser.get(server.emulator().confirmUrl(intent.getClientSecret()));
    typeCard("4000 0000 0000 9995");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> browser.findElements(By.id("error")).size() == 1);
    assertThat(browser.findElement(By.id("error")).getText()).contains("insufficient funds");
    assertThat(client.getEntitlement("confirm-user-2").getCreditBalance()).isZero();
  }

  @Test
  void aCardSavedOnThePageIsListed() {
    var setup = client.createSetupIntent("confirm-user-3", "s-1");
    browser.get(server.emulator().confirmUrl(setup.getClientSecret()));
    assertThat(browser.findElement(By.tagName("h1")).getText()).contains("Save a card");
    typeCard("5555 5555 5555 4444");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> browser.findElements(By.id("status")).size() == 1);
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Card saved");
    var cards = client.listPaymentMethods("confirm-user-3");
    assertThat(cards).hasSize(1);
    assertThat(cards.get(0).getBrand()).isEqualTo("mastercard");
    assertThat(cards.get(0).getLast4()).isEqualTo("4444");
  }
}
