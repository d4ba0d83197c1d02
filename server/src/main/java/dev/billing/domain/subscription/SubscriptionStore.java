package dev.billing.domain.subscription;

import java.util.List;

/** subscriptions. */
public interface SubscriptionStore {
  SubscriptionRow findForUpdate(String id);

  SubscriptionRow find(String id);

  List<SubscriptionRow> findByUser(String userId);

  /**
   * The subscriptions of these users and these subscriptions (either list may be empty), locked;
   * each row once. Only in a {@code ReadBatch} (its lists are written into the statement's text).
   */
  List<SubscriptionRow> lockByUsersOrIds(List<String> userIds, List<String> ids);

  /** Inserts or replaces the subscription state (the invoice columns are left alone). */
  void upsert(SubscriptionRow row);

  /** Inserts a placeholder row unless the subscription exists; returns rows added. */
  int insertPlaceholder(SubscriptionRow row);

  /**
   * Inserts a placeholder row of a subscription believed absent: fails (a duplicate key) if it
   * exists.
   */
  void insertNewPlaceholder(SubscriptionRow row);

  void updateInvoiceState(String id, boolean failed, long created, int rank);

  void setNeedsRefresh(String id, boolean value);

  List<String> findNeedingRefresh(int limit);

  /**
   * Placeholders (known only from a checkout or an invoice) older than {@code seconds} that have
   * not ended.
   */
  List<SubscriptionRow> findUnconfirmedPlaceholders(long seconds, int limit);

  /**
   * Users whose tier still comes from a past_due subscription whose grace ended before the cutoff.
   */
  List<String> findUsersWithExpiredGrace(long cutoff, int limit);
}
