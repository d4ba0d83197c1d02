package dev.billing.stripe.event;

import com.google.gson.JsonObject;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.checkout.CheckoutMapper;
import dev.billing.domain.customer.CustomerMapper;
import dev.billing.domain.payment.PaymentService;
import dev.billing.domain.subscription.SubscriptionService;
import dev.billing.domain.subscription.SubscriptionSnapshot;
import dev.billing.persistence.UnitOfWork;
import dev.billing.stripe.StripeJson;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one event's effects inside the inbox transaction. Types without a handler are stored and
 * acknowledged, with no effect.
 */
public final class EventApplier {
  private final SubscriptionService subscriptions;
  private final PaymentService payments;

  public EventApplier(SubscriptionService subscriptions, PaymentService payments) {
    this.subscriptions = subscriptions;
    this.payments = payments;
  }

  public void apply(UnitOfWork uow, StripeEvent event) {
    Cause cause = Cause.stripe(event.id());
    JsonObject object = event.object();
    switch (event.type()) {
      case "customer.subscription.created",
          "customer.subscription.updated",
          "customer.subscription.paused",
          "customer.subscription.resumed",
          "customer.subscription.trial_will_end" ->
          subscriptions.apply(
              uow, SubscriptionSnapshot.fromJson(object), event.created(), false, false, cause);
      case "customer.subscription.deleted" ->
          subscriptions.apply(
              uow, SubscriptionSnapshot.fromJson(object), event.created(), true, false, cause);
      case "checkout.session.completed" -> {
        rememberCustomer(uow, object);
        markSession(uow, object, "complete");
        subscriptions.applyCheckout(uow, object, cause);
        payments.checkoutCompleted(uow, object, cause);
      }
      case "invoice.paid", "invoice.payment_succeeded" -> {
        subscriptions.applyInvoice(uow, object, event.created(), true, cause);
        payments.invoicePaid(uow, object, cause);
      }
      case "invoice.payment_failed" -> {
        subscriptions.applyInvoice(uow, object, event.created(), false, cause);
        payments.invoicePaymentFailed(uow, object, cause);
      }
      case "charge.refunded" -> payments.chargeRefunded(uow, object, cause);
      case "checkout.session.expired" -> {
        markSession(uow, object, "expired");
        payments.checkoutExpired(uow, object, cause);
      }
      case "payment_intent.succeeded" -> payments.paymentIntentSucceeded(uow, object, cause);
      case "payment_intent.payment_failed" -> payments.paymentIntentFailed(uow, object, cause);
      case "payment_intent.canceled" -> payments.paymentIntentCanceled(uow, object, cause);
      default -> {
        // Stored for the record; nothing to change.
      }
    }
  }

  /**
   * Before a group of events is applied in one transaction: locks and loads, in a few statements,
   * the users their subscription and invoice objects name (see {@link
   * SubscriptionService#prefetch}).
   */
  public void prefetch(UnitOfWork uow, List<StripeEvent> events) {
    List<String> users = new ArrayList<>();
    for (StripeEvent event : events) {
      String user =
          switch (event.type()) {
            case "customer.subscription.created",
                "customer.subscription.updated",
                "customer.subscription.paused",
                "customer.subscription.resumed",
                "customer.subscription.trial_will_end",
                "customer.subscription.deleted" ->
                StripeJson.metadataUserId(event.object());
            case "invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed" ->
                SubscriptionService.invoiceUserId(event.object());
            default -> null;
          };
      if (user != null) {
        users.add(user);
      }
    }
    subscriptions.prefetch(uow, users);
  }

  /** A completed checkout tells us the customer of a user, if we did not know it yet. */
  private static void rememberCustomer(UnitOfWork uow, JsonObject session) {
    String user = StripeJson.declaredUserId(session);
    String customer = StripeJson.id(session, "customer");
    if (user != null && customer != null) {
      uow.mapper(CustomerMapper.class).insertIfAbsent(user, customer);
    }
  }

  private static void markSession(UnitOfWork uow, JsonObject session, String status) {
    String id = StripeJson.string(session, "id");
    if (id != null) {
      uow.mapper(CheckoutMapper.class).updateStatus(id, status);
    }
  }
}
