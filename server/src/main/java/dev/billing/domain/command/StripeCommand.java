package dev.billing.domain.command;

/**
 * What one Stripe event asks of the service: parsed once from the raw payload by the stripe layer
 * (both payload shapes, before and after the 2025-03-31 API changes), typed and immutable. Nothing
 * below the stripe layer sees Stripe's JSON. User ids here are already checked ({@code null} when
 * the payload named none, or an invalid one).
 */
public sealed interface StripeCommand {

  /** The user whose rows a group of events should lock up front, or null. */
  default String prefetchUser() {
    return null;
  }

  /** The subscription a group of events should lock (or learn is new) up front, or null. */
  default String prefetchSubscription() {
    return null;
  }

  /**
   * customer.subscription.created / updated / paused / resumed / trial_will_end, or deleted (over,
   * whatever the payload's status says).
   */
  record SubscriptionChanged(SubscriptionSnapshot snapshot, boolean deleted)
      implements StripeCommand {
    @Override
    public String prefetchUser() {
      return snapshot.metadataUserId();
    }

    @Override
    public String prefetchSubscription() {
      return snapshot.id();
    }
  }

  /**
   * checkout.session.completed.
   *
   * @param userId metadata user id, else client_reference_id
   * @param planName the session's {@code metadata.plan} (set by CreateCheckout)
   * @param paymentId the session's {@code metadata.payment_id} (set by CreateCheckout)
   * @param credits the session's {@code metadata.credits}
   */
  record CheckoutCompleted(
      String sessionId,
      String mode,
      String paymentStatus,
      String userId,
      String customerId,
      String subscriptionId,
      String planName,
      String paymentIntentId,
      Long amountTotal,
      String currency,
      String paymentId,
      Long credits)
      implements StripeCommand {
    @Override
    public String prefetchUser() {
      return userId;
    }

    @Override
    public String prefetchSubscription() {
      return subscriptionId;
    }
  }

  /** checkout.session.expired. */
  record CheckoutExpired(String sessionId) implements StripeCommand {}

  /**
   * invoice.paid / invoice.payment_succeeded ({@code paid}) or invoice.payment_failed.
   *
   * @param subscriptionId the invoice's subscription (both shapes), null for a one-off invoice
   * @param subscriptionUserId the user in the subscription's metadata as the invoice carries it
   *     ({@code parent.subscription_details.metadata}, else {@code subscription_details.metadata})
   * @param parentUserId the user in {@code parent.subscription_details.metadata} only
   * @param declaredUserId the invoice's own metadata user id, else its client_reference_id
   * @param paymentIntentId {@code payment_intent}, else the first of {@code payments}
   */
  record InvoiceSettled(
      boolean paid,
      String invoiceId,
      String subscriptionId,
      String subscriptionUserId,
      String parentUserId,
      String declaredUserId,
      String customerId,
      String paymentIntentId,
      Long amountPaid,
      Long amountDue,
      String currency)
      implements StripeCommand {
    @Override
    public String prefetchUser() {
      return subscriptionUserId;
    }

    @Override
    public String prefetchSubscription() {
      return subscriptionId;
    }
  }

  /** How a payment intent ended. */
  enum IntentOutcome {
    SUCCEEDED,
    FAILED,
    CANCELED
  }

  /**
   * payment_intent.succeeded / payment_failed / canceled.
   *
   * @param paymentId {@code metadata.payment_id} (set for purchases this service started)
   * @param userId metadata user id, else client_reference_id
   * @param credits {@code metadata.credits}
   * @param failureCode the decline code (else the error code) of a failure, the cancellation reason
   *     of a cancellation
   */
  record PaymentIntentSettled(
      IntentOutcome outcome,
      String intentId,
      String paymentId,
      String userId,
      String customerId,
      Long amount,
      Long amountReceived,
      String currency,
      Long credits,
      String latestChargeId,
      String failureCode)
      implements StripeCommand {}

  /**
   * charge.refunded.
   *
   * @param amountRefunded Stripe's cumulative refunded amount
   */
  record ChargeRefunded(
      String chargeId, String paymentIntentId, String paymentId, Long amountRefunded)
      implements StripeCommand {}

  /**
   * Something happened to a customer's payment setup that changes no entitlement or money but
   * belongs in the user's history: setup_intent.succeeded, payment_method.attached / detached,
   * customer.updated (a new default card), invoice.payment_action_required (3-D Secure needed).
   *
   * @param type the Stripe event type
   * @param objectId the object it is about (seti_, pm_, cus_ or in_ id)
   * @param detail what changed, in a few words
   */
  record CustomerActivity(String type, String customerId, String objectId, String detail)
      implements StripeCommand {}

  /**
   * Any other type, or a handled type whose object cannot be trusted (an id over 255 characters, a
   * malformed currency or amount): stored for the record, no effect.
   *
   * @param reason why a handled type is ignored (audited), null for a type we do not handle
   */
  record Ignored(String reason) implements StripeCommand {
    /** A type this service does not handle. */
    public static final Ignored UNHANDLED = new Ignored(null);
  }
}
