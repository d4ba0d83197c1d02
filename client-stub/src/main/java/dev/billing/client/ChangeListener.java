package dev.billing.client;

import dev.billing.proto.v1.SubscriptionChange;
import io.grpc.Status;
import java.time.Duration;

/**
 * Receives a resumable change stream. Callbacks come from one thread at a time, in order; {@link
 * #onChange} sees every change exactly once, in {@code seq} order, across reconnects.
 */
public interface ChangeListener {
  /**
   * A committed change. Persist {@code change.getSeq()} with your own state to resume after a
   * restart.
   */
  void onChange(SubscriptionChange change);

  /** The stream's position moved without a change for you (a heartbeat); a valid cursor too. */
  default void onCursor(long seq) {}

  /** The stream broke and will be reopened after {@code delay}, resuming after {@code afterSeq}. */
  default void onReconnecting(Status cause, long afterSeq, Duration delay) {}

  /**
   * The stream cannot go on: OUT_OF_RANGE (the cursor was pruned: resynchronise and subscribe
   * without a cursor), or a permanent error such as UNAUTHENTICATED or INVALID_ARGUMENT.
   */
  default void onFatal(Status status) {}
}
