package dev.billing.stripe;

import com.stripe.exception.ApiConnectionException;
import com.stripe.exception.AuthenticationException;
import com.stripe.exception.CardException;
import com.stripe.exception.IdempotencyException;
import com.stripe.exception.InvalidRequestException;
import com.stripe.exception.PermissionException;
import com.stripe.exception.RateLimitException;
import com.stripe.exception.StripeException;
import dev.billing.error.BillingException;
import java.util.List;

/**
 * Stripe failures as this service's errors: card errors are FAILED_PRECONDITION with the decline
 * code, invalid requests INVALID_ARGUMENT, rate limits and network trouble UNAVAILABLE (retry),
 * authentication INTERNAL without any key in the message.
 */
public final class StripeErrors {
  private StripeErrors() {}

  public static BillingException translate(StripeException e) {
    return switch (e) {
      case CardException card -> {
        String code = card.getDeclineCode() != null ? card.getDeclineCode() : card.getCode();
        yield new BillingException.FailedPrecondition(
            "CARD_" + (code == null ? "DECLINED" : code.toUpperCase()),
            "the card was declined" + (code == null ? "" : " (" + code + ")"));
      }
      case RateLimitException ignored ->
          new BillingException.Unavailable(
              "STRIPE_RATE_LIMITED", "Stripe is rate limiting us; retry shortly", e);
      case IdempotencyException ignored ->
          new BillingException.FailedPrecondition(
              "IDEMPOTENCY_KEY_REUSED", "the idempotency key was used with different parameters");
      case InvalidRequestException invalid ->
          new BillingException.InvalidArgument(
              List.of(
                  new BillingException.FieldViolation(
                      invalid.getParam() == null ? "request" : invalid.getParam(),
                      "Stripe rejected the request: " + safeMessage(invalid))));
      case PermissionException ignored ->
          new BillingException.Internal(
              "STRIPE_PERMISSION", "Stripe denied this operation to our key", null);
      case AuthenticationException ignored ->
          new BillingException.Internal(
              "STRIPE_AUTHENTICATION", "Stripe rejected this service's credentials", null);
      case ApiConnectionException ignored ->
          new BillingException.Unavailable(
              "STRIPE_UNREACHABLE", "cannot reach Stripe; retry shortly", e);
      default -> {
        Integer status = e.getStatusCode();
        if (status == null || status >= 500) {
          yield new BillingException.Unavailable(
              "STRIPE_UNAVAILABLE", "Stripe is unavailable; retry shortly", e);
        }
        yield new BillingException.Internal(
            "STRIPE_ERROR", "unexpected Stripe error (" + status + ")", null);
      }
    };
  }

  /** Stripe's message, with anything that looks like a key masked. */
  static String safeMessage(StripeException e) {
    String m =
        e.getStripeError() != null && e.getStripeError().getMessage() != null
            ? e.getStripeError().getMessage()
            : String.valueOf(e.getMessage());
    return Redaction.redact(m);
  }
}
