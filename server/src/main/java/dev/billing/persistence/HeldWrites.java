package dev.billing.persistence;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Rows a transaction has changed but not written yet, the latest per key, sent with one statement
 * (a lone row with the single-row statement, whose SQL is parsed once). They are sent before any
 * other statement on the same store runs in the transaction and before a savepoint, so nothing ever
 * reads around them; what is still held at the end goes in the commit's own round trip ({@link
 * CommitBatch}). The domain never flushes them itself. Create it inside {@link
 * UnitOfWork#attachment} so it lives and dies with the transaction's other per-transaction state.
 */
public final class HeldWrites<T> {
  private final String store;

  /**
   * By key: written in key order, so transactions writing the same rows lock them in one order. (A
   * sorted map also keeps the removal of a held row off {@code LinkedHashMap}'s removal hook, a
   * call the JIT compiles for plain {@code HashMap}s, as most removals in the JVM are, and traps
   * on.)
   */
  private final Map<String, T> rows = new TreeMap<>();

  private final BiConsumer<Writes, T> writeOne;
  private final BiConsumer<Writes, Collection<T>> writeAll;

  public HeldWrites(
      UnitOfWork uow,
      Class<?> store,
      BiConsumer<Writes, T> writeOne,
      BiConsumer<Writes, Collection<T>> writeAll) {
    this.store = store.getName();
    this.writeOne = writeOne;
    this.writeAll = writeAll;
    uow.hold(this);
  }

  /**
   * Rows written by one single-row statement of {@code store}, {@code write}: a lone row on its
   * own, several as one batch of it ({@link Writes#batch}: one multi-row INSERT, or one round
   * trip).
   */
  public static <S, T> HeldWrites<T> rows(UnitOfWork uow, Class<S> store, BiConsumer<S, T> write) {
    return new HeldWrites<>(
        uow,
        store,
        (w, row) -> write.accept(w.store(store), row),
        (w, rows) -> w.batch(store, rows, write));
  }

  String store() {
    return store;
  }

  public void put(String key, T row) {
    rows.put(key, row);
  }

  /** Whether a row is held under {@code key} (not written yet). */
  public boolean holds(String key) {
    return rows.containsKey(key);
  }

  /** Forgets the row held under {@code key}, if any. */
  public void remove(String key) {
    rows.remove(key);
  }

  /** Writes what is held to {@code to}, then forgets it. */
  void flush(Writes to) {
    if (rows.isEmpty()) {
      return;
    }
    if (rows.size() == 1) {
      writeOne.accept(to, rows.values().iterator().next());
    } else {
      writeAll.accept(to, rows.values());
    }
    rows.clear();
  }
}
