package dev.billing.stripe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import dev.billing.domain.command.StripeCommand;
import dev.billing.error.BillingException;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The webhook parser reads only the members it needs ({@link StripeEventParser#READ}, {@link
 * PrunedJson}): every path it reads must be kept, and every event must parse to the command it
 * parses to from the whole tree.
 */
class StripeEventParserTest {
  /** Fields Stripe sends that the parser does not read, some named like ones it does. */
  private static final String NOISE =
      """
      "automatic_tax":{"enabled":false,"liability":null,"status":"complete"},\
      "discounts":[{"id":"di_1","coupon":{"id":"co_1","amount_off":500,"currency":"eur"}}],\
      "shipping_details":{"address":{"city":"Paris","country":"FR","line1":"1 rue [x]"}},\
      "custom_text":{"submit":{"message":"a \\"quoted\\" {brace} and a \\\\ backslash"}},\
      "rates":[1.5,-2e3,true,false,null,"x",[],{}],\
      "statement_descriptor":null\
      """;

  private static String event(String type, String object) {
    return ("{\"id\":\"evt_1\",\"object\":\"event\",\"api_version\":\"2025-03-31.basil\","
            + "\"created\":1700000000,\"livemode\":false,\"pending_webhooks\":1,"
            + "\"request\":{\"id\":\"req_1\",\"idempotency_key\":\"k\"},%s,"
            + "\"data\":{\"object\":%s,\"previous_attributes\":{\"status\":\"trialing\"}},"
            + "\"type\":\"%s\"}")
        .formatted(NOISE, object, type);
  }

  /** Events of every type the parser handles, in both shapes, with the variants it reads. */
  private static List<String> events() {
    List<String> events = new ArrayList<>();
    Sub sub =
        Sub.of("sub_1", "cus_1", "u-1", "price_pro", "trialing")
            .withTrialEnd(1_800_000_000L)
            .withPeriodEnd(1_800_100_000L);
    for (Sub s : List.of(sub, sub.legacy())) {
      for (String type :
          List.of(
              "customer.subscription.created",
              "customer.subscription.updated",
              "customer.subscription.deleted",
              "customer.subscription.paused",
              "customer.subscription.trial_will_end")) {
        events.add(StripeFixtures.subscriptionEvent("evt_s", type, 1_700_000_000L, s));
      }
    }
    String legacySubscription =
        """
        {"id":"sub_2","object":"subscription","customer":{"id":"cus_2","object":"customer",\
        "email":"a@b.c"},"status":"past_due","plan":{"id":"price_old","amount":900},\
        "current_period_end":1800000000,"cancel_at_period_end":true,"trial_end":null,\
        "metadata":{"userId":"u-2"},"items":{"object":"list","data":[{"id":"si_2",\
        "plan":{"id":"price_item_plan"},"quantity":2}]},%s}"""
            .formatted(NOISE);
    events.add(event("customer.subscription.updated", legacySubscription));
    JsonObject checkout =
        StripeFixtures.checkoutSessionObject(
            "cs_1", "subscription", "cus_1", "u-1", "sub_1", null, 1900, "paid", "pro");
    events.add(event("checkout.session.completed", checkout.toString()));
    JsonObject credits =
        StripeFixtures.checkoutSessionObject(
            "cs_2", "payment", "cus_1", "u-1", null, "pi_1", 500, "paid", null);
    credits.getAsJsonObject("metadata").addProperty("credits", 50);
    credits.getAsJsonObject("metadata").addProperty("payment_id", "pay_1");
    events.add(event("checkout.session.completed", credits.toString()));
    events.add(event("checkout.session.expired", checkout.toString()));
    for (boolean paid : List.of(true, false)) {
      JsonObject invoice =
          StripeFixtures.invoiceObject("in_1", "sub_1", "cus_1", "u-1", 1900, paid, "pi_2");
      events.add(event(paid ? "invoice.paid" : "invoice.payment_failed", invoice.toString()));
    }
    String legacyInvoice =
        """
        {"id":"in_2","object":"invoice","customer":"cus_1","subscription":{"id":"sub_1"},\
        "subscription_details":{"metadata":{"user_id":"u-1"}},"payment_intent":"pi_3",\
        "amount_paid":0,"amount_due":2900,"currency":"usd","lines":{"data":[{"amount":2900}]},%s}"""
            .formatted(NOISE);
    events.add(event("invoice.payment_failed", legacyInvoice));
    events.add(event("invoice.payment_succeeded", legacyInvoice));
    String intent =
        """
        {"id":"pi_1","object":"payment_intent","amount":500,"amount_received":%s,\
        "currency":"usd","customer":"cus_1","latest_charge":{"id":"ch_1","amount":500},\
        "metadata":{"payment_id":"pay_1","user_id":"u-1","credits":"50"},\
        "last_payment_error":{"code":"card_declined","decline_code":%s,"message":"no"},\
        "cancellation_reason":"abandoned",%s}""";
    events.add(event("payment_intent.succeeded", intent.formatted("500", "null", NOISE)));
    events.add(
        event("payment_intent.payment_failed", intent.formatted("0", "\"insufficient\"", NOISE)));
    events.add(event("payment_intent.payment_failed", intent.formatted("0", "null", NOISE)));
    events.add(event("payment_intent.canceled", intent.formatted("0", "null", NOISE)));
    events.add(event("payment_intent.succeeded", intent.formatted("12.5", "null", NOISE)));
    JsonObject charge = StripeFixtures.chargeObject("ch_1", "pi_1", 500, 200);
    JsonObject chargeMetadata = new JsonObject();
    chargeMetadata.addProperty("payment_id", "pay_1");
    charge.add("metadata", chargeMetadata);
    events.add(event("charge.refunded", charge.toString()));
    events.add(
        event(
            "setup_intent.succeeded",
            "{\"id\":\"seti_1\",\"customer\":\"cus_1\",\"payment_method\":{\"id\":\"pm_1\"},"
                + NOISE
                + "}"));
    for (String type : List.of("payment_method.attached", "payment_method.detached")) {
      events.add(
          event(
              type,
              "{\"id\":\"pm_1\",\"customer\":\"cus_1\",\"card\":{\"brand\":\"visa\","
                  + "\"last4\":\"4242\",\"exp_year\":2030},"
                  + NOISE
                  + "}"));
    }
    events.add(
        event(
            "customer.updated",
            "{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
                + "{\"id\":\"pm_2\",\"card\":{\"brand\":\"amex\"}},\"footer\":null},"
                + NOISE
                + "}"));
    events.add(
        event(
            "invoice.payment_action_required",
            "{\"id\":\"in_3\",\"customer\":{\"id\":\"cus_1\"}," + NOISE + "}"));
    events.add(event("price.updated", "{\"id\":\"price_1\"," + NOISE + "}"));
    return events;
  }

  @Test
  void everyEventParsesToTheCommandItsWholeTreeGives() {
    List<String> events = events();
    for (String payload : events) {
      JsonObject whole = JsonParser.parseString(payload).getAsJsonObject();
      String type = whole.get("type").getAsString();
      StripeCommand expected =
          StripeEventParser.command(type, whole.getAsJsonObject("data").getAsJsonObject("object"));

      StripeCommand parsed = StripeEventParser.parse(payload).command();

      assertThat(parsed).as(payload).isEqualTo(expected);
    }
    // The events above reach every kind of command (a test of the test).
    assertThat(
            events.stream()
                .map(p -> StripeEventParser.parse(p).command().getClass().getSimpleName())
                .distinct())
        .contains(
            "SubscriptionChanged",
            "CheckoutCompleted",
            "CheckoutExpired",
            "InvoiceSettled",
            "PaymentIntentSettled",
            "ChargeRefunded",
            "CustomerActivity",
            "Ignored");
  }

  @Test
  void everyPathTheParserReadsIsKept() throws IOException {
    Pattern path = Pattern.compile("\\w+\\(\\s*\\w+,\\s*\"([A-Za-z0-9_.]+)\"");
    TreeSet<String> names = new TreeSet<>();
    for (String file : List.of("StripeEventParser.java", "StripeJson.java")) {
      String source = Files.readString(Path.of("src/main/java/dev/billing/stripe", file));
      Matcher m = path.matcher(source);
      while (m.find()) {
        names.addAll(List.of(m.group(1).split("\\.")));
      }
    }
    names.add("data"); // firstOfList reads a list's "data"

    assertThat(names).hasSizeGreaterThan(30);
    assertThat(StripeEventParser.READ).containsAll(names);
  }

  @Test
  void theKeptTreeHasOnlyTheMembersRead() {
    JsonElement tree =
        PrunedJson.parse(
            "{\"id\":\"x\",\"skip\":{\"id\":\"deep\"},\"data\":[{\"id\":1,\"no\":2},3]}",
            StripeEventParser.READ);

    assertThat(tree.toString()).isEqualTo("{\"id\":\"x\",\"data\":[{\"id\":1},3]}");
  }

  @Test
  void malformedJsonIsRefusedEvenWhereItIsSkipped() {
    for (String bad :
        List.of(
            "{\"id\":\"evt_1\",\"skipped\":{\"a\":[1,2}",
            "{\"id\":\"evt_1\",\"skipped\":\"unterminated}",
            "{\"id\":\"evt_1\"} {\"second\":1}",
            "{\"id\":")) {
      assertThatThrownBy(() -> PrunedJson.parse(bad, StripeEventParser.READ))
          .as(bad)
          .isInstanceOf(JsonSyntaxException.class);
      assertThatThrownBy(() -> JsonParser.parseString(bad)).isInstanceOf(JsonSyntaxException.class);
      assertThatThrownBy(() -> StripeEventParser.parse(bad))
          .isInstanceOf(BillingException.InvalidArgument.class);
    }
  }

  @Test
  void deepNestingIsRefusedAsTheWholeTreeRefusesIt() {
    for (String deep :
        List.of(
            "{\"data\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}",
            "{\"skipped\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}")) {
      assertThatThrownBy(() -> JsonParser.parseString(deep))
          .isInstanceOf(JsonSyntaxException.class);
      assertThatThrownBy(() -> PrunedJson.parse(deep, StripeEventParser.READ))
          .isInstanceOf(JsonSyntaxException.class);
    }
  }
}
