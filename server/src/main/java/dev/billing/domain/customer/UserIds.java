package dev.billing.domain.customer;

/**
 * The user id rule (1-128 letters, digits and {@code _ . : @ -}), checked without allocating: it
 * runs on every GetEntitlement and on every user id taken from Stripe metadata.
 */
public final class UserIds {
  private UserIds() {}

  /** 1-128 characters of letters, digits and {@code _ . : @ -}. */
  public static boolean isValid(String id) {
    int n = id.length();
    if (n == 0 || n > 128) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '_'
              || c == '.'
              || c == ':'
              || c == '@'
              || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
