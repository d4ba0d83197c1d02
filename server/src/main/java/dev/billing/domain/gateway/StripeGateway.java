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

  /**
   * Stripe's preview ({@code POST /v1/invoices/create_preview}) of moving the subscription to
   * {@code newPriceId} now (Stripe's now: a test clock's time for a customer on one): with {@code
   * invoiceNow}, the proration invoice the change would charge at once; otherwise the next period's
   * invoice at the new price.
   */
  InvoicePreview previewPriceChange(String subscriptionId, String newPriceId, boolean invoiceNow);

  /**
   * Moves the subscription to {@code newPriceId} with its prorations invoiced and charged at once
   * ({@code proration_behavior=always_invoice}); a failed payment leaves the price as it was
   * ({@code payment_behavior=pending_if_incomplete}).
   */
  PriceChange changePrice(String subscriptionId, String newPriceId, String idempotencyKey);

  /**
   * Moves the subscription to {@code newPriceId} at the end of its current period, with a
   * subscription schedule made from it (this period at its price, then the new price, then
   * released); returns the schedule's id.
   */
  String schedulePriceAtPeriodEnd(String subscriptionId, String newPriceId, String idempotencyKey);

  /**
   * Releases the subscription's schedule, if it has one: the subscription goes on at its current
   * price. Returns false when there was none.
   */
  boolean releaseScheduleOf(String subscriptionId, String idempotencyKey);

  /** Creates a PaymentIntent for the customer, confirmed later by the front end. */
  Intent createPaymentIntent(
      String customerId,
      long amount,
      String currency,
      java.util.Map<String, String> metadata,
      String description,
      String idempotencyKey);

  /** Creates a SetupIntent that saves a card on the customer for off-session charges. */
  Intent createSetupIntent(String customerId, String idempotencyKey);

  /** The customer's saved cards, newest first, and which is the default (null: none). */
  record Cards(java.util.List<SavedCard> cards, String defaultId) {}

  Cards listCards(String customerId);

  /** A payment method, or null when Stripe has none with this id. */
  SavedCard retrieveCard(String paymentMethodId);

  void setDefaultPaymentMethod(String customerId, String paymentMethodId, String idempotencyKey);

  void detachPaymentMethod(String paymentMethodId, String idempotencyKey);

  CheckoutSessionView retrieveCheckoutSession(String sessionId);

  /** A subscription created without Checkout, and what confirms its first payment. */
  record SubscriptionCreated(String id, String status, String clientSecret) {}

  /**
   * Creates a subscription directly ({@code payment_behavior=default_incomplete}): it stays {@code
   * incomplete} until the front end confirms the first invoice's payment with the returned client
   * secret ({@code latest_invoice.confirmation_secret}, expanded), or starts {@code trialing}.
   */
  SubscriptionCreated createSubscription(
      String customerId,
      String priceId,
      int trialDays,
      String paymentMethodId,
      java.util.Map<String, String> metadata,
      String idempotencyKey);

  /** The ids of Stripe's customers with this email (newest first, at most 100). */
  java.util.List<String> customersByEmail(String email);
}
