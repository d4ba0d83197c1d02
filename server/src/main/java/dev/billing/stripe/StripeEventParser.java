package dev.billing.stripe;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.billing.domain.command.StripeCommand;
import dev.billing.domain.command.StripeCommand.ChargeRefunded;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.StripeCommand.CheckoutExpired;
import dev.billing.domain.command.StripeCommand.IntentOutcome;
import dev.billing.domain.command.StripeCommand.InvoiceSettled;
import dev.billing.domain.command.StripeCommand.PaymentIntentSettled;
import dev.billing.domain.command.StripeCommand.SubscriptionChanged;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.domain.inbox.InboundEvent;
import dev.billing.error.BillingException;
import java.util.Set;

/**
 * The Stripe translation layer: a raw event payload, parsed once, becomes an {@link InboundEvent}
 * carrying a typed {@link StripeCommand}. Reads both payload shapes (see {@code
 * shared/stripe/README.md}): the period on the subscription or on its items, {@code
 * invoice.subscription} or {@code invoice.parent.subscription_details}, {@code
 * invoice.payment_intent} or {@code invoice.payments}.
 */
public final class StripeEventParser {
  private StripeEventParser() {}

  /**
   * Every member name on a path this parser reads (here and through {@link StripeJson}), at any
   * depth: only these are built when an event is parsed ({@link PrunedJson}); the rest of the
   * payload (stored as it came) is skipped. A path read that is missing here reads as absent:
   * {@code StripeEventParserTest} checks that every path in this file and {@link StripeJson} is
   * covered, and that events parse to the same commands as from the whole tree.
   */
  static final Set<String> READ =
      Set.of(
          // the event
          "id",
          "type",
          "created",
          "api_version",
          "livemode",
          "data",
          "object",
          // who: metadata and the customer, an expandable id ("cus_..." or {"id": ...})
          "metadata",
          "user_id",
          "userId",
          "client_reference_id",
          "customer",
          "payment_id",
          "credits",
          "plan",
          // subscriptions, in both shapes (the period on the subscription or on its items)
          "items",
          "price",
          "status",
          "current_period_end",
          "trial_end",
          "cancel_at_period_end",
          // checkout sessions
          "mode",
          "payment_status",
          "subscription",
          "payment_intent",
          "amount_total",
          "currency",
          // invoices, in both shapes (invoice.subscription or parent.subscription_details)
          "parent",
          "subscription_details",
          "payments",
          "payment",
          "amount_paid",
          "amount_due",
          // payment intents and charges
          "amount",
          "amount_received",
          "latest_charge",
          "last_payment_error",
          "decline_code",
          "code",
          "cancellation_reason",
          "amount_refunded",
          // customer activity
          "payment_method",
          "card",
          "brand",
          "last4",
          "invoice_settings",
          "default_payment_method");

  /** Parses a payload; malformed or incomplete events are an INVALID_ARGUMENT. */
  public static InboundEvent parse(String payload) {
    JsonObject root;
    try {
      var element = PrunedJson.parse(payload, READ);
      if (!element.isJsonObject()) {
        throw BillingException.InvalidArgument.of("body", "the event must be a JSON object");
      }
      root = element.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw BillingException.InvalidArgument.of("body", "the body is not valid JSON");
    }
    String id = StripeJson.string(root, "id");
    String type = StripeJson.string(root, "type");
    Long created = StripeJson.longValue(root, "created");
    JsonObject object = StripeJson.object(root, "data.object");
    if (id == null || id.isBlank() || id.length() > 255) {
      throw BillingException.InvalidArgument.of(
          "id", "an event id (evt_...) of at most 255 characters is required");
    }
    if (type == null || type.isBlank() || type.length() > 128) {
      throw BillingException.InvalidArgument.of("type", "an event type is required");
    }
    if (created == null) {
      throw BillingException.InvalidArgument.of(
          "created", "the event's created timestamp is required");
    }
    if (object == null) {
      throw BillingException.InvalidArgument.of("data.object", "the event carries no object");
    }
    return new InboundEvent(
        id,
        type,
        created,
        StripeJson.string(root, "api_version"),
        StripeJson.bool(root, "livemode"),
        payload,
        command(type, object));
  }

  /** The command an event of this type with this {@code data.object} carries. */
  static StripeCommand command(String type, JsonObject object) {
    try {
      return checked(handled(type, object));
    } catch (StripeJson.Untrusted e) {
      return new StripeCommand.Ignored(e.getMessage());
    }
  }

  /** Longest Stripe id this service stores (the columns' width): longer is not Stripe's. */
  static final int MAX_ID = 255;

  private static final java.util.regex.Pattern CURRENCY =
      java.util.regex.Pattern.compile("[a-z]{3}");

  /**
   * Refuses a command naming an id longer than a column holds or a currency that is not an ISO
   * code, so nothing is ever silently cut when it is stored.
   */
  private static StripeCommand checked(StripeCommand command) {
    switch (command) {
      case SubscriptionChanged c ->
          ids(c.snapshot().id(), c.snapshot().customerId(), c.snapshot().priceId());
      case CheckoutCompleted c -> {
        ids(c.sessionId(), c.customerId(), c.subscriptionId(), c.paymentIntentId(), c.paymentId());
        currency(c.currency());
      }
      case CheckoutExpired c -> ids(c.sessionId());
      case InvoiceSettled c -> {
        ids(c.invoiceId(), c.subscriptionId(), c.customerId(), c.paymentIntentId());
        currency(c.currency());
      }
      case PaymentIntentSettled c -> {
        ids(c.intentId(), c.paymentId(), c.customerId(), c.latestChargeId());
        currency(c.currency());
      }
      case ChargeRefunded c -> ids(c.chargeId(), c.paymentIntentId(), c.paymentId());
      case StripeCommand.CustomerActivity c -> {
        ids(c.objectId(), c.customerId());
        if (c.detail() != null && c.detail().length() > 500) {
          throw new StripeJson.Untrusted("a detail of " + c.detail().length() + " characters");
        }
      }
      case StripeCommand.Ignored c -> {}
    }
    return command;
  }

  private static StripeCommand customerActivity(String type, JsonObject object) {
    String objectId = StripeJson.string(object, "id");
    String customer =
        switch (type) {
          case "customer.updated" -> objectId;
          default -> StripeJson.id(object, "customer");
        };
    String detail =
        switch (type) {
          case "setup_intent.succeeded" ->
              "card " + StripeJson.id(object, "payment_method") + " saved for later payments";
          case "payment_method.attached", "payment_method.detached" ->
              StripeJson.string(object, "card.brand")
                  + " ending "
                  + StripeJson.string(object, "card.last4");
          case "customer.updated" ->
              "default card " + StripeJson.id(object, "invoice_settings.default_payment_method");
          default -> "invoice " + objectId + " needs the customer to authenticate the payment";
        };
    return new StripeCommand.CustomerActivity(type, customer, objectId, detail);
  }

  private static void ids(String... ids) {
    for (String id : ids) {
      if (id != null && id.length() > MAX_ID) {
        throw new StripeJson.Untrusted(
            "an id of " + id.length() + " characters (Stripe's are at most " + MAX_ID + ")");
      }
    }
  }

  private static void currency(String currency) {
    if (currency != null && !CURRENCY.matcher(currency).matches()) {
      throw new StripeJson.Untrusted(
          "currency '"
              + currency.substring(0, Math.min(currency.length(), 16))
              + "' is not a lowercase ISO 4217 code");
    }
  }

  private static StripeCommand handled(String type, JsonObject object) {
    return switch (type) {
      case "customer.subscription.created",
          "customer.subscription.updated",
          "customer.subscription.paused",
          "customer.subscription.resumed",
          "customer.subscription.trial_will_end" ->
          new SubscriptionChanged(subscription(object), false);
      case "customer.subscription.deleted" -> new SubscriptionChanged(subscription(object), true);
      case "checkout.session.completed" -> checkoutCompleted(object);
      case "checkout.session.expired" -> new CheckoutExpired(StripeJson.string(object, "id"));
      case "invoice.paid", "invoice.payment_succeeded" -> invoice(object, true);
      case "invoice.payment_failed" -> invoice(object, false);
      case "payment_intent.succeeded" -> intent(object, IntentOutcome.SUCCEEDED, null);
      case "payment_intent.payment_failed" -> {
        String code = StripeJson.string(object, "last_payment_error.decline_code");
        if (code == null) {
          code = StripeJson.string(object, "last_payment_error.code");
        }
        yield intent(object, IntentOutcome.FAILED, code == null ? "payment_failed" : code);
      }
      case "payment_intent.canceled" ->
          intent(object, IntentOutcome.CANCELED, StripeJson.string(object, "cancellation_reason"));
      case "charge.refunded" ->
          new ChargeRefunded(
              StripeJson.string(object, "id"),
              StripeJson.id(object, "payment_intent"),
              StripeJson.string(object, "metadata.payment_id"),
              StripeJson.amount(object, "amount_refunded"));
      case "setup_intent.succeeded",
          "payment_method.attached",
          "payment_method.detached",
          "customer.updated",
          "invoice.payment_action_required" ->
          customerActivity(type, object);
      default -> StripeCommand.Ignored.UNHANDLED;
    };
  }

  /** A subscription object (in an event, or as retrieved from Stripe), from either shape. */
  public static SubscriptionSnapshot subscription(JsonObject sub) {
    JsonObject item = StripeJson.firstOfList(sub, "items");
    String priceId = item == null ? null : StripeJson.id(item, "price");
    if (priceId == null && item != null) {
      priceId = StripeJson.id(item, "plan");
    }
    if (priceId == null) {
      priceId = StripeJson.id(sub, "plan");
    }
    Long periodEnd = StripeJson.longValue(sub, "current_period_end");
    if (periodEnd == null && item != null) {
      periodEnd = StripeJson.longValue(item, "current_period_end");
    }
    return new SubscriptionSnapshot(
        StripeJson.string(sub, "id"),
        StripeJson.id(sub, "customer"),
        StripeJson.string(sub, "status"),
        priceId,
        periodEnd,
        StripeJson.longValue(sub, "trial_end"),
        StripeJson.bool(sub, "cancel_at_period_end"),
        StripeJson.metadataUserId(sub));
  }

  private static CheckoutCompleted checkoutCompleted(JsonObject session) {
    return new CheckoutCompleted(
        StripeJson.string(session, "id"),
        StripeJson.string(session, "mode"),
        StripeJson.string(session, "payment_status"),
        StripeJson.declaredUserId(session),
        StripeJson.id(session, "customer"),
        StripeJson.id(session, "subscription"),
        StripeJson.string(session, "metadata.plan"),
        StripeJson.id(session, "payment_intent"),
        StripeJson.amount(session, "amount_total"),
        StripeJson.string(session, "currency"),
        StripeJson.string(session, "metadata.payment_id"),
        StripeJson.amount(session, "metadata.credits"));
  }

  private static InvoiceSettled invoice(JsonObject invoice, boolean paid) {
    String subscriptionId = StripeJson.string(invoice, "parent.subscription_details.subscription");
    if (subscriptionId == null) {
      subscriptionId = StripeJson.id(invoice, "subscription");
    }
    String parentUser = StripeJson.userId(invoice, "parent.subscription_details.metadata.user_id");
    String intent = StripeJson.id(invoice, "payment_intent");
    if (intent == null) {
      JsonObject first = StripeJson.firstOfList(invoice, "payments");
      intent = first == null ? null : StripeJson.id(first, "payment.payment_intent");
    }
    return new InvoiceSettled(
        paid,
        StripeJson.string(invoice, "id"),
        subscriptionId,
        parentUser != null
            ? parentUser
            : StripeJson.userId(invoice, "subscription_details.metadata.user_id"),
        parentUser,
        StripeJson.declaredUserId(invoice),
        StripeJson.id(invoice, "customer"),
        intent,
        StripeJson.amount(invoice, "amount_paid"),
        StripeJson.amount(invoice, "amount_due"),
        StripeJson.string(invoice, "currency"));
  }

  /** A payment intent as retrieved from Stripe, as the command its success would carry. */
  public static PaymentIntentSettled succeededIntent(JsonObject intent) {
    return intent(intent, IntentOutcome.SUCCEEDED, null);
  }

  private static PaymentIntentSettled intent(
      JsonObject intent, IntentOutcome outcome, String failureCode) {
    return new PaymentIntentSettled(
        outcome,
        StripeJson.string(intent, "id"),
        StripeJson.string(intent, "metadata.payment_id"),
        StripeJson.declaredUserId(intent),
        StripeJson.id(intent, "customer"),
        StripeJson.amount(intent, "amount"),
        StripeJson.amount(intent, "amount_received"),
        StripeJson.string(intent, "currency"),
        StripeJson.amount(intent, "metadata.credits"),
        StripeJson.id(intent, "latest_charge"),
        failureCode);
  }
}
