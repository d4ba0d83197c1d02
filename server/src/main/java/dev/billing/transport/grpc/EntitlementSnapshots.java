package dev.billing.transport.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.billing.domain.change.ChangeFeed;
import dev.billing.domain.entitlement.Change;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.entitlement.EntitlementService;
import dev.billing.domain.entitlement.UsageCount;
import dev.billing.domain.usage.UsageService;
import dev.billing.proto.v1.GetEntitlementResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * The in-memory snapshot behind GetEntitlement and CheckUsage: per user, the entitlement, the
 * newest usage counter of each metric, and GetEntitlement's prebuilt answer, so the hot path is one
 * cache lookup (no database, no JSON). It is kept exact by every committed change, from this
 * replica (right after its commit) or another (through the change feed): every change carries the
 * whole entitlement, usage counters included, and usage records are changes too. A change only ever
 * replaces an older version, so a slow cache-miss load can never overwrite a newer change.
 */
public final class EntitlementSnapshots implements ChangeFeed.Listener {
  /**
   * One user's snapshot.
   *
   * @param validUntil when the prebuilt answer must be rebuilt although nothing changed (a period
   *     ended, so its counters read 0), epoch seconds
   */
  public record Snapshot(
      EntitlementRow row,
      Map<String, UsageCount> counters,
      GetEntitlementResponse response,
      long validUntil) {}

  private final EntitlementService entitlements;
  private final UsageService usage;
  private final EntitlementProtoConverter converter;
  private final Clock clock;
  private final Cache<String, Snapshot> cache;

  /**
   * Where rehearsed changes go ({@link #rehearse}): a cache built as {@link #cache} is, so a
   * rehearsal runs the cache's write path too (Caffeine's maintenance on the common pool included),
   * emptied after each rehearsal.
   */
  private final Cache<String, Snapshot> rehearsals;

  /**
   * Loads cache misses off the caller's thread (GetEntitlement answers on the transport thread).
   */
  private final ExecutorService loader =
      Executors.newFixedThreadPool(
          8, r -> Thread.ofPlatform().daemon().name("entitlement-loader").unstarted(r));

  public EntitlementSnapshots(
      EntitlementService entitlements,
      UsageService usage,
      EntitlementProtoConverter converter,
      Clock clock,
      long cacheSize,
      MeterRegistry meters) {
    this.entitlements = entitlements;
    this.usage = usage;
    this.converter = converter;
    this.clock = clock;
    this.cache = newCache(cacheSize);
    this.rehearsals = newCache(cacheSize);
    CaffeineCacheMetrics.monitor(meters, cache, "entitlements");
  }

  /** The user's entitlement; a user the service has never seen is on the free tier. */
  public GetEntitlementResponse get(String userId) {
    return snapshot(userId).response();
  }

  /** The user's snapshot, loaded from the database on a miss. */
  public Snapshot snapshot(String userId) {
    return fresh(userId, cache.get(userId, this::load));
  }

  /** The cached answer, or null on a miss: never touches the database. */
  public GetEntitlementResponse getIfCached(String userId) {
    Snapshot s = snapshotIfCached(userId);
    return s == null ? null : s.response();
  }

  /** The cached snapshot, or null on a miss: never touches the database. */
  public Snapshot snapshotIfCached(String userId) {
    Snapshot s = cache.getIfPresent(userId);
    return s == null ? null : fresh(userId, s);
  }

  /** Loads a missing snapshot on the loader pool (off the caller's thread), then calls back. */
  public void loadAsync(String userId, BiConsumer<Snapshot, Throwable> callback) {
    loader.execute(
        () -> {
          Snapshot s;
          try {
            s = snapshot(userId);
          } catch (RuntimeException e) {
            callback.accept(null, e);
            return;
          }
          callback.accept(s, null);
        });
  }

  /** Caches a snapshot as given (tools that fill the cache without a database). */
  public void put(EntitlementRow row, Map<String, UsageCount> counters) {
    cache.put(row.userId(), build(row, counters));
  }

  /** The snapshot cache; the rehearsals' is built the same way, so the same code runs. */
  private static Cache<String, Snapshot> newCache(long size) {
    return Caffeine.newBuilder().maximumSize(size).recordStats().build();
  }

  /** Applies a committed change, unless a newer version is already there. */
  public void onCommitted(Change change) {
    apply(cache, change);
  }

  private void apply(Cache<String, Snapshot> to, Change change) {
    EntitlementRow e = change.entitlement();
    to.asMap()
        .compute(
            change.userId(),
            (id, current) -> replaces(e, current) ? build(e, change.counters()) : current);
  }

  /**
   * Applies changes that were rolled back (a rehearsal) as {@link #onCommitted} does, to a cache of
   * their own that is emptied afterwards: the service's cache keeps none of them.
   */
  public void rehearse(List<Change> changes) {
    for (Change change : changes) {
      apply(rehearsals, change);
    }
    rehearsals.invalidateAll();
  }

  /** Whether a change to {@code row} replaces the cached snapshot (none, or an older version). */
  private static boolean replaces(EntitlementRow row, Snapshot current) {
    return current == null || current.row().version() < row.version();
  }

  public void onCommitted(List<Change> changes) {
    changes.forEach(this::onCommitted);
  }

  @Override
  public void onPage(List<Change> changes) {
    onCommitted(changes);
  }

  /**
   * The entitlement first, then the counters: counters read after the row are at least as new as
   * it, and a change newer than the row replaces only older counters.
   */
  private Snapshot load(String userId) {
    EntitlementRow row = entitlements.find(userId);
    return build(row, usage.counters(userId));
  }

  private Snapshot build(EntitlementRow row, Map<String, UsageCount> counters) {
    GetEntitlementResponse response =
        GetEntitlementResponse.newBuilder()
            .setEntitlement(converter.toProto(row, usage.summaries(row, counters)))
            .build();
    return new Snapshot(row, Map.copyOf(counters), response, usage.summariesValidUntil(row));
  }

  /** The snapshot, its answer rebuilt first if a period has ended since it was built. */
  private Snapshot fresh(String userId, Snapshot s) {
    if (clock.instant().getEpochSecond() < s.validUntil()) {
      return s;
    }
    Snapshot rebuilt = build(s.row(), s.counters());
    cache.asMap().replace(userId, s, rebuilt);
    return rebuilt;
  }
}
