package dev.billing.stripe;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import dev.billing.domain.command.SubscriptionSnapshot;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import org.junit.jupiter.api.Test;

class SubscriptionSnapshotTest {
  private final Sub sub =
      Sub.of("sub_123", "cus_9", "u-7", "price_pro", "trialing")
          .withTrialEnd(1_800_000_000L)
          .withPeriodEnd(1_800_100_000L);

  @Test
  void readsTheCurrentShapeWithThePeriodOnTheItems() {
    SubscriptionSnapshot s = StripeEventParser.subscription(StripeFixtures.subscriptionObject(sub));
    assertThat(s.currentPeriodEnd()).isEqualTo(1_800_100_000L);
    assertThat(s.priceId()).isEqualTo("price_pro");
    assertThat(s.trialEnd()).isEqualTo(1_800_000_000L);
    assertThat(s.metadataUserId()).isEqualTo("u-7");
    assertThat(s.customerId()).isEqualTo("cus_9");
    assertThat(s.status()).isEqualTo("trialing");
  }

  @Test
  void readsTheLegacyShapeWithThePeriodOnTheSubscription() {
    SubscriptionSnapshot s =
        StripeEventParser.subscription(StripeFixtures.subscriptionObject(sub.legacy()));
    assertThat(s.currentPeriodEnd()).isEqualTo(1_800_100_000L);
    assertThat(s.priceId()).isEqualTo("price_pro");
  }

  @Test
  void acceptsCamelCaseUserIdAndExpandedCustomer() {
    var json =
        JsonParser.parseString(
                "{\"id\":\"sub_1\",\"status\":\"active\",\"customer\":{\"id\":\"cus_x\",\"object\":\"customer\"},"
                    + "\"metadata\":{\"userId\":\"u-9\"},\"items\":{\"data\":[]}}")
            .getAsJsonObject();
    SubscriptionSnapshot s = StripeEventParser.subscription(json);
    assertThat(s.customerId()).isEqualTo("cus_x");
    assertThat(s.metadataUserId()).isEqualTo("u-9");
    assertThat(s.priceId()).isNull();
  }
}
