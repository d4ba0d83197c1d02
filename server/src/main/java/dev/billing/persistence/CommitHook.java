package dev.billing.persistence;

/** Work every transaction does at its edges: append the change log last, publish after commit. */
public interface CommitHook {
  /** Runs inside the transaction as its very last statements. */
  void beforeCommit(UnitOfWork uow);

  /** Runs after a successful commit; must not throw. */
  void afterCommit(UnitOfWork uow);

  CommitHook NONE =
      new CommitHook() {
        @Override
        public void beforeCommit(UnitOfWork uow) {}

        @Override
        public void afterCommit(UnitOfWork uow) {}
      };
}
