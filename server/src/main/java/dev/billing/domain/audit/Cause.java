package dev.billing.domain.audit;

/**
 * Who or what caused a change: the calling service's name for API calls, "stripe" for webhooks
 * (with the event id, which links the audit row to the stored raw event).
 */
public record Cause(String actor, String stripeEventId) {
  public static Cause stripe(String eventId) {
    return new Cause("stripe", eventId);
  }

  public static Cause api(String caller) {
    return new Cause(caller == null || caller.isBlank() ? "api" : caller, null);
  }
}
