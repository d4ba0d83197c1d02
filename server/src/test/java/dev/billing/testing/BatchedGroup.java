package dev.billing.testing;

import dev.billing.persistence.ReadBatch;
import dev.billing.persistence.Transactions;
import dev.billing.persistence.UnitOfWork;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/** A group's work as a writer does it on the batched path, with a pause to act in between. */
public final class BatchedGroup {
  private BatchedGroup() {}

  /**
   * Prepares with {@code prefetch} (its reads sent in one batch, then what it returns run), then
   * runs {@code between} (another transaction's move, say) before the items are applied one by one
   * with {@code apply}; each item's result is {@code "applied"}.
   */
  public static <I> Transactions.GroupWork<I, String> of(
      BiFunction<UnitOfWork, ReadBatch, Runnable> prefetch,
      Runnable between,
      BiConsumer<UnitOfWork, I> apply) {
    return new Transactions.GroupWork<>() {
      @Override
      public boolean prepare(UnitOfWork uow, List<I> items) {
        ReadBatch reads = uow.reads();
        Runnable prefetched = prefetch.apply(uow, reads);
        reads.send();
        prefetched.run();
        between.run();
        return true;
      }

      @Override
      public String apply(UnitOfWork uow, I item, boolean batched) {
        apply.accept(uow, item);
        return "applied";
      }
    };
  }
}
