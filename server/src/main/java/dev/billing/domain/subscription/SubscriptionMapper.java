package dev.billing.domain.subscription;

import java.util.Collection;
import java.util.List;
import org.apache.ibatis.annotations.Param;

/** subscriptions. */
public interface SubscriptionMapper {
  SubscriptionRow findForUpdate(@Param("id") String stripeSubscriptionId);

  List<SubscriptionRow> findByUser(@Param("userId") String userId);

  /** All subscriptions of these users, locked until commit. */
  List<SubscriptionRow> lockByUsers(@Param("userIds") List<String> userIds);

  /** Inserts or replaces the subscription state (the invoice columns are left alone). */
  void upsert(SubscriptionRow row);

  /** {@link #upsert} for several rows in one statement. */
  void upsertAll(@Param("rows") Collection<SubscriptionRow> rows);

  /** Inserts a placeholder row unless the subscription exists; returns rows added. */
  int insertPlaceholder(SubscriptionRow row);

  void updateInvoiceState(
      @Param("id") String stripeSubscriptionId,
      @Param("failed") boolean failed,
      @Param("created") long created,
      @Param("rank") int rank);

  void setNeedsRefresh(@Param("id") String stripeSubscriptionId, @Param("value") boolean value);

  List<String> findNeedingRefresh(@Param("limit") int limit);

  /**
   * Users whose tier still comes from a past_due subscription whose grace ended before the cutoff.
   */
  List<String> findUsersWithExpiredGrace(
      @Param("cutoff") long cutoffEpochSeconds, @Param("limit") int limit);
}
