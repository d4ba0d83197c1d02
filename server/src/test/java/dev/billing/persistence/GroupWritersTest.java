package dev.billing.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class GroupWritersTest {
  private record Item(String user, int n) {}

  /** Which writer threads wrote each user's items, and how many items were written. */
  private static final class Seen {
    final Map<String, Set<String>> threadsByUser = new ConcurrentHashMap<>();
    final AtomicInteger written = new AtomicInteger();

    void write(List<Item> group) {
      for (Item i : group) {
        threadsByUser
            .computeIfAbsent(i.user(), u -> ConcurrentHashMap.newKeySet())
            .add(Thread.currentThread().getName());
      }
      written.addAndGet(group.size());
    }
  }

  private static Seen run(boolean partitioned) {
    Seen seen = new Seen();
    try (GroupWriters<Item> writers =
        new GroupWriters<>(
            "test-writer",
            100_000,
            8,
            null,
            partitioned ? Item::user : null,
            seen::write,
            (group, e) -> {
              throw e;
            })) {
      writers.start(4);
      int total = 0;
      for (int round = 0; round < 500; round++) {
        for (int u = 0; u < 16; u++) {
          assertThat(writers.offer(new Item("user-" + u, round))).isTrue();
          total++;
        }
      }
      int expected = total;
      await().atMost(Duration.ofSeconds(20)).until(() -> seen.written.get() == expected);
    }
    return seen;
  }

  @Test
  void aKeysItemsAlwaysGoToTheSameWriter() {
    Seen seen = run(true);
    assertThat(seen.threadsByUser).hasSize(16);
    seen.threadsByUser.forEach((user, threads) -> assertThat(threads).as(user).hasSize(1));
    // ... and the keys are spread over more than one writer.
    long writersUsed = seen.threadsByUser.values().stream().flatMap(Set::stream).distinct().count();
    assertThat(writersUsed).isGreaterThan(1);
  }

  @Test
  void withoutAPartitionKeyTheWritersShareOneQueueAndWriteEverything() {
    assertThat(run(false).written.get()).isEqualTo(500 * 16);
  }
}
