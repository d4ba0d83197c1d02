package dev.billing.stripe.emulator;

import dev.billing.config.BillingConfig;
import dev.billing.config.Catalog;
import dev.billing.config.Env;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar server/target/stripe-emulator.jar --port N --webhook-url URL --webhook-secret
 * whsec_...}: the local Stripe on its own, so any build of the service (the production jar
 * included) can be pointed at it with {@code STRIPE_API_BASE}. Prints its base URL when ready.
 * Plans come from the same environment as the service's ({@code BILLING_CATALOG}, {@code
 * STRIPE_PRICE_PRO}, {@code STRIPE_PRICE_STUDIO}).
 */
@Command(
    name = "stripe-emulator",
    mixinStandardHelpOptions = true,
    description = "A local Stripe for development and tests. Takes no money.")
public final class EmulatorMain implements Callable<Integer> {
  @Option(
      names = "--port",
      defaultValue = "${env:STRIPE_EMULATOR_PORT:-12111}",
      description = "Port on 127.0.0.1 (0: any free port; default ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--webhook-url",
      defaultValue = "${env:STRIPE_WEBHOOK_URL:-http://localhost:8080/webhooks/stripe}",
      description = "Where signed webhooks are delivered (default ${DEFAULT-VALUE})")
  String webhookUrl;

  @Option(
      names = "--webhook-secret",
      defaultValue = "${env:STRIPE_WEBHOOK_SECRET:-" + BillingConfig.LOCAL_WEBHOOK_SECRET + "}",
      description =
          "Signing secret, the service's STRIPE_WEBHOOK_SECRET (default ${DEFAULT-VALUE})")
  String webhookSecret;

  @Option(
      names = "--retry-base",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description = "First webhook retry delay: 50ms, 1s, PT1S... (default ${DEFAULT-VALUE})")
  Duration retryBase;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!webhookSecret.startsWith("whsec_")) {
      spec.commandLine().getErr().println("--webhook-secret must start with whsec_");
      return 2;
    }
    Catalog catalog = Catalog.fromEnv(Env.load());
    StripeEmulator emulator =
        new StripeEmulator(port, catalog, webhookSecret, Clock.systemUTC(), retryBase);
    emulator.setWebhookEndpoint(webhookUrl);
    emulator.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  emulator.close();
                  stopped.countDown();
                },
                "emulator-stop"));
    var out = spec.commandLine().getOut();
    out.println(
        "stripe emulator ready at " + emulator.apiBase() + " (webhooks to " + webhookUrl + ")");
    out.flush();
    stopped.await();
    return 0;
  }

  /** Durations as the service's configuration writes them ({@code 50ms}, {@code 1s}). */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Env.parseDuration("--retry-base", value);
    }
  }

  public static void main(String[] args) {
    int code = new CommandLine(new EmulatorMain()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
