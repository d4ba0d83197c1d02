package dev.billing.domain.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Payloads compressed as the inbox stores them (MySQL's COMPRESS() format) and read back. */
class StoredPayloadTest {
  @Test
  void roundTripsAnyTextAndStartsWithItsLength() {
    String json =
        "{\"id\":\"evt_1\",\"name\":\"Zoë 日本 😀\",\"pad\":\"" + "x".repeat(70_000) + "\"}";
    byte[] stored = StoredPayload.compress(json);
    int bytes = json.getBytes(StandardCharsets.UTF_8).length;

    assertThat(StoredPayload.decompress(stored)).isEqualTo(json);
    assertThat(stored.length).isLessThan(bytes / 10);
    assertThat((stored[0] & 0xff) | (stored[1] & 0xff) << 8 | (stored[2] & 0xff) << 16)
        .isEqualTo(bytes);
    assertThat(StoredPayload.decompress(StoredPayload.compress("{}"))).isEqualTo("{}");
  }

  @Test
  void somethingElseIsRefused() {
    assertThatThrownBy(() -> StoredPayload.decompress(new byte[] {1}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StoredPayload.decompress(new byte[] {10, 0, 0, 0, 1, 2, 3}))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
