package dev.billing.transport.grpc;

import java.util.Optional;

/** What a calling service may do. {@code admin} may do everything. */
public enum Scope {
  ENTITLEMENTS_READ("entitlements:read"),
  CHECKOUT_WRITE("checkout:write"),
  CREDITS_WRITE("credits:write"),
  STREAM_READ("stream:read"),
  USAGE_WRITE("usage:write"),
  /** The operator console, read only (actions need admin). Grants no RPC. */
  CONSOLE("console"),
  ADMIN("admin");

  private final String wire;

  Scope(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Optional<Scope> parse(String s) {
    for (Scope scope : values()) {
      if (scope.wire.equals(s)) {
        return Optional.of(scope);
      }
    }
    return Optional.empty();
  }
}
