package dev.billing.grpc;

import dev.billing.error.BillingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * AIP-158 paging: page sizes 1-100 (0 = 20) and opaque page tokens that carry a cursor. A token
 * from somewhere else is INVALID_ARGUMENT, never a server error.
 */
final class PageTokens {
  static final int DEFAULT_PAGE_SIZE = 20;
  static final int MAX_PAGE_SIZE = 100;
  private static final String PREFIX = "v1:";

  private PageTokens() {}

  static int pageSize(int requested) {
    if (requested < 0 || requested > MAX_PAGE_SIZE) {
      throw BillingException.InvalidArgument.of(
          "page_size",
          "must be between 0 and " + MAX_PAGE_SIZE + " (0 = " + DEFAULT_PAGE_SIZE + ")");
    }
    return requested == 0 ? DEFAULT_PAGE_SIZE : requested;
  }

  static String encode(long cursor) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((PREFIX + cursor).getBytes(StandardCharsets.UTF_8));
  }

  /** The cursor in a token; {@code firstPage} for an empty token. */
  static long decode(String token, long firstPage) {
    if (token.isEmpty()) {
      return firstPage;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (!s.startsWith(PREFIX)) {
        throw new IllegalArgumentException();
      }
      long cursor = Long.parseLong(s.substring(PREFIX.length()));
      if (cursor < 0) {
        throw new IllegalArgumentException();
      }
      return cursor;
    } catch (IllegalArgumentException e) {
      throw BillingException.InvalidArgument.of(
          "page_token", "is not a page token this server issued");
    }
  }
}
