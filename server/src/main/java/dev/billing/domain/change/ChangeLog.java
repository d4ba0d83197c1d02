package dev.billing.domain.change;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.billing.domain.subscription.StripeStatus;
import dev.billing.persistence.CommitHook;
import dev.billing.persistence.UnitOfWork;
import dev.billing.proto.v1.ChangeKind;
import dev.billing.proto.v1.Entitlement;
import dev.billing.proto.v1.SubscriptionChange;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends a transaction's entitlement changes to change_log as its last statements, and tells
 * listeners after it commits.
 *
 * <p>Sequence numbers come from the single change_seq row, locked by {@code reserve} until the
 * transaction commits. Writers therefore take numbers one after another in commit order: when a
 * reader sees seq N, every seq below N is already committed, so tailing {@code seq > last} can
 * never skip a row that commits late. (AUTO_INCREMENT gives numbers at insert time, not commit
 * time.) The lock is held only from the reservation to the commit, the shortest possible window.
 */
public final class ChangeLog implements CommitHook {
  private static final Logger log = LoggerFactory.getLogger(ChangeLog.class);

  private final List<Consumer<List<SubscriptionChange>>> listeners = new CopyOnWriteArrayList<>();

  /** Called after each commit that appended changes, in the committing thread. */
  public void addListener(Consumer<List<SubscriptionChange>> listener) {
    listeners.add(listener);
  }

  @Override
  public void beforeCommit(UnitOfWork uow) {
    List<PendingChange> pending = uow.pendingChanges();
    if (pending.isEmpty()) {
      return;
    }
    ChangeLogMapper mapper = uow.mapper(ChangeLogMapper.class);
    mapper.reserve(pending.size());
    long seq = mapper.lastReserved() - pending.size() + 1;
    List<ChangeLogRow> rows = new ArrayList<>(pending.size());
    List<SubscriptionChange> changes = new ArrayList<>(pending.size());
    for (PendingChange p : pending) {
      ChangeLogRow row =
          new ChangeLogRow(
              seq++,
              p.userId(),
              p.kind().name(),
              p.entitlement().getVersion(),
              p.entitlement().toByteArray(),
              p.previousTier(),
              StripeStatus.fromProto(p.previousStatus()).stripeName(),
              p.stripeEventId(),
              p.occurredAtMillis());
      rows.add(row);
      changes.add(toProto(row, p.entitlement()));
    }
    mapper.insertAll(rows);
    uow.setCommittedChanges(changes);
  }

  @Override
  public void afterCommit(UnitOfWork uow) {
    List<SubscriptionChange> changes = uow.committedChanges();
    if (changes.isEmpty()) {
      return;
    }
    for (Consumer<List<SubscriptionChange>> l : listeners) {
      try {
        l.accept(changes);
      } catch (RuntimeException e) {
        log.error("change listener failed", e);
      }
    }
  }

  /** Decodes a stored row into the message sent on the stream. */
  public static SubscriptionChange toProto(ChangeLogRow row) {
    try {
      return toProto(row, Entitlement.parseFrom(row.entitlement()));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(
          "change_log row " + row.seq() + " has a corrupt entitlement", e);
    }
  }

  private static SubscriptionChange toProto(ChangeLogRow row, Entitlement entitlement) {
    SubscriptionChange.Builder b =
        SubscriptionChange.newBuilder()
            .setSeq(row.seq())
            .setUserId(row.userId())
            .setKind(ChangeKind.valueOf(row.kind()))
            .setEntitlement(entitlement)
            .setPreviousTier(row.previousTier())
            .setPreviousStatus(StripeStatus.parseStored(row.previousStatus()).proto())
            .setOccurredAt(
                Timestamp.newBuilder()
                    .setSeconds(Math.floorDiv(row.occurredAtMs(), 1000))
                    .setNanos((int) Math.floorMod(row.occurredAtMs(), 1000) * 1_000_000));
    if (row.stripeEventId() != null) {
      b.setStripeEventId(row.stripeEventId());
    }
    return b.build();
  }
}
