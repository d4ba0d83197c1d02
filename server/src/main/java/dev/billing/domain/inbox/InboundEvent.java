package dev.billing.domain.inbox;

import dev.billing.domain.command.StripeCommand;

/**
 * A verified Stripe event as the inbox stores it: its identity, the raw payload (kept verbatim for
 * retries and for the record; {@code storedPayload} is it as stored, see {@link StoredPayload}) and
 * the command the stripe layer parsed from it.
 */
public record InboundEvent(
    String id,
    String type,
    long created,
    String apiVersion,
    boolean livemode,
    String payload,
    byte[] storedPayload,
    StripeCommand command) {

  /** The event, its payload compressed here (on the thread that received it, not the writer's). */
  public InboundEvent(
      String id,
      String type,
      long created,
      String apiVersion,
      boolean livemode,
      String payload,
      StripeCommand command) {
    this(
        id, type, created, apiVersion, livemode, payload, StoredPayload.compress(payload), command);
  }
}
