package dev.billing.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog's metered limits, and unknown keys refused with their name. */
class CatalogFileTest {
  @TempDir Path dir;

  private Catalog read(String json) throws Exception {
    Path f = dir.resolve("catalog.json");
    Files.writeString(f, json);
    return Catalog.fromFile(f);
  }

  @Test
  void limitsAreMetricsPerPeriodOrRunningWithOverageAndLegacyNames() throws Exception {
    Catalog c =
        read(
            """
            {"plans": [{"name": "free", "rank": 0, "limits": {"api_calls": 10}},
              {"name": "team", "price_id": "price_t", "rank": 1,
               "limits": {"exports": {"limit": 100, "overage_credits": 2, "legacy_name": "monthly_limit"},
                          "seats": {"limit": 10, "reset": "never"}}}]}
            """);
    assertThat(c.free().metrics().get("api_calls")).isEqualTo(Metric.perPeriod("api_calls", 10));
    Plan team = c.plan("team").orElseThrow();
    assertThat(team.metrics().get("exports"))
        .isEqualTo(new Metric("exports", 100, Metric.Reset.PERIOD, 2L, null, null));
    assertThat(team.metrics().get("seats").reset()).isEqualTo(Metric.Reset.NEVER);
    assertThat(team.limits())
        .containsEntry("exports", 100L)
        .containsEntry("monthly_limit", 100L)
        .containsEntry("seats", 10L);
    assertThat(team.metrics()).doesNotContainKey("monthly_limit");
  }

  @Test
  void theDefaultAllowanceIsAMetricThatSaysWhatItCountsAndKeepsItsOldName() {
    Plan pro = Catalog.defaults("price_pro", "price_studio").plan("pro").orElseThrow();
    assertThat(pro.metrics()).containsKey(Catalog.DEFAULT_METRIC);
    assertThat(pro.limits()).containsEntry("monthly_limit", 100L).containsEntry("api_calls", 100L);
  }

  @Test
  void unknownKeysAreRefusedWithTheKeyNamed() {
    assertThatThrownBy(() -> read("{\"plans\": [{\"name\": \"free\", \"rank\": 0}], \"plan\": []}"))
        .hasMessageContaining("'plan'");
    assertThatThrownBy(
            () -> read("{\"plans\": [{\"name\": \"free\", \"rank\": 0, \"limit\": {\"x\": 1}}]}"))
        .hasMessageContaining("'limit'")
        .hasMessageContaining("plan free");
    assertThatThrownBy(
            () ->
                read(
                    "{\"plans\": [{\"name\": \"free\", \"rank\": 0,"
                        + " \"limits\": {\"x\": {\"limit\": 1, \"rest\": \"never\"}}}]}"))
        .hasMessageContaining("'rest'");
    assertThatThrownBy(
            () ->
                read(
                    "{\"plans\": [{\"name\": \"free\", \"rank\": 0,"
                        + " \"limits\": {\"x\": {\"limit\": 1, \"reset\": \"weekly\"}}}]}"))
        .hasMessageContaining("reset");
  }
}
