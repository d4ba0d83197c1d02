package dev.billing.domain.subscription;

import dev.billing.domain.entitlement.StripeStatus;
import dev.billing.domain.entitlement.SubscriptionState;

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
    boolean needsRefresh)
    implements SubscriptionState {

  public static final int PLACEHOLDER_RANK = -1;

  /**
   * A row for a subscription known only from a checkout session or an invoice: any real snapshot
   * replaces it.
   */
  public static SubscriptionRow placeholder(
      String id,
      String userId,
      String customerId,
      String status,
      String priceId,
      String plan,
      String lastEventId) {
    return new SubscriptionRow(
        id,
        userId,
        customerId,
        status,
        priceId,
        plan,
        null,
        null,
        false,
        null,
        0,
        PLACEHOLDER_RANK,
        lastEventId,
        false,
        0,
        0,
        false);
  }

  /** This row with the latest invoice outcome as given. */
  public SubscriptionRow withInvoiceState(boolean failed, long created, int rank) {
    return new SubscriptionRow(
        stripeSubscriptionId,
        userId,
        stripeCustomerId,
        status,
        priceId,
        plan,
        currentPeriodEnd,
        trialEnd,
        cancelAtPeriodEnd,
        pastDueSince,
        stateCreated,
        stateRank,
        lastEventId,
        failed,
        created,
        rank,
        needsRefresh);
  }

  @Override
  public StripeStatus stripeStatus() {
    return StripeStatus.parseStored(status);
  }

  /** True while the user should fix their payment method because of this subscription. */
  @Override
  public boolean hasPaymentProblem() {
    StripeStatus s = stripeStatus();
    return s.isPaymentProblem() || (invoiceFailed && !s.isTerminal());
  }
}
