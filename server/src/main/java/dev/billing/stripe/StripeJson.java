package dev.billing.stripe;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.billing.domain.customer.UserIds;
import org.slf4j.LoggerFactory;

/**
 * Null-safe reads of Stripe JSON objects. Webhook payloads come in whatever API version the sending
 * account uses, so every reader tolerates missing fields and expandable ids given either as a
 * string or as an object.
 */
public final class StripeJson {
  private StripeJson() {}

  /** The element at a dotted path, or null. */
  public static JsonElement at(JsonObject root, String path) {
    JsonElement cur = root;
    int from = 0;
    while (from <= path.length()) { // each part, without splitting the path (once per field read)
      int dot = path.indexOf('.', from);
      int to = dot < 0 ? path.length() : dot;
      if (cur == null || !cur.isJsonObject()) {
        return null;
      }
      // A one-part path is its own substring (String.substring(0, length) copies nothing).
      cur = cur.getAsJsonObject().get(path.substring(from, to));
      from = to + 1;
    }
    return cur == null || cur.isJsonNull() ? null : cur;
  }

  public static String string(JsonObject root, String path) {
    JsonElement e = at(root, path);
    return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
  }

  /**
   * An integer at {@code path}, or null when absent. A value that is not an integer within a long
   * (1e30, 12.5, "abc") is null too, never wrapped or cut: see {@link #amount} for money.
   */
  public static Long longValue(JsonObject root, String path) {
    JsonElement e = at(root, path);
    if (e == null || !e.isJsonPrimitive()) {
      return null;
    }
    try {
      return new java.math.BigDecimal(e.getAsString()).longValueExact();
    } catch (NumberFormatException | ArithmeticException ex) {
      return null;
    }
  }

  /** An amount or count that must be a whole number when present; thrown otherwise. */
  public static Long amount(JsonObject root, String path) {
    JsonElement e = at(root, path);
    if (e == null) {
      return null;
    }
    Long v = longValue(root, path);
    if (v == null) {
      throw new Untrusted(path + " is not a whole number of minor units");
    }
    return v;
  }

  /** A field whose value this service refuses to act on; the event is stored and ignored. */
  public static final class Untrusted extends RuntimeException {
    public Untrusted(String message) {
      super(message, null, false, false);
    }
  }

  public static boolean bool(JsonObject root, String path) {
    JsonElement e = at(root, path);
    return e != null
        && e.isJsonPrimitive()
        && e.getAsJsonPrimitive().isBoolean()
        && e.getAsBoolean();
  }

  public static JsonObject object(JsonObject root, String path) {
    JsonElement e = at(root, path);
    return e != null && e.isJsonObject() ? e.getAsJsonObject() : null;
  }

  /**
   * An expandable field: the id whether Stripe sent {@code "cus_123"} or {@code
   * {"id":"cus_123",...}}.
   */
  public static String id(JsonObject root, String path) {
    JsonElement e = at(root, path);
    if (e == null) {
      return null;
    }
    if (e.isJsonPrimitive()) {
      return e.getAsString();
    }
    if (e.isJsonObject()) {
      JsonElement id = e.getAsJsonObject().get("id");
      return id != null && id.isJsonPrimitive() ? id.getAsString() : null;
    }
    return null;
  }

  /** The first element of a Stripe list ({@code {"data":[...]}}) at {@code path}, or null. */
  public static JsonObject firstOfList(JsonObject root, String path) {
    JsonElement e = at(root, path + ".data");
    if (e == null || !e.isJsonArray() || e.getAsJsonArray().isEmpty()) {
      return null;
    }
    JsonElement first = e.getAsJsonArray().get(0);
    return first.isJsonObject() ? first.getAsJsonObject() : null;
  }

  /**
   * The user id in an object's metadata: {@code user_id}, or {@code userId} as some callers write
   * it. A value that is not a valid user id (too long, odd characters) is ignored, never stored.
   */
  public static String metadataUserId(JsonObject object) {
    String v = string(object, "metadata.user_id");
    if (v == null || v.isBlank()) {
      v = string(object, "metadata.userId");
    }
    return userIdAt(object, v);
  }

  /** The user an object names: its metadata user id, else its {@code client_reference_id}. */
  public static String declaredUserId(JsonObject object) {
    String v = metadataUserId(object);
    return v != null ? v : userId(object, "client_reference_id");
  }

  /**
   * The first valid user id among these paths of {@code object} (for example client_reference_id).
   */
  public static String userId(JsonObject object, String... paths) {
    for (String path : paths) {
      String v = userIdAt(object, string(object, path));
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static String userIdAt(JsonObject object, String v) {
    if (v == null || v.isBlank()) {
      return null;
    }
    if (!UserIds.isValid(v)) {
      LoggerFactory.getLogger(StripeJson.class)
          .warn(
              "ignoring an invalid user id ({} characters) on {}",
              v.length(),
              string(object, "id"));
      return null;
    }
    return v;
  }
}
