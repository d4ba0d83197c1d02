package dev.billing.domain.change;

import java.util.List;
import org.apache.ibatis.annotations.Param;

/** change_log and its sequence row. */
public interface ChangeLogMapper {
  /** Takes the sequence row's lock until commit and reserves {@code n} numbers. */
  void reserve(@Param("n") int n);

  /** The last number reserved by {@link #reserve} on this connection. */
  long lastReserved();

  void insertAll(@Param("rows") List<ChangeLogRow> rows);

  /** Committed rows after {@code afterSeq}, in order; at most {@code limit}. */
  List<ChangeLogRow> readAfter(@Param("afterSeq") long afterSeq, @Param("limit") int limit);

  /** The highest committed sequence number (0 when nothing was ever written). */
  long lastCommittedSeq();

  /** The highest seq pruned by retention (0 when nothing was pruned). */
  long prunedThrough();

  /**
   * The highest seq among rows older than {@code cutoffMillis}, at most {@code limit} rows past
   * {@code afterSeq}.
   */
  Long lastSeqOlderThan(
      @Param("afterSeq") long afterSeq,
      @Param("cutoffMillis") long cutoffMillis,
      @Param("limit") int limit);

  /** Deletes rows up to {@code seq} and records the new watermark; returns rows deleted. */
  int deleteThrough(@Param("seq") long seq);

  void setPrunedThrough(@Param("seq") long seq);
}
