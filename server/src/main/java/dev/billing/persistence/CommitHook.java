package dev.billing.persistence;

/** Work every transaction does at its edges: write its journals last, publish after commit. */
public interface CommitHook {
  /**
   * Runs inside the transaction after its work; what it writes through {@link
   * UnitOfWork#commitBatch} goes after the held-back writes, in the round trip that commits.
   */
  void beforeCommit(UnitOfWork uow);

  /** Runs after a successful commit; must not throw. */
  default void afterCommit(UnitOfWork uow) {}

  /**
   * Runs instead of {@link #afterCommit} when the transaction was a rehearsal (rolled back, see
   * {@link Transactions#rehearseGroup}): what it does after a commit, with nothing kept or
   * published; must not throw.
   */
  default void afterRehearsal(UnitOfWork uow) {}
}
