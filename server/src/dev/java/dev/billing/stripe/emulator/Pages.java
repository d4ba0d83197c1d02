package dev.billing.stripe.emulator;

import static dev.billing.stripe.emulator.Json.num;
import static dev.billing.stripe.emulator.Json.str;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;

/** The emulator's hosted pages: checkout, 3-D Secure challenge, result, customer portal. */
final class Pages {
  private Pages() {}

  private static final String STYLE =
      """
      <style>
        body { font-family: -apple-system, system-ui, sans-serif; background: #f6f9fc; color: #30313d; }
        main { max-width: 440px; margin: 48px auto; background: #fff; padding: 32px; border-radius: 8px;
               box-shadow: 0 2px 8px rgba(0,0,0,.08); }
        h1 { font-size: 20px; } .amount { font-size: 28px; font-weight: 600; margin: 8px 0 24px; }
        label { display: block; font-size: 13px; margin: 12px 0 4px; }
        input { width: 100%; box-sizing: border-box; padding: 10px; border: 1px solid #d5dbe1; border-radius: 6px; }
        button { width: 100%; margin-top: 20px; padding: 12px; border: 0; border-radius: 6px; background: #635bff;
                 color: #fff; font-size: 16px; cursor: pointer; }
        button.secondary { background: #e3e8ee; color: #30313d; }
        .error { background: #fde8e8; color: #a41c1c; padding: 10px; border-radius: 6px; margin-bottom: 12px; }
        .note { font-size: 12px; color: #6a7383; margin-top: 16px; }
        .banner { font-size: 12px; background: #fff4d6; padding: 6px 10px; border-radius: 6px; }
      </style>
      """;

  static String escape(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static String page(String title, String body) {
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
        + escape(title)
        + "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        + STYLE
        + "</head><body><main><p class=\"banner\">Local Stripe emulator — test mode, no real payments</p>"
        + body
        + "</main></body></html>";
  }

  private static String description(JsonObject s) {
    JsonObject items = s.getAsJsonObject("line_items");
    if (items == null || items.getAsJsonArray("data").isEmpty()) {
      return "";
    }
    JsonObject item = items.getAsJsonArray("data").get(0).getAsJsonObject();
    String name = str(item.getAsJsonObject("price"), "nickname");
    return name == null ? "" : name;
  }

  private static boolean isTrial(JsonObject s) {
    JsonObject data = s.getAsJsonObject("subscription_data");
    if (data == null) {
      return false;
    }
    JsonElement t = data.get("trial_period_days");
    return t != null && !t.isJsonNull();
  }

  static String checkout(JsonObject s, String error) {
    String id = str(s, "id");
    boolean subscription = "subscription".equals(str(s, "mode"));
    boolean trial = isTrial(s);
    String amount = StripeEmulator.money(num(s, "amount_total"), str(s, "currency"));
    StringBuilder b = new StringBuilder();
    b.append("<h1>")
        .append(subscription ? "Subscribe to " : "Pay for ")
        .append(escape(description(s)))
        .append("</h1>");
    b.append("<div class=\"amount\" id=\"amount\">")
        .append(
            trial
                ? escape(
                        s.getAsJsonObject("subscription_data")
                            .get("trial_period_days")
                            .getAsString())
                    + " days free"
                : escape(amount))
        .append(subscription && !trial ? " / month" : "")
        .append("</div>");
    if (error != null) {
      b.append("<div class=\"error\" id=\"error\" role=\"alert\">")
          .append(escape(error))
          .append("</div>");
    }
    b.append("<form id=\"payment-form\" method=\"post\" action=\"/checkout/")
        .append(escape(id))
        .append("/pay\">");
    b.append(
        "<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\">");
    b.append("<label for=\"card_number\">Card number</label>")
        .append(
            "<input id=\"card_number\" name=\"card_number\" inputmode=\"numeric\" autocomplete=\"cc-number\"")
        .append(" placeholder=\"4242 4242 4242 4242\" required>");
    b.append(
        "<label for=\"expiry\">Expiry</label><input id=\"expiry\" name=\"expiry\" placeholder=\"12 / 34\">");
    b.append("<label for=\"cvc\">CVC</label><input id=\"cvc\" name=\"cvc\" placeholder=\"123\">");
    if (s.has("allow_promotion_codes") && s.get("allow_promotion_codes").getAsBoolean()) {
      b.append("<label for=\"promotion_code\">Promotion code</label>")
          .append(
              "<input id=\"promotion_code\" name=\"promotion_code\" placeholder=\"WELCOME20\">");
    }
    b.append("<button id=\"pay\" type=\"submit\">")
        .append(trial ? "Start trial" : "Pay " + escape(amount))
        .append("</button>");
    b.append("</form>");
    b.append(
        "<p class=\"note\">Test cards: 4242 4242 4242 4242 succeeds · 4000 0000 0000 9995 declines (insufficient funds)"
            + " · 4000 0000 0000 0069 expired · 4000 0025 0000 3155 asks for authentication.</p>");
    if (str(s, "cancel_url") != null) {
      b.append("<p class=\"note\"><a id=\"cancel\" href=\"")
          .append(escape(str(s, "cancel_url")))
          .append("\">Cancel and go back</a></p>");
    }
    return page("Checkout", b.toString());
  }

  static String authenticate(JsonObject s, String cardNumber, String email) {
    String id = escape(str(s, "id"));
    String hidden =
        "<input type=\"hidden\" name=\"card_number\" value=\""
            + escape(cardNumber)
            + "\">"
            + "<input type=\"hidden\" name=\"email\" value=\""
            + escape(email)
            + "\">";
    return page(
        "Authenticate payment",
        "<h1>Authenticate this payment</h1><p id=\"challenge\">Your bank asks you to confirm this payment of "
            + escape(StripeEmulator.money(num(s, "amount_total"), str(s, "currency")))
            + " (3-D Secure test).</p>"
            + "<form method=\"post\" action=\"/checkout/"
            + id
            + "/pay\">"
            + hidden
            + "<button id=\"authenticate\" name=\"three_d_secure\" value=\"complete\">Complete authentication</button>"
            + "<button id=\"fail-authentication\" class=\"secondary\" name=\"three_d_secure\" value=\"fail\">"
            + "Fail authentication</button></form>");
  }

  static String success(JsonObject s) {
    String success = str(s, "success_url");
    String target = success == null ? null : success.replace("{CHECKOUT_SESSION_ID}", str(s, "id"));
    return page(
        "Payment succeeded",
        "<h1 id=\"status\">Payment succeeded</h1><p>Session <code>"
            + escape(str(s, "id"))
            + "</code> is complete. The service has been notified by webhook.</p>"
            + (target == null
                ? ""
                : "<p><a id=\"continue\" href=\"" + escape(target) + "\">Continue</a></p>"));
  }

  static String message(String title, String text, String link) {
    return page(
        title,
        "<h1 id=\"status\">"
            + escape(title)
            + "</h1><p id=\"message\">"
            + escape(text)
            + "</p>"
            + (link == null ? "" : "<p><a href=\"" + escape(link) + "\">Go back</a></p>"));
  }

  static String portal(JsonObject portal, List<JsonObject> subscriptions) {
    StringBuilder b = new StringBuilder("<h1>Manage your subscription</h1>");
    if (subscriptions.isEmpty()) {
      b.append("<p>No subscriptions.</p>");
    }
    for (JsonObject sub : subscriptions) {
      JsonObject item =
          sub.getAsJsonObject("items").getAsJsonArray("data").get(0).getAsJsonObject();
      b.append("<p class=\"subscription\"><strong>")
          .append(escape(str(item.getAsJsonObject("price"), "nickname")))
          .append("</strong> — ")
          .append(escape(str(sub, "status")));
      if (sub.get("cancel_at_period_end").getAsBoolean()) {
        b.append(" (ends at period end)");
      }
      b.append("</p>");
      if (!"canceled".equals(str(sub, "status"))
          && !sub.get("cancel_at_period_end").getAsBoolean()) {
        b.append("<form method=\"post\" action=\"/portal/")
            .append(escape(str(portal, "id")))
            .append("/cancel\">")
            .append("<input type=\"hidden\" name=\"subscription\" value=\"")
            .append(escape(str(sub, "id")))
            .append("\">")
            .append("<button class=\"secondary\" id=\"cancel-")
            .append(escape(str(sub, "id")))
            .append("\">Cancel at period end</button></form>");
      }
    }
    if (str(portal, "return_url") != null) {
      b.append("<p class=\"note\"><a id=\"return\" href=\"")
          .append(escape(str(portal, "return_url")))
          .append("\">Return</a></p>");
    }
    return page("Customer portal", b.toString());
  }

  /**
   * The confirm page that stands in for Stripe.js ({@code confirmPayment} / {@code confirmSetup}):
   * a card form for the intent behind {@code clientSecret}.
   */
  static String confirm(JsonObject intent, String clientSecret, String error) {
    boolean setup = "setup_intent".equals(str(intent, "object"));
    String what =
        setup
            ? "Save a card for later payments"
            : "Pay " + StripeEmulator.money(num(intent, "amount"), str(intent, "currency"));
    StringBuilder b = new StringBuilder("<h1>").append(escape(what)).append("</h1>");
    if (error != null) {
      b.append("<div class=\"error\" id=\"error\" role=\"alert\">")
          .append(escape(error))
          .append("</div>");
    }
    b.append("<form id=\"confirm-form\" method=\"post\" action=\"/confirm\">")
        .append("<input type=\"hidden\" name=\"client_secret\" value=\"")
        .append(escape(clientSecret))
        .append("\">")
        .append("<label for=\"card_number\">Card number</label>")
        .append(
            "<input id=\"card_number\" name=\"card_number\" inputmode=\"numeric\""
                + " autocomplete=\"cc-number\" placeholder=\"4242 4242 4242 4242\" required>")
        .append(
            "<label for=\"expiry\">Expiry</label><input id=\"expiry\" name=\"expiry\""
                + " placeholder=\"12 / 34\">")
        .append("<label for=\"cvc\">CVC</label><input id=\"cvc\" name=\"cvc\" placeholder=\"123\">")
        .append("<button id=\"confirm\" type=\"submit\">")
        .append(setup ? "Save card" : "Pay")
        .append("</button></form>")
        .append(
            "<p class=\"note\">Test cards: 4242 4242 4242 4242 succeeds · 4000 0000 0000 9995"
                + " declines · 4000 0025 0000 3155 asks for 3-D Secure.</p>");
    return page(setup ? "Save a card" : "Confirm payment", b.toString());
  }

  /** The 3-D Secure step of the confirm page. */
  static String confirmAuthentication(JsonObject intent, String clientSecret) {
    return page(
        "Authenticate",
        "<h1>Authenticate</h1><p id=\"challenge\">Your bank asks you to confirm this"
            + ("setup_intent".equals(str(intent, "object"))
                ? " card"
                : " payment of "
                    + escape(StripeEmulator.money(num(intent, "amount"), str(intent, "currency"))))
            + " (3-D Secure test).</p>"
            + "<form method=\"post\" action=\"/confirm/authenticate\">"
            + "<input type=\"hidden\" name=\"client_secret\" value=\""
            + escape(clientSecret)
            + "\">"
            + "<button id=\"authenticate\" name=\"result\" value=\"complete\">Complete authentication</button>"
            + "<button id=\"fail-authentication\" class=\"secondary\" name=\"result\" value=\"fail\">"
            + "Fail authentication</button></form>");
  }
}
