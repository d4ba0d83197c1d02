package dev.billing.persistence;

import java.util.List;
import java.util.function.BiFunction;

/** Group work for the persistence tests. */
final class GroupWorks {
  private GroupWorks() {}

  /** A group's work: {@code apply} per item, no batched preparation. */
  static Transactions.GroupWork<String, String> each(BiFunction<UnitOfWork, String, String> apply) {
    return new Transactions.GroupWork<>() {
      @Override
      public boolean prepare(UnitOfWork uow, List<String> users) {
        return true;
      }

      @Override
      public String apply(UnitOfWork uow, String user, boolean batched) {
        return apply.apply(uow, user);
      }
    };
  }
}
