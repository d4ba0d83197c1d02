package dev.billing.persistence;

import dev.billing.persistence.Recorded.Entry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ibatis.mapping.SqlCommandType;

/**
 * A single-row INSERT cut around its VALUES tuple, which holds all its parameters: the tuple
 * repeats for more rows.
 */
record InsertShape(String prefix, String tuple, String suffix) {
  private static final InsertShape NONE = new InsertShape("", "", "");
  private static final Map<String, InsertShape> SHAPES = new ConcurrentHashMap<>();

  /** The mappers' static inserts fit many times; dynamic SQL beyond it is cut each time. */
  private static final int MAX_SHAPES = 1_000;

  static InsertShape of(Entry e) {
    if (e.ms.getSqlCommandType() != SqlCommandType.INSERT) {
      return null;
    }
    String sql = e.sql.getSql();
    int parameters = e.sql.getParameterMappings().size();
    InsertShape shape = SHAPES.get(sql);
    if (shape == null) {
      try {
        shape = cut(sql, parameters);
      } catch (IllegalArgumentException unterminated) {
        shape = NONE; // the statement goes as it is, and the server says what is wrong with it
      }
      if (SHAPES.size() < MAX_SHAPES) {
        SHAPES.put(sql, shape);
      }
    }
    return shape == NONE ? null : shape;
  }

  /** Whether {@code e} is the same statement as {@code first}, to go in one INSERT with it. */
  static boolean sameStatement(Entry e, Entry first) {
    return e.ms == first.ms && e.sql.getSql().equals(first.sql.getSql());
  }

  /**
   * Cuts {@code sql} at its first top-level {@code VALUES (...)}; NONE if it cannot. Quotes and
   * comments are skipped as {@link Literals} skips them when it looks for placeholders.
   */
  private static InsertShape cut(String sql, int parameters) {
    int start = -1;
    int depth = 0;
    int end = -1;
    int marks = 0;
    for (int i = 0; i < sql.length(); i = Literals.skipped(sql, i) + 1) {
      char c = sql.charAt(i);
      if (c == '?') {
        if (start < 0 || end >= 0) {
          return NONE; // a parameter outside the tuple would not repeat with it
        }
        marks++;
      } else if (c == '(') {
        if (depth == 0 && start < 0 && endsWithValues(sql, i)) {
          start = i;
        }
        depth++;
      } else if (c == ')') {
        depth--;
        if (depth == 0 && start >= 0 && end < 0) {
          end = i + 1;
        }
      }
    }
    if (start < 0 || end < 0 || marks != parameters) {
      return NONE;
    }
    return new InsertShape(sql.substring(0, start), sql.substring(start, end), sql.substring(end));
  }

  /** True when the word before {@code sql[i]} (blanks aside) is VALUES. */
  private static boolean endsWithValues(String sql, int i) {
    int j = i - 1;
    while (j >= 0 && Character.isWhitespace(sql.charAt(j))) {
      j--;
    }
    int from = j - 5;
    return from >= 0
        && sql.regionMatches(true, from, "VALUES", 0, 6)
        && (from == 0 || !Character.isLetterOrDigit(sql.charAt(from - 1)));
  }
}
