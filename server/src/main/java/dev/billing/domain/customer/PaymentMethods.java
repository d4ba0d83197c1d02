package dev.billing.domain.customer;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.gateway.Intent;
import dev.billing.domain.gateway.SavedCard;
import dev.billing.domain.gateway.StripeGateway;
import dev.billing.error.BillingException;
import dev.billing.persistence.Transactions;
import java.util.List;

/**
 * A user's saved cards, kept by Stripe on the user's customer: saved through a SetupIntent the
 * product's own form confirms, listed, made the default for renewals and plan changes, detached. A
 * payment method of another customer is refused: an id is not a capability.
 */
public final class PaymentMethods {
  private final Transactions tx;
  private final CustomerService customers;
  private final StripeGateway stripe;
  private final AuditLog audit;

  public PaymentMethods(
      Transactions tx, CustomerService customers, StripeGateway stripe, AuditLog audit) {
    this.tx = tx;
    this.customers = customers;
    this.stripe = stripe;
    this.audit = audit;
  }

  /** A saved card, and whether renewals charge it. */
  public record Card(SavedCard card, boolean isDefault) {}

  /** A SetupIntent for the user's customer (created if the user has none yet). */
  public Intent createSetupIntent(String userId, String idempotencyKey) {
    String customer = customers.getOrCreate(userId);
    return stripe.createSetupIntent(customer, "setup:" + userId + ":" + idempotencyKey);
  }

  /** The user's saved cards, newest first; none when the user has no Stripe customer. */
  public List<Card> list(String userId) {
    String customer = customers.customerOf(userId);
    if (customer == null) {
      return List.of();
    }
    StripeGateway.Cards cards = stripe.listCards(customer);
    return cards.cards().stream().map(c -> new Card(c, c.id().equals(cards.defaultId()))).toList();
  }

  /** Makes one of the user's cards the one renewals and plan changes charge. */
  public void setDefault(String userId, String paymentMethodId, Cause cause) {
    String customer = owned(userId, paymentMethodId);
    stripe.setDefaultPaymentMethod(
        customer, paymentMethodId, "default_pm:" + customer + ":" + paymentMethodId);
    audited(userId, paymentMethodId, "payment_method.default_set", cause);
  }

  /** Removes one of the user's cards from their customer. */
  public void detach(String userId, String paymentMethodId, Cause cause) {
    owned(userId, paymentMethodId);
    stripe.detachPaymentMethod(paymentMethodId, "detach_pm:" + paymentMethodId);
    audited(userId, paymentMethodId, "payment_method.detached", cause);
  }

  /** The user's customer, when the payment method is theirs; else INVALID_ARGUMENT. */
  private String owned(String userId, String paymentMethodId) {
    String customer = customers.customerOf(userId);
    SavedCard card = stripe.retrieveCard(paymentMethodId);
    if (customer == null || card == null || !customer.equals(card.customerId())) {
      throw BillingException.InvalidArgument.of(
          "payment_method_id", "is not a saved payment method of user " + userId);
    }
    return customer;
  }

  private void audited(String userId, String paymentMethodId, String action, Cause cause) {
    tx.execute(
        uow -> {
          audit.record(uow, userId, cause, "payment_method", paymentMethodId, action, null, null);
          return null;
        });
  }
}
