package dev.billing.stripe;

import java.util.regex.Pattern;

/** Masks Stripe secrets in text that may reach a log or a caller. */
public final class Redaction {
  private static final Pattern SECRET =
      Pattern.compile("\\b(sk|rk|whsec|pk)_(live|test)?_?[A-Za-z0-9]{4,}");

  private Redaction() {}

  public static String redact(String text) {
    return text == null ? null : SECRET.matcher(text).replaceAll("$1_***");
  }
}
