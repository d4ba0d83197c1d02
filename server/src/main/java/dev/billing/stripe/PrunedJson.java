package dev.billing.stripe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSyntaxException;
import com.google.gson.Strictness;
import com.google.gson.internal.LazilyParsedNumber;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.EOFException;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * A JSON document read into Gson's tree with only the object members named in a set kept, at any
 * depth; the others are skipped by the reader, never built. A Stripe event carries 3 to 4 KB of
 * fields the service does not read (tax, invoice settings, the price's product and recurrence...):
 * on the webhook's I/O threads, building Gson's tree of all of them was more than half of their
 * time, most of it in the tree's maps.
 *
 * <p>Reads what {@code JsonParser.parseString} reads, as leniently, and refuses what it refuses
 * (skipped values are tokenized all the same), iteratively, so no nesting overflows the stack.
 */
final class PrunedJson {
  private PrunedJson() {}

  /**
   * The document's tree without the object members whose names are not in {@code keep}; {@link
   * JsonNull} for an empty document.
   *
   * @throws JsonSyntaxException if it is not JSON
   */
  static JsonElement parse(String json, Set<String> keep) {
    JsonReader in = new JsonReader(new StringReader(json));
    in.setStrictness(Strictness.LENIENT);
    try {
      try {
        in.peek();
      } catch (EOFException empty) {
        return JsonNull.INSTANCE;
      }
      JsonElement root = null;
      Deque<JsonElement> open = new ArrayDeque<>();
      do {
        JsonElement container = open.peek();
        String name = null;
        if (container != null) {
          if (!in.hasNext()) {
            if (container.isJsonObject()) {
              in.endObject();
            } else {
              in.endArray();
            }
            open.pop();
            continue;
          }
          if (container.isJsonObject()) {
            name = in.nextName();
            if (!keep.contains(name)) {
              in.skipValue();
              continue;
            }
          }
        }
        JsonElement value = value(in);
        if (container == null) {
          root = value;
        } else if (name != null) {
          container.getAsJsonObject().add(name, value);
        } else {
          container.getAsJsonArray().add(value);
        }
        if (value.isJsonObject() || value.isJsonArray()) {
          open.push(value);
        }
      } while (!open.isEmpty());
      if (in.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonSyntaxException("Did not consume the entire document.");
      }
      return root;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new JsonSyntaxException(e);
    }
  }

  /** The next value: a primitive read whole, or an object or array begun (filled by the caller). */
  private static JsonElement value(JsonReader in) throws IOException {
    return switch (in.peek()) {
      case BEGIN_OBJECT -> {
        in.beginObject();
        yield new JsonObject();
      }
      case BEGIN_ARRAY -> {
        in.beginArray();
        yield new JsonArray();
      }
      case STRING -> new JsonPrimitive(in.nextString());
      // The number as its text, parsed when read, as Gson's own tree holds it.
      case NUMBER -> new JsonPrimitive(new LazilyParsedNumber(in.nextString()));
      case BOOLEAN -> new JsonPrimitive(in.nextBoolean());
      case NULL -> {
        in.nextNull();
        yield JsonNull.INSTANCE;
      }
      default -> throw new IllegalStateException("unexpected " + in.peek());
    };
  }
}
