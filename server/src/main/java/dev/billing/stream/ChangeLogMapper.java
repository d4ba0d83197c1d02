package dev.billing.stream;

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
}
