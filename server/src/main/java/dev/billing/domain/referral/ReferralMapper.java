package dev.billing.domain.referral;

import org.apache.ibatis.annotations.Param;

/** referral_codes and referrals. */
public interface ReferralMapper {
  String findCode(@Param("userId") String userId);

  String findOwner(@Param("code") String code);

  int insertCode(@Param("code") String code, @Param("userId") String userId);

  Referral lock(@Param("userId") String userId);

  Referral find(@Param("userId") String userId);

  void insert(Referral referral);

  void markBonusPaid(@Param("userId") String userId, @Param("paymentId") String paymentId);

  /** Successful (or refunded) payments of a user: a user with any is not new. */
  long countPurchases(@Param("userId") String userId);
}
