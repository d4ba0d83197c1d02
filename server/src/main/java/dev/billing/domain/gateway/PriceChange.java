package dev.billing.domain.gateway;

/**
 * What Stripe made of moving a subscription to another price with its prorations invoiced at once.
 *
 * @param applied true when the invoice was paid (or nothing was due) and the new price applies;
 *     false when the payment failed and the change waits as Stripe's pending update
 * @param invoiceId the proration invoice, or null when none was created
 * @param failure why the payment failed (Stripe's decline code or message), when not applied
 */
public record PriceChange(boolean applied, String invoiceId, long amountDue, String failure) {}
