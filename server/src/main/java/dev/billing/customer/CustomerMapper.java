package dev.billing.customer;

import org.apache.ibatis.annotations.Param;

/** customers: the Stripe customer of each user. */
public interface CustomerMapper {
  String findUserByCustomer(@Param("customerId") String stripeCustomerId);

  String findCustomerByUser(@Param("userId") String userId);

  /**
   * Remembers the mapping unless the user or the customer is already mapped; returns rows added.
   */
  int insertIfAbsent(@Param("userId") String userId, @Param("customerId") String stripeCustomerId);
}
