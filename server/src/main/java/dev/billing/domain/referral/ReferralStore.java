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
}
