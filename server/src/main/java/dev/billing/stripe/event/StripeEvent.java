package dev.billing.stripe.event;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.billing.error.BillingException;
import dev.billing.stripe.StripeJson;

/**
 * A Stripe event, parsed once from its raw payload. {@code object} is {@code data.object}; the raw
 * payload is what the inbox stores.
 */
public record StripeEvent(
    String id,
    String type,
    long created,
    String apiVersion,
    boolean livemode,
    JsonObject object,
    String payload) {

  /** Parses a payload; malformed or incomplete events are an INVALID_ARGUMENT. */
  public static StripeEvent parse(String payload) {
    JsonObject root;
    try {
      var element = JsonParser.parseString(payload);
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
    return new StripeEvent(
        id,
        type,
        created,
        StripeJson.string(root, "api_version"),
        StripeJson.bool(root, "livemode"),
        object,
        payload);
  }
}
