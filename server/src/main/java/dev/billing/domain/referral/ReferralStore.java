package dev.billing.domain.referral;

/** referral_codes and referrals. */
public interface ReferralStore {
  String findCode(String userId);

  String findOwner(String code);

  int insertCode(String code, String userId);

  Referral lock(String userId);

  Referral find(String userId);

  void insert(Referral referral);

  void markBonusPaid(String userId, String paymentId);

  /** Successful (or refunded) payments of a user: a user with any is not new. */
  long countPurchases(String userId);
}
