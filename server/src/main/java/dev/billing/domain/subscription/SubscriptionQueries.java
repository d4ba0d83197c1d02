package dev.billing.domain.subscription;

import dev.billing.persistence.Transactions;
import java.util.List;

/** Reads of the subscriptions table for people looking a user up (the operator console). */
public final class SubscriptionQueries {
  private final Transactions tx;

  public SubscriptionQueries(Transactions tx) {
    this.tx = tx;
  }

  /** The user's subscriptions as stored (every one Stripe told us about). */
  public List<SubscriptionRow> ofUser(String userId) {
    return tx.read(s -> s.store(SubscriptionStore.class).findByUser(userId));
  }

  /** The user a Stripe subscription belongs to, or null. */
  public String userOf(String subscriptionId) {
    SubscriptionRow row = tx.read(s -> s.store(SubscriptionStore.class).find(subscriptionId));
    return row == null ? null : row.userId();
  }
}
