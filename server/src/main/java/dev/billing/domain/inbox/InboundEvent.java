package dev.billing.domain.inbox;

import dev.billing.domain.command.StripeCommand;

/**
 * A verified Stripe event as the inbox stores it: its identity, the raw payload (kept verbatim for
 * retries and for the record) and the command the stripe layer parsed from it.
 */
public record InboundEvent(
    String id,
    String type,
    long created,
    String apiVersion,
    boolean livemode,
    String payload,
    StripeCommand command) {}
