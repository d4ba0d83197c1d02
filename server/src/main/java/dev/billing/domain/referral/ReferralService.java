package dev.billing.domain.referral;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.credits.CreditService;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.security.SecureRandom;

/**
 * Referrals: every user has a code; a new user (no purchase yet, not referred yet) can be referred
 * by another user's code; the referred user's first purchase of at least $10 adds 1000 credits to
 * both, exactly once (the referral row is locked and marked, and both ledger keys are unique).
 */
public final class ReferralService {
  public static final long QUALIFYING_AMOUNT_MINOR = 1000;
  public static final long BONUS_CREDITS = 1000;
  private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

  private final Transactions tx;
  private final EntitlementService entitlements;
  private final CreditService credits;
  private final AuditLog audit;
  private final SecureRandom random = new SecureRandom();
  private volatile Purchases purchases;

  /** Where a user's purchases are counted (set once at start by the payment package). */
  public void usePurchases(Purchases purchases) {
    this.purchases = purchases;
  }

  private Purchases purchases() {
    Purchases p = purchases;
    if (p == null) {
      throw new IllegalStateException("no payment package counts purchases");
    }
    return p;
  }

  public ReferralService(
      Transactions tx, EntitlementService entitlements, CreditService credits, AuditLog audit) {
    this.tx = tx;
    this.entitlements = entitlements;
    this.credits = credits;
    this.audit = audit;
  }

  /** The user's code, created on first use. */
  public String codeFor(String userId) {
    String existing = tx.read(s -> s.store(ReferralStore.class).findCode(userId));
    if (existing != null) {
      return existing;
    }
    return tx.execute(
        uow -> {
          ReferralStore m = uow.store(ReferralStore.class);
          for (int attempt = 0; attempt < 10; attempt++) {
            String code = newCode();
            if (m.insertCode(code, userId) > 0) {
              return code;
            }
            String mine = m.findCode(userId);
            if (mine != null) {
              return mine;
            }
          }
          throw new BillingException.Internal(
              "REFERRAL_CODE", "could not allocate a referral code", null);
        });
  }

  private String newCode() {
    StringBuilder sb = new StringBuilder(8);
    for (int i = 0; i < 8; i++) {
      sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  /** What applying a code did. */
  public record Applied(String referrerId, boolean replayed) {}

  /** Records that a new user was referred; the same referral again is a replay. */
  public Applied apply(String userId, String code, Cause cause) {
    return tx.execute(uow -> apply(uow, userId, code, cause));
  }

  public Applied apply(UnitOfWork uow, String userId, String code, Cause cause) {
    ReferralStore m = uow.store(ReferralStore.class);
    String referrer = m.findOwner(code.toUpperCase());
    if (referrer == null) {
      throw BillingException.InvalidArgument.of("referral_code", "no user has this referral code");
    }
    if (referrer.equals(userId)) {
      throw BillingException.InvalidArgument.of("referral_code", "a user cannot refer themselves");
    }
    entitlements.lock(uow, userId);
    Referral existing = m.lock(userId);
    if (existing != null) {
      if (existing.referrerId().equals(referrer)) {
        return new Applied(referrer, true);
      }
      throw new BillingException.FailedPrecondition(
          "ALREADY_REFERRED", "the user was already referred by someone else");
    }
    if (purchases().count(uow, userId) > 0) {
      throw new BillingException.FailedPrecondition(
          "NOT_A_NEW_USER", "only users without purchases can be referred");
    }
    Referral theirs = m.find(referrer);
    if (theirs != null && theirs.referrerId().equals(userId)) {
      throw new BillingException.FailedPrecondition(
          "REFERRAL_CYCLE", "the referrer was referred by this user");
    }
    m.insert(new Referral(userId, referrer, code.toUpperCase(), null));
    audit.record(
        uow,
        userId,
        cause,
        "referral",
        userId,
        "referral.applied",
        null,
        "referred_by=" + referrer);
    return new Applied(referrer, false);
  }

  /**
   * Called inside the transaction that marks a payment succeeded: pays the referral bonus if this
   * is the referred user's first qualifying purchase.
   */
  public void onPurchase(
      UnitOfWork uow,
      String userId,
      long amountMinor,
      String currency,
      String paymentId,
      Cause cause) {
    if (amountMinor < QUALIFYING_AMOUNT_MINOR || !"usd".equalsIgnoreCase(currency)) {
      return;
    }
    ReferralStore m = uow.store(ReferralStore.class);
    Referral r = m.lock(userId);
    if (r == null || r.bonusPaymentId() != null) {
      return;
    }
    m.markBonusPaid(userId, paymentId);
    credits.apply(
        uow,
        userId,
        BONUS_CREDITS,
        "referral_bonus",
        "referral:" + userId,
        "referral bonus (referred by " + r.referrerId() + ")",
        paymentId,
        cause);
    credits.apply(
        uow,
        r.referrerId(),
        BONUS_CREDITS,
        "referral_bonus",
        "referral:" + userId + ":referrer",
        "referral bonus (referred " + userId + ")",
        paymentId,
        cause);
  }
}
