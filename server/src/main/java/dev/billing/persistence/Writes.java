package dev.billing.persistence;

import java.util.Collection;
import java.util.function.BiConsumer;

/**
 * Where held-back writes (see {@link HeldWrites}) go: the transaction itself, at once ({@link
 * UnitOfWork}), or the statements sent with its COMMIT ({@link CommitBatch}).
 */
public interface Writes extends Stores {
  /**
   * Writes {@code rows} with {@code write}, a single-row statement of {@code store}, as one
   * multi-row statement.
   */
  <S, T> void batch(Class<S> store, Collection<T> rows, BiConsumer<S, T> write);

  /**
   * Whether a statement may take a list in one placeholder ({@link InListTypeHandler}): only where
   * the values are written into the text of a packet ({@link CommitBatch}), not on a statement of
   * the transaction's own that runs at once.
   */
  default boolean takesInLists() {
    return false;
  }
}
