package dev.billing.stripe.emulator;

/** Stripe's test card numbers and what they do. */
enum TestCards {
  SUCCESS(null, null),
  INSUFFICIENT_FUNDS("card_declined", "insufficient_funds"),
  GENERIC_DECLINE("card_declined", "generic_decline"),
  EXPIRED("expired_card", "expired_card"),
  REQUIRES_AUTHENTICATION(null, null),
  /** Attaches (and pays a first checkout) fine; every later charge is declined. */
  DECLINE_AFTER_ATTACHING("card_declined", "generic_decline"),
  INVALID_NUMBER("incorrect_number", null);

  final String code;
  final String declineCode;

  TestCards(String code, String declineCode) {
    this.code = code;
    this.declineCode = declineCode;
  }

  static TestCards of(String cardNumber) {
    String digits = cardNumber == null ? "" : cardNumber.replaceAll("[^0-9]", "");
    return switch (digits) {
      case "4242424242424242", "5555555555554444", "4000056655665556", "378282246310005" -> SUCCESS;
      case "4000000000009995" -> INSUFFICIENT_FUNDS;
      case "4000000000000002" -> GENERIC_DECLINE;
      case "4000000000000341" -> DECLINE_AFTER_ATTACHING;
      case "4000000000000069" -> EXPIRED;
      case "4000002500003155", "4000002760003184" -> REQUIRES_AUTHENTICATION;
      default -> INVALID_NUMBER;
    };
  }

  String message() {
    return switch (this) {
      case INSUFFICIENT_FUNDS -> "Your card has insufficient funds.";
      case GENERIC_DECLINE, DECLINE_AFTER_ATTACHING -> "Your card was declined.";
      case EXPIRED -> "Your card has expired.";
      case INVALID_NUMBER -> "Your card number is incorrect.";
      default -> "";
    };
  }

  /** The {@code last_payment_error} (or {@code last_setup_error}) Stripe records for this card. */
  com.google.gson.JsonObject lastError() {
    return Json.obj(
        "type", "card_error", "code", code, "decline_code", declineCode, "message", message());
  }

  /** The 402 card error Stripe answers a charge of this card with. */
  EmulatorError error() {
    return new EmulatorError(402, "card_error", message(), null, code, declineCode);
  }
}
