package dev.billing.subscription;

/**
 * A stored subscription. {@code stateCreated} (the Stripe event's {@code created}) and {@code
 * stateRank} (the status's lifecycle stage) order competing snapshots; a placeholder row (created
 * from a checkout session or an invoice before any subscription event) has rank {@link
 * #PLACEHOLDER_RANK} so any real snapshot replaces it. The invoice fields track the latest invoice
 * outcome the same way.
 */
public record SubscriptionRow(
    String stripeSubscriptionId,
    String userId,
    String stripeCustomerId,
    String status,
    String priceId,
    String plan,
    Long currentPeriodEnd,
    Long trialEnd,
    boolean cancelAtPeriodEnd,
    Long pastDueSince,
    long stateCreated,
    int stateRank,
    String lastEventId,
    boolean invoiceFailed,
    long invoiceStateCreated,
    int invoiceStateRank,
    boolean needsRefresh) {

  public static final int PLACEHOLDER_RANK = -1;

  public StripeStatus stripeStatus() {
    return StripeStatus.parseStored(status);
  }

  /** True while the user should fix their payment method because of this subscription. */
  public boolean hasPaymentProblem() {
    StripeStatus s = stripeStatus();
    return s.isPaymentProblem() || (invoiceFailed && !s.isTerminal());
  }
}
