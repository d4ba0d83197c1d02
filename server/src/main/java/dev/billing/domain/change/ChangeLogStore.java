package dev.billing.domain.change;

import java.util.List;

/** change_log and its sequence row. */
public interface ChangeLogStore {
  /** Takes the sequence row's lock until commit and reserves {@code n} numbers. */
  void reserve(int n);

  /** The last number reserved by {@link #reserve} on this connection. */
  long lastReserved();

  void insert(ChangeLogRow row);

  /** Committed rows after {@code afterSeq}, in order; at most {@code limit}. */
  List<ChangeLogRow> readAfter(long afterSeq, int limit);

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
