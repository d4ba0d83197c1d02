package dev.billing.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/** The hand-built answer is valid JSON whatever the event id holds. */
class WebhookAnswerTest {
  @Test
  void anyEventIdRoundTripsThroughTheAnswer() {
    for (String id :
        new String[] {
          "evt_1", "evt_\"quoted\"", "evt_back\\slash", "evt_\n\t\u0001", "evt_é✓\u2028"
        }) {
      String json = "{\"id\":" + WebhookHttpHandler.jsonString(id) + "}";
      assertThat(JsonParser.parseString(json).getAsJsonObject().get("id").getAsString())
          .isEqualTo(id);
    }
  }
}
