package dev.billing.transport.grpc;

import dev.billing.domain.audit.AuditEntry;

/** Audit rows to proto. */
public final class AuditProtoConverter {
  private AuditProtoConverter() {}

  public static dev.billing.proto.v1.AuditEntry toProto(AuditEntry e) {
    var b =
        dev.billing.proto.v1.AuditEntry.newBuilder()
            .setId(e.id())
            .setActor(e.actor())
            .setEntityType(e.entityType())
            .setEntityId(e.entityId())
            .setAction(e.action())
            .setCreateTime(CreditProtoConverter.millis(e.createdAtMillis()));
    if (e.userId() != null) {
      b.setUserId(e.userId());
    }
    if (e.oldValue() != null) {
      b.setOldValue(e.oldValue());
    }
    if (e.newValue() != null) {
      b.setNewValue(e.newValue());
    }
    if (e.stripeEventId() != null) {
      b.setStripeEventId(e.stripeEventId());
    }
    return b.build();
  }
}
