package dev.billing.domain.entitlement;

/**
 * What the entitlement rules read of one of a user's subscriptions (the subscription domain's
 * stored rows provide it).
 */
public interface SubscriptionState {
  String stripeSubscriptionId();

  StripeStatus stripeStatus();

  String plan();

  Long currentPeriodEnd();

  Long trialEnd();

  boolean cancelAtPeriodEnd();

  /** When the subscription went past_due (epoch seconds), or null. */
  Long pastDueSince();

  /** The Stripe event time of the stored state (epoch seconds). */
  long stateCreated();

  /** True while the user should fix their payment method because of this subscription. */
  boolean hasPaymentProblem();
}
