package dev.billing.stripe.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.Map;

/** Small builders for Stripe-shaped JSON. */
final class Json {
  private Json() {}

  /**
   * An object from alternating keys and values (String, Number, Boolean, JsonElement, Map or null).
   */
  static JsonObject obj(Object... kv) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < kv.length; i += 2) {
      o.add((String) kv[i], value(kv[i + 1]));
    }
    return o;
  }

  static JsonElement value(Object v) {
    return switch (v) {
      case null -> JsonNull.INSTANCE;
      case JsonElement e -> e;
      case String s -> new JsonPrimitive(s);
      case Number n -> new JsonPrimitive(n);
      case Boolean b -> new JsonPrimitive(b);
      case Map<?, ?> m -> {
        JsonObject o = new JsonObject();
        m.forEach((k, val) -> o.add(String.valueOf(k), value(val)));
        yield o;
      }
      default -> new JsonPrimitive(String.valueOf(v));
    };
  }

  /** A Stripe list object. */
  static JsonObject list(JsonArray data, String url, boolean hasMore) {
    return obj("object", "list", "data", data, "has_more", hasMore, "url", url);
  }

  static JsonArray array(JsonElement... items) {
    JsonArray a = new JsonArray();
    for (JsonElement e : items) {
      a.add(e);
    }
    return a;
  }

  static String str(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  static long num(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? 0 : e.getAsLong();
  }
}
