package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonListTypeHandlerTest {
  public record Pair(String owner, String key) {}

  @Test
  void stringsAreQuotedAndEscaped() {
    assertThat(
            JsonListTypeHandler.json(List.of("u1", "a\"b", "back\\slash", "tab\tnew\nline", "é✓")))
        .isEqualTo("[\"u1\",\"a\\\"b\",\"back\\\\slash\",\"tab\\tnew\\nline\",\"é✓\"]");
  }

  @Test
  void recordsBecomeArraysOfTheirComponents() {
    assertThat(JsonListTypeHandler.json(List.of(new Pair("u1", "k\"1"), new Pair("u2", "k2"))))
        .isEqualTo("[[\"u1\",\"k\\\"1\"],[\"u2\",\"k2\"]]");
  }

  @Test
  void numbersNullsAndEmpty() {
    assertThat(JsonListTypeHandler.json(Arrays.asList(1L, null, 2.5))).isEqualTo("[1,null,2.5]");
    assertThat(JsonListTypeHandler.json(List.of())).isEqualTo("[]");
  }
}
