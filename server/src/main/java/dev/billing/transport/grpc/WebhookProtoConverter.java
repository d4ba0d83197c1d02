package dev.billing.transport.grpc;

import dev.billing.domain.inbox.StoredEvent;
import dev.billing.proto.v1.WebhookEvent;
import dev.billing.proto.v1.WebhookEventStatus;

/** Inbox rows to proto and back. */
public final class WebhookProtoConverter {
  private WebhookProtoConverter() {}

  public static WebhookEvent toProto(StoredEvent e) {
    WebhookEvent.Builder b =
        WebhookEvent.newBuilder()
            .setEventId(e.id())
            .setType(e.type())
            .setStatus(status(e.status()))
            .setAttempts(e.attempts())
            .setReceiveTime(CreditProtoConverter.millis(e.receivedAtMillis()));
    if (e.lastError() != null) {
      b.setLastError(e.lastError());
    }
    return b.build();
  }

  static WebhookEventStatus status(String stored) {
    return switch (stored) {
      case StoredEvent.PENDING -> WebhookEventStatus.WEBHOOK_EVENT_STATUS_PENDING;
      case StoredEvent.PROCESSED -> WebhookEventStatus.WEBHOOK_EVENT_STATUS_PROCESSED;
      case StoredEvent.DEAD -> WebhookEventStatus.WEBHOOK_EVENT_STATUS_DEAD;
      default -> WebhookEventStatus.WEBHOOK_EVENT_STATUS_UNSPECIFIED;
    };
  }

  /** The stored name of a status; null for UNSPECIFIED. */
  public static String stored(WebhookEventStatus status) {
    return switch (status) {
      case WEBHOOK_EVENT_STATUS_PENDING -> StoredEvent.PENDING;
      case WEBHOOK_EVENT_STATUS_PROCESSED -> StoredEvent.PROCESSED;
      case WEBHOOK_EVENT_STATUS_DEAD -> StoredEvent.DEAD;
      default -> null;
    };
  }
}
