package dev.billing.persistence;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Rows a transaction has changed but not written yet, the latest per key, sent with one statement
 * (a lone row with the single-row statement, whose SQL is parsed once). They are sent before any
 * other statement on the same store runs in the transaction, before a savepoint, and before commit,
 * so nothing ever reads around them; the domain never flushes them itself. Create it inside {@link
 * UnitOfWork#attachment} so it lives and dies with the transaction's other per-transaction state.
 */
public final class HeldWrites<T> {
  private final String store;
  private final Map<String, T> rows = new LinkedHashMap<>();
  private final BiConsumer<UnitOfWork, T> writeOne;
  private final BiConsumer<UnitOfWork, Collection<T>> writeAll;

  public HeldWrites(
      UnitOfWork uow,
      Class<?> store,
      BiConsumer<UnitOfWork, T> writeOne,
      BiConsumer<UnitOfWork, Collection<T>> writeAll) {
    this.store = store.getName();
    this.writeOne = writeOne;
    this.writeAll = writeAll;
    uow.hold(this);
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

  /** Writes what is held, then forgets it. */
  void flush(UnitOfWork uow) {
    if (rows.isEmpty()) {
      return;
    }
    if (rows.size() == 1) {
      writeOne.accept(uow, rows.values().iterator().next());
    } else {
      writeAll.accept(uow, rows.values());
    }
    rows.clear();
  }
}
