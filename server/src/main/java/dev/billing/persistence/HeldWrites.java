package dev.billing.persistence;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
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
  private final Map<String, T> rows = new LinkedHashMap<>();
  private final BiConsumer<Writes, T> writeOne;
  private final BiConsumer<Writes, Collection<T>> writeAll;
  private final boolean counted;

  public HeldWrites(
      UnitOfWork uow,
      Class<?> store,
      BiConsumer<Writes, T> writeOne,
      BiConsumer<Writes, Collection<T>> writeAll) {
    this(uow, store, writeOne, writeAll, false);
  }

  private HeldWrites(
      UnitOfWork uow,
      Class<?> store,
      BiConsumer<Writes, T> writeOne,
      BiConsumer<Writes, Collection<T>> writeAll,
      boolean counted) {
    this.store = store.getName();
    this.writeOne = writeOne;
    this.writeAll = writeAll;
    this.counted = counted;
    uow.hold(this);
  }

  /**
   * Held writes whose writers read the rows each statement changed: at commit they are sent on
   * their own, before the commit's round trip (where counts are not known until it is sent).
   */
  public static <T> HeldWrites<T> counted(
      UnitOfWork uow,
      Class<?> store,
      BiConsumer<Writes, T> writeOne,
      BiConsumer<Writes, Collection<T>> writeAll) {
    return new HeldWrites<>(uow, store, writeOne, writeAll, true);
  }

  boolean counted() {
    return counted;
  }

  String store() {
    return store;
  }

  public void put(String key, T row) {
    rows.put(key, row);
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
