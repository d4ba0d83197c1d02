package dev.billing.stripe.emulator;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stripe's form encoding, decoded: {@code line_items[0][price_data][currency]=usd} becomes nested
 * maps; list indexes are map keys, read back in order by {@link #list}.
 */
final class Params {
  private final Map<String, Object> root;

  private Params(Map<String, Object> root) {
    this.root = root;
  }

  static Params empty() {
    return new Params(new LinkedHashMap<>());
  }

  static Params decode(String body) {
    Map<String, Object> root = new LinkedHashMap<>();
    if (body == null || body.isEmpty()) {
      return new Params(root);
    }
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      List<String> path = parsePath(key);
      put(root, path, value);
    }
    return new Params(root);
  }

  /** Adds query-string parameters (GET requests) to these. */
  Params withQuery(Map<String, java.util.Deque<String>> query) {
    query.forEach((k, v) -> put(root, parsePath(k), v.getFirst()));
    return this;
  }

  static List<String> parsePath(String key) {
    List<String> path = new ArrayList<>();
    int b = key.indexOf('[');
    if (b < 0) {
      path.add(key);
      return path;
    }
    path.add(key.substring(0, b));
    int i = b;
    while (i < key.length() && key.charAt(i) == '[') {
      int close = key.indexOf(']', i);
      if (close < 0) {
        break;
      }
      path.add(key.substring(i + 1, close));
      i = close + 1;
    }
    return path;
  }

  @SuppressWarnings("unchecked")
  private static void put(Map<String, Object> root, List<String> path, String value) {
    Map<String, Object> cur = root;
    for (int i = 0; i < path.size() - 1; i++) {
      Object next = cur.get(path.get(i));
      if (!(next instanceof Map)) {
        next = new LinkedHashMap<String, Object>();
        cur.put(path.get(i), next);
      }
      cur = (Map<String, Object>) next;
    }
    cur.put(path.getLast(), value);
  }

  @SuppressWarnings("unchecked")
  private Object at(String dotted) {
    Object cur = root;
    for (String part : dotted.split("\\.")) {
      if (!(cur instanceof Map)) {
        return null;
      }
      cur = ((Map<String, Object>) cur).get(part);
    }
    return cur;
  }

  String string(String dotted) {
    Object v = at(dotted);
    return v instanceof String s && !s.isEmpty() ? s : null;
  }

  long longValue(String dotted, long def) {
    String s = string(dotted);
    if (s == null) {
      return def;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new EmulatorError(
          400,
          "invalid_request_error",
          "Invalid integer: " + s,
          dotted,
          "parameter_invalid_integer");
    }
  }

  boolean bool(String dotted) {
    return "true".equals(string(dotted));
  }

  boolean has(String dotted) {
    return at(dotted) != null;
  }

  /** A nested map as a flat map of strings (metadata). */
  @SuppressWarnings("unchecked")
  Map<String, String> stringMap(String dotted) {
    Object v = at(dotted);
    Map<String, String> out = new LinkedHashMap<>();
    if (v instanceof Map<?, ?> m) {
      ((Map<String, Object>) m)
          .forEach(
              (k, val) -> {
                if (val instanceof String s) {
                  out.put(k, s);
                }
              });
    }
    return out;
  }

  /** An indexed list ({@code x[0][...]}, {@code x[1][...]}) as Params, in index order. */
  @SuppressWarnings("unchecked")
  List<Params> list(String dotted) {
    Object v = at(dotted);
    List<Params> out = new ArrayList<>();
    if (v instanceof Map<?, ?> m) {
      ((Map<String, Object>) m)
          .entrySet().stream()
              .sorted(Comparator.comparingInt(e -> parseIndex(e.getKey())))
              .forEach(
                  e -> {
                    if (e.getValue() instanceof Map) {
                      out.add(new Params((Map<String, Object>) e.getValue()));
                    }
                  });
    }
    return out;
  }

  private static int parseIndex(String k) {
    try {
      return Integer.parseInt(k);
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }
}
