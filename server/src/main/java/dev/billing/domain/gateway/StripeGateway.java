package dev.billing.domain.gateway;

import dev.billing.domain.command.SubscriptionSnapshot;

/**
 * Every call this service makes to Stripe. Implemented with stripe-java against api.stripe.com or
 * the local emulator; every call that creates something at Stripe carries an idempotency key.
 * Failures arrive as {@link dev.billing.error.BillingException}s.
 */
public interface StripeGateway {
  /** Creates a Stripe customer for a user; returns its id ({@code cus_...}). */
  String createCustomer(String userId, String email, String idempotencyKey);

  /** Creates a hosted Checkout session. */
  CheckoutSessionResult createCheckoutSession(CheckoutSessionSpec spec, String idempotencyKey);

  /** Creates a customer portal session; returns its URL. */
  String createPortalSession(String customerId, String returnUrl, String idempotencyKey);

  /** Cancels a subscription now, or sets it to end at the end of its period. */
  void cancelSubscription(String subscriptionId, boolean atPeriodEnd, String idempotencyKey);

  /** The subscription as Stripe has it now, as Stripe's JSON. */
  SubscriptionSnapshot retrieveSubscription(String subscriptionId);

  /** Refunds a payment, fully ({@code amount == null}) or partly; returns the refund id. */
  String createRefund(String paymentIntentId, Long amount, String idempotencyKey);

  /**
   * Every event Stripe has created at or after {@code createdGte} (epoch seconds), newest first, as
   * Stripe's raw JSON (so they go through the same parser as a webhook).
   */
  java.util.List<String> listEvents(long createdGte);

  /** Every subscription of a customer at Stripe, whatever its status. */
  java.util.List<SubscriptionSnapshot> listSubscriptions(String customerId);

  /**
   * A customer's payment intents that succeeded, as the command a payment_intent.succeeded carries.
   */
  java.util.List<dev.billing.domain.command.StripeCommand.PaymentIntentSettled>
      listSucceededPaymentIntents(String customerId);

  /** What Stripe made of a meter event. */
  enum MeterOutcome {
    /** Counted. */
    ACCEPTED,
    /** Stripe already holds an event with this identifier: counted before, not again. */
    DUPLICATE
  }

  /**
   * Reports usage to a Stripe meter ({@code POST /v1/billing/meter_events}). Throws {@link
   * dev.billing.error.BillingException.Unavailable} when it may be retried, another {@link
   * dev.billing.error.BillingException} when Stripe refuses it for good.
   */
  MeterOutcome reportMeterEvent(
      String eventName, String customerId, long value, String identifier, long timestamp);
}
