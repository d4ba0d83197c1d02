package dev.billing.domain.referral;

/**
 * {@code userId} was referred by {@code referrerId}; {@code bonusPaymentId} is set once the bonus
 * is paid.
 */
public record Referral(String userId, String referrerId, String code, String bonusPaymentId) {}
