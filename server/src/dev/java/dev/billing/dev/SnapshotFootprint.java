package dev.billing.dev;

import dev.billing.config.Catalog;
import dev.billing.domain.entitlement.EntitlementRow;
import dev.billing.domain.usage.UsageService;
import dev.billing.transport.grpc.EntitlementProtoConverter;
import dev.billing.transport.grpc.EntitlementSnapshots;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code make footprint [USERS=1000000]}: the memory GetEntitlement's in-memory snapshot costs per
 * user. Fills the same snapshot the server keeps with that many users (a paid tier, a period end, a
 * subscription id, features and limits from the default catalog), the way committed changes fill
 * it, and prints the heap and the process RSS it added, per user.
 */
public final class SnapshotFootprint {
  private SnapshotFootprint() {}

  public static void main(String[] args) throws Exception {
    int users = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    Catalog catalog = Catalog.defaults("price_pro", "price_studio");
    UsageService usage = new UsageService(null, catalog, null, null, java.time.Clock.systemUTC());
    EntitlementSnapshots snapshots =
        new EntitlementSnapshots(
            null,
            usage,
            new EntitlementProtoConverter(catalog, usage),
            java.time.Clock.systemUTC(),
            users + 1L,
            new SimpleMeterRegistry());
    long heapBefore = usedHeap();
    long rssBefore = rss();
    long now = System.currentTimeMillis() / 1000;
    for (int i = 0; i < users; i++) {
      String user = "user-" + i;
      EntitlementRow row =
          new EntitlementRow(
              user,
              i % 3 == 0 ? "studio" : "pro",
              "active",
              "sub_" + Long.toHexString(0x1000_0000_0000L + i),
              now + 30 * 86400,
              null,
              false,
              false,
              3,
              1000 + i % 500,
              null,
              null);
      snapshots.put(row, java.util.Map.of());
    }
    long heapAfter = usedHeap();
    long rssAfter = rss();
    System.out.printf(
        "%,d users in the snapshot: heap +%,d MB (%,d bytes per user), RSS +%,d MB (%,d bytes per"
            + " user), RSS now %,d MB%n",
        users,
        (heapAfter - heapBefore) >> 20,
        (heapAfter - heapBefore) / users,
        (rssAfter - rssBefore) >> 20,
        (rssAfter - rssBefore) / users,
        rssAfter >> 20);
    if (snapshots.getIfCached("user-" + (users - 1)) == null) {
      throw new IllegalStateException("the snapshot lost users");
    }
  }

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return heap.getUsed();
  }

  /** The process's resident set, from /proc (Linux). */
  private static long rss() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }
}
