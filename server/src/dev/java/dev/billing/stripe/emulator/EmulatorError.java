package dev.billing.stripe.emulator;

import com.google.gson.JsonObject;

/**
 * A Stripe-shaped API error: {@code {"error":{"type","message","param","code","decline_code"}}}.
 */
final class EmulatorError extends RuntimeException {
  final int status;
  final String type;
  final String param;
  final String code;
  final String declineCode;

  EmulatorError(int status, String type, String message, String param, String code) {
    this(status, type, message, param, code, null);
  }

  EmulatorError(
      int status, String type, String message, String param, String code, String declineCode) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
    this.declineCode = declineCode;
  }

  static EmulatorError missing(String kind, String id, String param) {
    return new EmulatorError(
        404,
        "invalid_request_error",
        "No such " + kind + ": '" + id + "'",
        param,
        "resource_missing");
  }

  static EmulatorError invalid(String message, String param) {
    return new EmulatorError(400, "invalid_request_error", message, param, "parameter_invalid");
  }

  JsonObject toJson() {
    JsonObject err = new JsonObject();
    err.addProperty("type", type);
    err.addProperty("message", getMessage());
    if (param != null) {
      err.addProperty("param", param);
    }
    if (code != null) {
      err.addProperty("code", code);
    }
    if (declineCode != null) {
      err.addProperty("decline_code", declineCode);
    }
    err.addProperty("request_log_url", "https://dashboard.stripe.com/test/logs");
    JsonObject root = new JsonObject();
    root.add("error", err);
    return root;
  }
}
