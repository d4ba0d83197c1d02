package dev.billing.domain.inbox;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a warm-up needs of the writers ({@link WebhookProcessor}): groups written as a writer writes
 * them and rolled back, and deliveries answered as theirs are.
 */
public interface Rehearsal {
  /** Writes these events as a writer writes a group, then rolls them back. */
  void rehearse(List<InboundEvent> events);

  /**
   * Runs {@code body}, whose rehearsals see each other's writes, all rolled back when it returns.
   */
  void rehearsing(Runnable body);

  /** A delivery's outcome, bounded by the store wait as the writers' deliveries are. */
  CompletableFuture<WebhookProcessor.Outcome> bounded(
      CompletableFuture<WebhookProcessor.Outcome> result);
}
