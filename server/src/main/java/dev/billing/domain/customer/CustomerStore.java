package dev.billing.domain.customer;

import java.util.List;

/** customers: the Stripe customer of each user. */
public interface CustomerStore {
  String findUserByCustomer(String customerId);

  String findCustomerByUser(String userId);

  /** The Stripe customers of those of these users that have one. */
  List<CustomerLink> findLinksOfUsers(List<String> userIds);

  /** Points a user at a new Stripe customer, if it still points at {@code oldCustomerId}. */
  int replace(String userId, String oldCustomerId, String newCustomerId);

  /**
   * Remembers the mapping unless the user or the customer is already mapped; returns rows added.
   */
  int insertIfAbsent(String userId, String customerId);

  /** The same, for one held-back mapping (written as part of a JDBC batch). */
  void insertLinkIfAbsent(CustomerLink link);

  /** Users with a Stripe customer, by user id, after {@code afterUserId}. */
  List<CustomerLink> findPage(String afterUserId, int limit);
}
