package dev.billing.persistence;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Rows a transaction has changed but not written yet, the latest per key, sent with one statement
 * when the {@link UnitOfWork} flushes (a lone row with the single-row statement, whose SQL is
 * parsed once). Create it inside {@link UnitOfWork#attachment} so it is registered for the flush.
 */
public final class HeldWrites<T> {
  private final Map<String, T> rows = new LinkedHashMap<>();
  private final BiConsumer<UnitOfWork, T> writeOne;
  private final BiConsumer<UnitOfWork, Collection<T>> writeAll;

  public HeldWrites(
      UnitOfWork uow,
      BiConsumer<UnitOfWork, T> writeOne,
      BiConsumer<UnitOfWork, Collection<T>> writeAll) {
    this.writeOne = writeOne;
    this.writeAll = writeAll;
    uow.deferWrites(() -> flush(uow));
  }

  public void put(String key, T row) {
    rows.put(key, row);
  }

  /** Writes what is held, then forgets it. */
  public void flush(UnitOfWork uow) {
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
