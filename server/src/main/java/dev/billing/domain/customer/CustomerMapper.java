package dev.billing.domain.customer;

import java.util.List;
import org.apache.ibatis.annotations.Param;

/** customers: the Stripe customer of each user. */
public interface CustomerMapper {
  String findUserByCustomer(@Param("customerId") String stripeCustomerId);

  String findCustomerByUser(@Param("userId") String userId);

  /** Those of these users that already have a Stripe customer. */
  List<String> findUsersWithCustomer(@Param("userIds") List<String> userIds);

  /**
   * Remembers the mapping unless the user or the customer is already mapped; returns rows added.
   */
  /** Points a user at a new Stripe customer, if it still points at {@code oldCustomerId}. */
  int replace(
      @Param("userId") String userId,
      @Param("oldCustomerId") String oldCustomerId,
      @Param("newCustomerId") String newCustomerId);

  int insertIfAbsent(@Param("userId") String userId, @Param("customerId") String stripeCustomerId);
}
