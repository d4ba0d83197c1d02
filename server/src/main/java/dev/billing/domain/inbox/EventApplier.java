package dev.billing.domain.inbox;

import dev.billing.domain.audit.AuditLog;
import dev.billing.domain.audit.Cause;
import dev.billing.domain.checkout.CheckoutSessions;
import dev.billing.domain.command.StripeCommand.ChargeRefunded;
import dev.billing.domain.command.StripeCommand.CheckoutCompleted;
import dev.billing.domain.command.StripeCommand.CheckoutExpired;
import dev.billing.domain.command.StripeCommand.CustomerActivity;
import dev.billing.domain.command.StripeCommand.Ignored;
import dev.billing.domain.command.StripeCommand.InvoiceSettled;
import dev.billing.domain.command.StripeCommand.PaymentIntentSettled;
import dev.billing.domain.command.StripeCommand.SubscriptionChanged;
import dev.billing.domain.customer.CustomerService;
import dev.billing.domain.payment.PaymentService;
import dev.billing.domain.subscription.SubscriptionService;
import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.UnitOfWork;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one event's command inside the inbox transaction, handing each part to the domain that
 * owns it. Types without a command are stored and acknowledged, with no effect.
 */
public final class EventApplier {
  private final SubscriptionService subscriptions;
  private final PaymentService payments;
  private final CustomerService customers;
  private final CheckoutSessions sessions;
  private final AuditLog audit;

  public EventApplier(
      SubscriptionService subscriptions,
      PaymentService payments,
      CustomerService customers,
      CheckoutSessions sessions,
      AuditLog audit) {
    this.audit = audit;
    this.subscriptions = subscriptions;
    this.payments = payments;
    this.customers = customers;
    this.sessions = sessions;
  }

  public void apply(UnitOfWork uow, InboundEvent event) {
    Cause cause = Cause.stripe(event.id());
    switch (event.command()) {
      case SubscriptionChanged c ->
          subscriptions.apply(uow, c.snapshot(), event.created(), c.deleted(), false, cause);
      case CheckoutCompleted c -> {
        customers.remember(uow, c.userId(), c.customerId());
        sessions.markStatus(uow, c.sessionId(), "complete");
        subscriptions.applyCheckout(uow, c, cause);
        payments.checkoutCompleted(uow, c, cause);
      }
      case InvoiceSettled c -> {
        subscriptions.applyInvoice(uow, c, event.created(), cause);
        payments.invoiceSettled(uow, c, cause);
      }
      case ChargeRefunded c -> payments.chargeRefunded(uow, c, cause);
      case CheckoutExpired c -> {
        sessions.markStatus(uow, c.sessionId(), "expired");
        payments.checkoutExpired(uow, c, cause);
      }
      case PaymentIntentSettled c -> payments.paymentIntentSettled(uow, c, cause);
      case CustomerActivity c ->
          audit.record(
              uow,
              customers.userOf(uow, c.customerId()),
              cause,
              "customer",
              c.objectId(),
              "stripe." + c.type(),
              null,
              c.detail());
      case Ignored c -> {
        // Stored for the record; nothing to change. A handled type we refused says why.
        if (c.reason() != null) {
          audit.record(uow, null, cause, "event", event.id(), "event.ignored", null, c.reason());
        }
      }
    }
  }

  /**
   * Before a group of events is applied in one transaction: locks and loads, with statements
   * recorded in {@code reads}, the users, subscriptions and payments their commands name (see
   * {@link SubscriptionService#prefetch}, {@link PaymentService#prefetch}). Run what it returns
   * once the batch has been sent.
   */
  public Runnable prefetch(UnitOfWork uow, ReadBatch reads, List<InboundEvent> events) {
    List<String> users = new ArrayList<>();
    List<String> subscriptionIds = new ArrayList<>();
    for (InboundEvent event : events) {
      String user = event.command().prefetchUser();
      if (user == null) {
        continue; // its user is found later, and locked before its subscription (the lock order)
      }
      users.add(user);
      String subscription = event.command().prefetchSubscription();
      if (subscription != null) {
        subscriptionIds.add(subscription);
      }
    }
    // The lock order: users, subscriptions, then payments.
    Runnable subscribed = subscriptions.prefetch(uow, reads, users, subscriptionIds);
    Runnable paid =
        payments.prefetch(uow, reads, events.stream().map(InboundEvent::command).toList());
    return () -> {
      subscribed.run();
      paid.run();
    };
  }
}
