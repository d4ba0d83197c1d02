package dev.billing.grpc;

/** The user id rule, checked without allocating: it runs on every GetEntitlement. */
final class UserIds {
  private UserIds() {}

  /** 1-128 characters of letters, digits and {@code _ . : @ -}. */
  static boolean isValid(String id) {
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
