package dev.billing.stripe.emulator;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
 * {@code make advance-clock USER=alice DAYS=31}: moves the test clock of a user's Stripe customer
 * forward, so renewals (a new period, {@code invoice.paid}, {@code customer.subscription.updated})
 * happen on demand. Speaks Stripe's API only (customer search, test clocks), so it works against
 * the local emulator and against Stripe in test mode ({@code STRIPE_API_BASE}, {@code
 * STRIPE_SECRET_KEY}); the customer must have been created with a clock ({@code
 * STRIPE_TEST_CLOCKS=true}, which {@code make run} sets).
 */
@Command(
    name = "advance-clock",
    mixinStandardHelpOptions = true,
    description = "Advance the Stripe test clock of a user's customer by some days.")
public final class AdvanceClockCommand implements Callable<Integer> {
  @Option(names = "--user", required = true, description = "The internal user id")
  String user;

  @Option(names = "--days", required = true, description = "Days to move the clock forward")
  int days;

  @Option(
      names = "--api",
      defaultValue = "${env:STRIPE_API_BASE:-http://localhost:12111}",
      description = "Stripe API base (default: ${DEFAULT-VALUE})")
  String api;

  @Option(
      names = "--key",
      defaultValue = "${env:STRIPE_SECRET_KEY:-sk_test_local_emulator}",
      description = "A test-mode secret key",
      hidden = true)
  String key;

  @Spec CommandSpec spec;

  /** The clock after the advance. */
  public record Advanced(String clockId, long frozenTime, int steps) {}

  /**
   * Advances the clock of {@code userId}'s customer by {@code days}, in steps Stripe accepts (at
   * most two monthly intervals at once), waiting for each to be ready.
   */
  public static Advanced advance(String api, String key, String userId, int days) throws Exception {
    if (key.startsWith("sk_live_")) {
      throw new IllegalArgumentException("test clocks need a test key (sk_test_...)");
    }
    try (HttpClient http = HttpClient.newHttpClient()) {
      JsonObject found =
          call(
              http,
              key,
              "GET",
              api
                  + "/v1/customers/search?query="
                  + URLEncoder.encode(
                      "metadata['user_id']:'" + userId + "'", StandardCharsets.UTF_8),
              null);
      var data = found.getAsJsonArray("data");
      if (data.isEmpty()) {
        throw new IllegalStateException("user " + userId + " has no Stripe customer yet");
      }
      JsonObject customer = data.get(0).getAsJsonObject();
      if (!customer.has("test_clock") || customer.get("test_clock").isJsonNull()) {
        throw new IllegalStateException(
            "the customer of "
                + userId
                + " has no test clock: start the service with STRIPE_TEST_CLOCKS=true before the"
                + " customer is created (make run does)");
      }
      String clockId =
          customer.get("test_clock").isJsonObject()
              ? customer.getAsJsonObject("test_clock").get("id").getAsString()
              : customer.get("test_clock").getAsString();
      JsonObject clock =
          call(http, key, "GET", api + "/v1/test_helpers/test_clocks/" + clockId, null);
      long target = clock.get("frozen_time").getAsLong() + days * 86_400L;
      int steps = 0;
      while (clock.get("frozen_time").getAsLong() < target) {
        long next = Math.min(target, clock.get("frozen_time").getAsLong() + 60 * 86_400L);
        call(
            http,
            key,
            "POST",
            api + "/v1/test_helpers/test_clocks/" + clockId + "/advance",
            "frozen_time=" + next);
        steps++;
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        do {
          clock = call(http, key, "GET", api + "/v1/test_helpers/test_clocks/" + clockId, null);
          if (!"ready".equals(clock.get("status").getAsString())) {
            Thread.sleep(1_000); // Stripe advances asynchronously; poll its status as it says
          }
        } while (!"ready".equals(clock.get("status").getAsString())
            && System.nanoTime() < deadline);
      }
      return new Advanced(clockId, clock.get("frozen_time").getAsLong(), steps);
    }
  }

  private static JsonObject call(
      HttpClient http, String key, String method, String url, String form) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key);
    if (form != null) {
      b.header("Content-Type", "application/x-www-form-urlencoded")
          .method(method, HttpRequest.BodyPublishers.ofString(form));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("Stripe answered " + r.statusCode() + ": " + r.body());
    }
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  @Override
  public Integer call() {
    try {
      Advanced a = advance(api, key, user, days);
      spec.commandLine()
          .getOut()
          .printf(
              "Advanced test clock %s of %s by %d days (now %s, %d step%s)%n",
              a.clockId(),
              user,
              days,
              java.time.Instant.ofEpochSecond(a.frozenTime()),
              a.steps(),
              a.steps() == 1 ? "" : "s");
      return 0;
    } catch (java.net.ConnectException e) {
      spec.commandLine()
          .getErr()
          .println("cannot reach Stripe at " + api + " — is `make run` running?");
      return 2;
    } catch (Exception e) {
      spec.commandLine().getErr().println(e.getMessage());
      return 1;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new AdvanceClockCommand()).execute(args));
  }
}
