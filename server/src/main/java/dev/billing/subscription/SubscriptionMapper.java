package dev.billing.subscription;

import java.util.List;
import org.apache.ibatis.annotations.Param;

/** subscriptions. */
public interface SubscriptionMapper {
  SubscriptionRow findForUpdate(@Param("id") String stripeSubscriptionId);

  List<SubscriptionRow> findByUser(@Param("userId") String userId);

  void upsert(SubscriptionRow row);
}
