package dev.billing.transport.grpc;

import dev.billing.domain.customer.UserIds;
import dev.billing.error.BillingException;
import dev.billing.error.BillingException.FieldViolation;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Collects every problem of a request, then fails once with all of them as field violations. */
final class RequestValidator {
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[A-Za-z0-9_.:\\-]{1,128}");

  private final List<FieldViolation> violations = new ArrayList<>();

  RequestValidator userId(String field, String value) {
    if (value.isEmpty()) {
      violations.add(new FieldViolation(field, "is required"));
    } else if (!UserIds.isValid(value)) {
      violations.add(
          new FieldViolation(field, "must be 1-128 characters of letters, digits and _ . : @ -"));
    }
    return this;
  }

  RequestValidator idempotencyKey(String field, String value) {
    if (value.isEmpty()) {
      violations.add(
          new FieldViolation(field, "is required (any unique string, reused only on retry)"));
    } else if (!IDEMPOTENCY_KEY.matcher(value).matches()) {
      violations.add(
          new FieldViolation(field, "must be 1-128 characters of letters, digits and _ . : -"));
    }
    return this;
  }

  RequestValidator amount(String field, long value, long max) {
    if (value <= 0) {
      violations.add(new FieldViolation(field, "must be positive"));
    } else if (value > max) {
      violations.add(new FieldViolation(field, "must be at most " + max));
    }
    return this;
  }

  RequestValidator maxLength(String field, String value, int max) {
    if (value.length() > max) {
      violations.add(new FieldViolation(field, "must be at most " + max + " characters"));
    }
    return this;
  }

  RequestValidator check(boolean ok, String field, String description) {
    if (!ok) {
      violations.add(new FieldViolation(field, description));
    }
    return this;
  }

  void validate() {
    if (!violations.isEmpty()) {
      throw new BillingException.InvalidArgument(violations);
    }
  }
}
