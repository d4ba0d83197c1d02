package dev.billing.domain.change;

import java.util.List;

/** change_log and its sequence row. */
public interface ChangeLogStore {
  /**
   * Takes the sequence row's lock until commit and moves it on by {@code n}; the new last number is
   * then the session's LAST_INSERT_ID() (and the write's insert id: {@code
   * CommitBatch.insertIdOf}).
   */
  void reserve(int n);

  /**
   * Appends {@code row} (its seq aside) as number LAST_INSERT_ID() - {@code fromLast}: one of the
   * numbers {@link #reserve} just took, before anything else sets LAST_INSERT_ID().
   */
  void append(ChangeLogRow row, int fromLast);

  /** Committed rows after {@code afterSeq}, in order; at most {@code limit}. */
  List<ChangeLogRow> readAfter(long afterSeq, int limit);

  /**
   * Committed rows after {@code afterSeq} up to {@code throughSeq}, in order; at most {@code
   * limit}.
   */
  List<ChangeLogRow> readThrough(long afterSeq, long throughSeq, int limit);

  /**
   * The sequence row's last number, read with a shared lock: it waits for the transaction that
   * holds the row (reserving numbers) to commit or roll back, so every number it returns belongs to
   * a transaction that has finished, and a read that follows sees all of them.
   */
  long settledLastSeq();

  /** A user's newest changes, newest first. */
  List<ChangeLogRow> newestOfUser(String userId, int limit);

  /** The highest committed sequence number (0 when nothing was ever written). */
  long lastCommittedSeq();

  /** The highest seq pruned by retention (0 when nothing was pruned). */
  long prunedThrough();

  /**
   * The highest seq among rows older than {@code cutoffMillis}, at most {@code limit} rows past
   * {@code afterSeq}.
   */
  Long lastSeqOlderThan(long afterSeq, long cutoffMillis, int limit);

  /** Deletes rows up to {@code seq} and records the new watermark; returns rows deleted. */
  int deleteThrough(long seq);

  void setPrunedThrough(long seq);
}
