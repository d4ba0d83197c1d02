package dev.billing.persistence;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Group commit's front: writer threads that each take whatever waits in a bounded queue (up to
 * {@code maxGroup} items) and hand it to {@code write} as one group, which writes it in one
 * transaction and answers each item. A group whose write throws is handed to {@code failed}.
 *
 * <p>With a partition key, each writer has its own queue and an item always goes to the writer its
 * key hashes to: two writers never hold a group of the same key (a user), so their transactions
 * never wait on each other's row locks and run side by side. Without one, the writers share one
 * queue.
 *
 * @param <T> a waiting item (it carries its own answer)
 */
public final class GroupWriters<T> implements AutoCloseable {
  private final String name;
  private final int capacity;
  private final int maxGroup;
  private final Comparator<T> order;
  private final Function<T, Object> partition;
  private final Consumer<List<T>> write;
  private final BiConsumer<List<T>, RuntimeException> failed;
  private final List<BlockingQueue<T>> queues = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  /**
   * @param order how a group is sorted before it is written (so concurrent groups take row locks in
   *     one order), or null to keep arrival order
   * @param partition the key that picks an item's writer, or null for one queue shared by all
   */
  public GroupWriters(
      String name,
      int capacity,
      int maxGroup,
      Comparator<T> order,
      Function<T, Object> partition,
      Consumer<List<T>> write,
      BiConsumer<List<T>, RuntimeException> failed) {
    this.name = name;
    this.capacity = capacity;
    this.maxGroup = maxGroup;
    this.order = order;
    this.partition = partition;
    this.write = write;
    this.failed = failed;
    queues.add(new LinkedBlockingQueue<>(capacity));
  }

  /** Starts the writers (once, before the first {@link #offer}). */
  public void start(int count) {
    if (partition != null) {
      for (int i = 1; i < count; i++) {
        queues.add(new LinkedBlockingQueue<>(capacity));
      }
    }
    for (int i = 0; i < count; i++) {
      BlockingQueue<T> queue = queues.get(partition == null ? 0 : i);
      threads.add(Thread.ofPlatform().daemon().name(name + "-" + i).start(() -> loop(queue)));
    }
  }

  public boolean isStarted() {
    return !threads.isEmpty();
  }

  /** Queues an item; false when its queue is full. */
  public boolean offer(T item) {
    int i =
        partition == null || queues.size() == 1
            ? 0
            : Math.floorMod(partition.apply(item).hashCode(), queues.size());
    return queues.get(i).offer(item);
  }

  /** Calls {@code action} with each item waiting in the queues (as they stand while it runs). */
  public void forEachWaiting(Consumer<T> action) {
    queues.forEach(q -> q.forEach(action));
  }

  /** Takes every item still waiting (to answer them when writing is impossible). */
  public List<T> drain() {
    List<T> left = new ArrayList<>();
    queues.forEach(q -> q.drainTo(left));
    return left;
  }

  private void loop(BlockingQueue<T> queue) {
    while (running) {
      List<T> group = new ArrayList<>();
      try {
        group.add(queue.take());
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(group, maxGroup - 1);
      if (order != null) {
        group.sort(order);
      }
      try {
        write.accept(group);
      } catch (RuntimeException e) {
        failed.accept(group, e);
      }
    }
  }

  /** Stops the writers; what still waits is the caller's to answer ({@link #drain}). */
  @Override
  public void close() {
    running = false;
    threads.forEach(Thread::interrupt);
  }
}
