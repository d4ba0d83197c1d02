package dev.billing.domain.entitlement;

import static org.assertj.core.api.Assertions.assertThat;

import dev.billing.config.BillingConfig.DatabaseConfig;
import dev.billing.testing.StripeFixtures;
import dev.billing.testing.StripeFixtures.Sub;
import dev.billing.testing.TestDatabase;
import dev.billing.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Features and limits come from the catalog when read: a catalog change shows in every entitlement
 * at once.
 */
class CatalogChangeTest {
  @Test
  void aNewCatalogChangesEveryAffectedEntitlementWithoutAnyEvent(@TempDir Path dir)
      throws Exception {
    DatabaseConfig db = TestDatabase.fresh();
    try (TestServer before = TestServer.start(db, Map.of())) {
      for (String user : new String[] {"cat-a", "cat-b"}) {
        before.postSigned(
            StripeFixtures.subscriptionEvent(
                "evt_" + user,
                "customer.subscription.created",
                Instant.now().getEpochSecond(),
                Sub.of("sub_" + user, "cus_" + user, user, "price_pro", "active")));
        assertThat(before.server().entitlements().get(user).getEntitlement().getLimitsMap())
            .containsEntry("monthly_limit", 100L);
      }
    }
    Path catalog = dir.resolve("catalog.json");
    Files.writeString(
        catalog,
        """
        {"plans": [{"name": "free", "rank": 0},
                   {"name": "pro", "price_id": "price_pro", "rank": 1, "features": ["priority_support", "sso"],
                    "limits": {"monthly_limit": 250}, "amount": 2900},
                   {"name": "studio", "price_id": "price_studio", "rank": 2, "features": ["api_access"],
                    "limits": {"monthly_limit": 500}, "amount": 4900}]}
        """);
    try (TestServer after = TestServer.start(db, Map.of("BILLING_CATALOG", catalog.toString()))) {
      for (String user : new String[] {"cat-a", "cat-b"}) {
        var e = after.server().entitlements().get(user).getEntitlement();
        assertThat(e.getTier()).isEqualTo("pro");
        assertThat(e.getFeaturesList()).containsExactly("priority_support", "sso");
        assertThat(e.getLimitsMap()).containsEntry("monthly_limit", 250L);
      }
    }
  }
}
