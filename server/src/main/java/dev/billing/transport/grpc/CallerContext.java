package dev.billing.transport.grpc;

import io.grpc.Context;

/** The calling service's name for the current call, as authentication established it. */
public final class CallerContext {
  public static final Context.Key<String> CALLER = Context.key("billing-caller");

  private CallerContext() {}

  /** The caller's service name, or "anonymous" when the call carried no identity. */
  public static String caller() {
    String c = CALLER.get();
    return c == null ? "anonymous" : c;
  }
}
