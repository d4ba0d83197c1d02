package dev.billing.persistence;

import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A packet's SQL with its values written in as literals, as the driver writes them for a
 * client-side prepared statement, for statements sent together through a plain {@code Statement}
 * ({@link ReadBatch}, {@link CommitBatch}).
 *
 * <p>Why not the driver's prepared statement: it parses the whole text of every statement it is
 * given to find the placeholders, and a packet's text is new most of the time (which statements,
 * how many rows), so its cache of parsed statements rarely hits. A JFR profile of the webhook
 * writer at 16 deliveries in flight had a quarter of its samples in that parse ({@code
 * ClientPreparedStatement.<init>}, {@code QueryInfo.<init>}). Here each statement's text is split
 * at its placeholders once ({@link #template}) and the values are written between the pieces.
 *
 * <p>Strings are single-quoted, with backslash escapes: the server's {@code sql_mode} must not have
 * {@code NO_BACKSLASH_ESCAPES}, which {@link Database} rules out by setting the session's mode on
 * every connection it opens; the connection's character set is utf8mb4, where no character's
 * encoding contains a quote or a backslash byte.
 */
final class Literals {
  private Literals() {}

  /** Statement texts split at their placeholders; bounded, as mappers' texts are few. */
  private static final ConcurrentHashMap<String, String[]> TEMPLATES = new ConcurrentHashMap<>();

  private static final int MAX_TEMPLATES = 4096;

  /**
   * {@code sql} split at its {@code ?} placeholders (those outside quotes, back-quoted names and
   * comments): the pieces between them, one more than there are placeholders.
   */
  static String[] template(String sql) {
    String[] parts = TEMPLATES.get(sql);
    if (parts == null) {
      parts = split(sql);
      if (TEMPLATES.size() < MAX_TEMPLATES) {
        TEMPLATES.putIfAbsent(sql, parts);
      }
    }
    return parts;
  }

  private static String[] split(String sql) {
    List<String> parts = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < sql.length(); i = skipped(sql, i) + 1) {
      if (sql.charAt(i) == '?') {
        parts.add(sql.substring(from, i));
        from = i + 1;
      }
    }
    parts.add(sql.substring(from));
    return parts.toArray(String[]::new);
  }

  /**
   * Where what starts at {@code sql[i]} ends when it is a quoted string or name, or a comment: the
   * index of its last character; else {@code i}. What is inside is not SQL to look at (a {@code ?}
   * there is no placeholder, a parenthesis no nesting). Quotes are ended as the server ends them
   * without {@code NO_BACKSLASH_ESCAPES}: a backslash escapes the next character, a doubled quote
   * stands for one.
   */
  static int skipped(String sql, int i) {
    int n = sql.length();
    char c = sql.charAt(i);
    if (c == '\'' || c == '"' || c == '`') {
      return closing(sql, i, c);
    }
    if (c == '#'
        || (c == '-' && i + 2 < n && sql.charAt(i + 1) == '-' && isSpace(sql.charAt(i + 2)))) {
      int eol = sql.indexOf('\n', i);
      return eol < 0 ? n - 1 : eol;
    }
    if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
      int end = sql.indexOf("*/", i + 2);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated comment in: " + sql);
      }
      return end + 1;
    }
    return i;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** The index of the quote that closes the one at {@code open}. */
  private static int closing(String sql, int open, char quote) {
    for (int i = open + 1; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (c == '\\' && quote != '`') {
        i++;
      } else if (c == quote) {
        if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
          i++; // a doubled quote stands for one
        } else {
          return i;
        }
      }
    }
    throw new IllegalArgumentException("unterminated " + quote + " in: " + sql);
  }

  /** Appends {@code template}'s pieces with {@code values}, in order, between them. */
  static void append(StringBuilder out, String[] template, Object[] values) {
    out.append(template[0]);
    for (int i = 1; i < template.length; i++) {
      literal(out, values[i - 1]);
      out.append(template[i]);
    }
  }

  /**
   * The items of an {@code IN} list, written in as literals, comma-separated ({@code NULL} if
   * none).
   */
  record InList(List<?> items) {}

  /**
   * {@code items} as the value of an {@code IN} list's one placeholder ({@link InListTypeHandler}),
   * for {@code ps} when it takes a packet's values; refused for any other statement.
   */
  static InList inList(PreparedStatement ps, List<?> items) {
    if (!Proxy.isProxyClass(ps.getClass())
        || !(Proxy.getInvocationHandler(ps) instanceof Values.Binder)) {
      throw new IllegalStateException(
          "an IN list in one placeholder is written into a packet's text (ReadBatch,"
              + " CommitBatch); this statement cannot run on its own");
    }
    return new InList(items);
  }

  /** {@code value} as an SQL literal. */
  static void literal(StringBuilder out, Object value) {
    switch (value) {
      case null -> out.append("NULL");
      case InList l -> {
        if (l.items().isEmpty()) {
          out.append("NULL");
        }
        for (int i = 0; i < l.items().size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          literal(out, l.items().get(i));
        }
      }
      case String s -> quoted(out, s);
      case Long v -> out.append(v.longValue());
      case Integer v -> out.append(v.intValue());
      case Short v -> out.append(v.shortValue());
      case Byte v -> out.append(v.byteValue());
      case Boolean v -> out.append(v ? '1' : '0');
      case BigDecimal v -> out.append(v.toPlainString());
      case byte[] v -> out.append("X'").append(HexFormat.of().formatHex(v)).append('\'');
      default ->
          throw new IllegalArgumentException(
              "no SQL literal for a " + value.getClass().getName() + " value");
    }
  }

  /**
   * {@code s} in single quotes, with the characters escaped that end or change a single-quoted
   * literal ({@code '} and {@code \\}), and NUL, CR, LF and Ctrl-Z as the driver escapes them. A
   * double quote needs none between single quotes (whatever {@code ANSI_QUOTES}), so JSON goes in
   * as it is: the common case is a few vectorised scans and one copy, not a loop over characters.
   */
  static void quoted(StringBuilder out, String s) {
    String t = s;
    t = escaped(t, '\\', "\\\\"); // first: the escapes below add backslashes
    t = escaped(t, '\'', "\\'");
    t = escaped(t, '\0', "\\0");
    t = escaped(t, '\n', "\\n");
    t = escaped(t, '\r', "\\r");
    t = escaped(t, '\032', "\\Z");
    out.append('\'').append(t).append('\'');
  }

  private static String escaped(String s, char c, String escape) {
    return s.indexOf(c) < 0 ? s : s.replace(String.valueOf(c), escape);
  }

  /**
   * A {@link PreparedStatement} that only takes parameters, as MyBatis's type handlers set them
   * ({@link Recorded#bind}): {@link #values} holds them by index from 1. Setting a type without a
   * literal here fails.
   */
  static final class Values {
    private Object[] values = new Object[64];
    final PreparedStatement statement =
        (PreparedStatement)
            Proxy.newProxyInstance(
                Literals.class.getClassLoader(),
                new Class<?>[] {PreparedStatement.class},
                new Binder());

    /** Takes the parameters set on {@link #statement}. */
    final class Binder implements java.lang.reflect.InvocationHandler {
      @Override
      public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) {
        String name = method.getName();
        if (name.startsWith("set") && args != null && args.length >= 2) {
          set((Integer) args[0], name.equals("setNull") ? null : args[1]);
          return null;
        }
        throw new UnsupportedOperationException("Literals.Values: " + name);
      }
    }

    private void set(int index, Object value) {
      if (index > values.length) {
        values = Arrays.copyOf(values, Math.max(index, values.length * 2));
      }
      values[index - 1] = value;
    }

    /** The values set so far, by index from 0. */
    Object[] all() {
      return values;
    }
  }
}
