package dev.billing.error;

import java.util.List;

/**
 * A failure the caller can understand. Each subclass maps to one gRPC status and one HTTP status in
 * a single table ({@code dev.billing.transport.grpc.StatusMapper}); messages never carry secrets.
 */
public abstract sealed class BillingException extends RuntimeException
    permits BillingException.InvalidArgument,
        BillingException.NotFound,
        BillingException.FailedPrecondition,
        BillingException.Unavailable,
        BillingException.Internal {

  /** A machine-readable reason, sent as {@code google.rpc.ErrorInfo.reason}. */
  private final String reason;

  protected BillingException(String reason, String message, Throwable cause) {
    super(message, cause, false, false);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }

  /** One bad field of a request: sent as a {@code google.rpc.BadRequest.FieldViolation}. */
  public record FieldViolation(String field, String description) {}

  /** The request is malformed; {@code violations} says which fields and why. */
  public static final class InvalidArgument extends BillingException {
    private final List<FieldViolation> violations;

    public InvalidArgument(List<FieldViolation> violations) {
      super(
          "INVALID_REQUEST",
          violations.stream()
              .map(v -> v.field() + ": " + v.description())
              .reduce((a, b) -> a + "; " + b)
              .orElse("invalid request"),
          null);
      this.violations = List.copyOf(violations);
    }

    public static InvalidArgument of(String field, String description) {
      return new InvalidArgument(List.of(new FieldViolation(field, description)));
    }

    public List<FieldViolation> violations() {
      return violations;
    }
  }

  /** The thing asked for does not exist. */
  public static final class NotFound extends BillingException {
    public NotFound(String reason, String message) {
      super(reason, message, null);
    }
  }

  /** The request is valid but the system's state forbids it (low balance, key reused, ...). */
  public static final class FailedPrecondition extends BillingException {
    public FailedPrecondition(String reason, String message) {
      super(reason, message, null);
    }
  }

  /** A dependency (database, Stripe) is unavailable; the caller should retry with backoff. */
  public static final class Unavailable extends BillingException {
    public Unavailable(String reason, String message, Throwable cause) {
      super(reason, message, cause);
    }

    /** The database cannot be reached (or is known to be down): retry later. */
    public static Unavailable database(Throwable cause) {
      return new Unavailable(
          "DATABASE_UNAVAILABLE", "the database is unavailable, retry later", cause);
    }
  }

  /** Our fault. The message is safe to show; details go to the log only. */
  public static final class Internal extends BillingException {
    public Internal(String reason, String message, Throwable cause) {
      super(reason, message, cause);
    }
  }
}
