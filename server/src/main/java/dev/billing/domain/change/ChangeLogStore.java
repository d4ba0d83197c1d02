package dev.billing.domain.change;

import java.util.List;

/** change_log and its sequence row. */
public interface ChangeLogStore {
  /**
   * Takes the sequence row's lock until commit and reserves {@code reservation.n} numbers; the last
   * of them comes back in {@code reservation.last}, from the statement's own reply (no second round
   * trip).
   */
  void reserve(Reservation reservation);

  /** A reservation of sequence numbers: how many, and (once reserved) the last one. */
  final class Reservation {
    private final int n;
    private long last;

    public Reservation(int n) {
      this.n = n;
    }

    public int getN() {
      return n;
    }

    public long getLast() {
      return last;
    }

    public void setLast(long last) {
      this.last = last;
    }

    /** The first number reserved. */
    public long first() {
      return last - n + 1;
    }
  }

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
