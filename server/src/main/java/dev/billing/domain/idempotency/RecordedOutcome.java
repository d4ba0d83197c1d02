package dev.billing.domain.idempotency;

/**
 * The first outcome of an idempotency key of a mutating call that ran.
 *
 * @param operation the call ("credits.consume", "payment.refund", ...)
 * @param owner whose key it is (a user id, a payment id)
 * @param requestHash what the request asked (see {@link Idempotency#fingerprint})
 * @param code the refusal's reason code, or null when the call succeeded
 * @param message the refusal's message, or null
 * @param result what a success answered (an id), or null
 */
public record RecordedOutcome(
    String operation,
    String owner,
    String idemKey,
    String requestHash,
    String code,
    String message,
    String result) {

  public boolean refused() {
    return code != null;
  }
}
