package dev.billing.stripe.emulator;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code make trigger EVENT=invoice.payment_failed USER=u1}: like {@code stripe trigger}, makes the
 * local emulator emit an event for a user, delivered to the service through the normal signed
 * webhook path.
 */
@Command(
    name = "trigger",
    mixinStandardHelpOptions = true,
    description =
        "Make the local Stripe emulator emit an event for a user (signed webhook delivery).")
public final class TriggerCommand implements Callable<Integer> {
  @Option(
      names = "--event",
      required = true,
      description = "Event type, e.g. invoice.payment_failed")
  String event;

  @Option(names = "--user", required = true, description = "The internal user id")
  String user;

  @Option(
      names = "--emulator",
      defaultValue = "${env:STRIPE_EMULATOR_URL:-http://localhost:12111}",
      description = "Emulator base URL (default: ${DEFAULT-VALUE})")
  String emulator;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    String body =
        "event="
            + URLEncoder.encode(event, StandardCharsets.UTF_8)
            + "&user_id="
            + URLEncoder.encode(user, StandardCharsets.UTF_8);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(emulator + "/v1/test_helpers/trigger"))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer sk_test_local_emulator")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    HttpResponse<String> response;
    try (HttpClient http = HttpClient.newHttpClient()) {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      spec.commandLine()
          .getErr()
          .println(
              "cannot reach the emulator at "
                  + emulator
                  + " — is `make run` running (without STRIPE_SECRET_KEY)?");
      return 2;
    }
    if (response.statusCode() != 200) {
      spec.commandLine().getErr().println("emulator refused: " + response.body());
      return 1;
    }
    var emitted =
        com.google.gson.JsonParser.parseString(response.body())
            .getAsJsonObject()
            .getAsJsonArray("emitted");
    var out = spec.commandLine().getOut();
    out.println("Triggered " + event + " for " + user + "; emitted " + emitted.size() + " events:");
    emitted.forEach(e -> out.println("  " + e.getAsString()));
    out.flush();
    return 0;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new TriggerCommand()).execute(args));
  }
}
