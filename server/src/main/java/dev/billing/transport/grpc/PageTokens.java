package dev.billing.transport.grpc;

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

  /** One page of rows and the token of the next page ("" on the last). */
  record Page<T>(java.util.List<T> rows, String nextToken) {}

  /** A fetch of up to {@code limit} rows with ids below {@code beforeId}, newest first. */
  @FunctionalInterface
  interface Fetch<T> {
    java.util.List<T> rows(long beforeId, int limit);
  }

  /** Keyset paging over rows with decreasing ids: the token carries the last id of the page. */
  static <T> Page<T> newestFirst(
      int requestedSize, String token, Fetch<T> fetch, java.util.function.ToLongFunction<T> id) {
    int size = pageSize(requestedSize);
    java.util.List<T> rows = fetch.rows(decode(token, Long.MAX_VALUE), size + 1);
    if (rows.size() <= size) {
      return new Page<>(rows, "");
    }
    java.util.List<T> page = rows.subList(0, size);
    return new Page<>(page, encode(id.applyAsLong(page.getLast())));
  }

  /** A fetch of up to {@code limit} rows starting at {@code offset}. */
  @FunctionalInterface
  interface OffsetFetch<T> {
    java.util.List<T> rows(int offset, int limit);
  }

  /**
   * Offset paging, for lists without a unique increasing key: the token carries the next offset.
   */
  static <T> Page<T> byOffset(int requestedSize, String token, OffsetFetch<T> fetch) {
    int size = pageSize(requestedSize);
    long offset = decode(token, 0);
    if (offset > Integer.MAX_VALUE - size) {
      throw BillingException.InvalidArgument.of("page_token", "is out of range");
    }
    java.util.List<T> rows = fetch.rows((int) offset, size + 1);
    if (rows.size() <= size) {
      return new Page<>(rows, "");
    }
    return new Page<>(rows.subList(0, size), encode(offset + size));
  }
}
