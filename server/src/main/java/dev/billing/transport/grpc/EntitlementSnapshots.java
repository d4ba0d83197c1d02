package dev.billing.transport.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.billing.domain.change.ChangeFeed;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.proto.v1.GetEntitlementResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * GetEntitlement's in-memory snapshot: one prebuilt response per user, so the hot path is one cache
 * lookup (no database, no JSON, no allocation). It is kept exact by every committed change, from
 * this replica (right after its commit) or another (through the change feed); a snapshot only ever
 * replaces an older version, so a slow cache-miss load can never overwrite a newer change.
 */
public final class EntitlementSnapshots implements ChangeFeed.Listener {
  private final EntitlementService entitlements;
  private final EntitlementProtoConverter converter;
  private final Cache<String, GetEntitlementResponse> cache;

  /**
   * Loads cache misses off the caller's thread (GetEntitlement answers on the transport thread).
   */
  private final ExecutorService loader =
      Executors.newFixedThreadPool(
          8, r -> Thread.ofPlatform().daemon().name("entitlement-loader").unstarted(r));

  public EntitlementSnapshots(
      EntitlementService entitlements,
      EntitlementProtoConverter converter,
      long cacheSize,
      MeterRegistry meters) {
    this.entitlements = entitlements;
    this.converter = converter;
    this.cache = Caffeine.newBuilder().maximumSize(cacheSize).recordStats().build();
    CaffeineCacheMetrics.monitor(meters, cache, "entitlements");
  }

  /** The user's entitlement; a user the service has never seen is on the free tier. */
  public GetEntitlementResponse get(String userId) {
    return cache.get(userId, id -> wrap(entitlements.find(id)));
  }

  /** The cached snapshot, or null on a miss: never touches the database. */
  public GetEntitlementResponse getIfCached(String userId) {
    return cache.getIfPresent(userId);
  }

  /** Loads a missing snapshot on the loader pool (off the caller's thread), then calls back. */
  public void loadAsync(String userId, BiConsumer<GetEntitlementResponse, Throwable> callback) {
    loader.execute(
        () -> {
          GetEntitlementResponse r;
          try {
            r = get(userId);
          } catch (RuntimeException e) {
            callback.accept(null, e);
            return;
          }
          callback.accept(r, null);
        });
  }

  /** Applies a committed change, unless a newer version is already there. */
  public void onCommitted(Change change) {
    EntitlementRow e = change.entitlement();
    cache
        .asMap()
        .compute(
            change.userId(),
            (id, current) ->
                current == null || current.getEntitlement().getVersion() < e.version()
                    ? wrap(e)
                    : current);
  }

  public void onCommitted(List<Change> changes) {
    changes.forEach(this::onCommitted);
  }

  @Override
  public void onPage(List<Change> changes) {
    onCommitted(changes);
  }

  private GetEntitlementResponse wrap(EntitlementRow e) {
    return GetEntitlementResponse.newBuilder().setEntitlement(converter.toProto(e)).build();
  }
}
