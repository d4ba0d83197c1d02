package dev.billing.persistence;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Group commit's front: writer threads that each take whatever waits in a bounded queue (up to
 * {@code maxGroup} items) and hand it to {@code write} as one group, which writes it in one
 * transaction and answers each item. A group whose write throws is handed to {@code failed}.
 *
 * @param <T> a waiting item (it carries its own answer)
 */
public final class GroupWriters<T> implements AutoCloseable {
  private final String name;
  private final int maxGroup;
  private final Comparator<T> order;
  private final Consumer<List<T>> write;
  private final BiConsumer<List<T>, RuntimeException> failed;
  private final BlockingQueue<T> queue;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  /**
   * @param order how a group is sorted before it is written (so concurrent groups take row locks in
   *     one order), or null to keep arrival order
   */
  public GroupWriters(
      String name,
      int capacity,
      int maxGroup,
      Comparator<T> order,
      Consumer<List<T>> write,
      BiConsumer<List<T>, RuntimeException> failed) {
    this.name = name;
    this.maxGroup = maxGroup;
    this.order = order;
    this.write = write;
    this.failed = failed;
    this.queue = new LinkedBlockingQueue<>(capacity);
  }

  public void start(int count) {
    for (int i = 0; i < count; i++) {
      threads.add(Thread.ofPlatform().daemon().name(name + "-" + i).start(this::loop));
    }
  }

  public boolean isStarted() {
    return !threads.isEmpty();
  }

  /** Queues an item; false when the queue is full. */
  public boolean offer(T item) {
    return queue.offer(item);
  }

  /** Takes every item still waiting (to answer them when writing is impossible). */
  public List<T> drain() {
    List<T> left = new ArrayList<>();
    queue.drainTo(left);
    return left;
  }

  private void loop() {
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
