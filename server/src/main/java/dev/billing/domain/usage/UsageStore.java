package dev.billing.domain.usage;

import dev.billing.domain.idempotency.OwnedKey;
import java.util.List;

/** usage_records and usage_counters. */
public interface UsageStore {
  UsageRecordRow findByKey(String userId, String idemKey);

  Long counter(String userId, String metric, long periodKey);

  /** Writes a period's counter (inserted, or replaced). */
  void writeCounter(CounterRow row);

  /** The records under these keys (owner = user). */
  List<UsageRecordRow> findByKeys(List<OwnedKey> keys);

  /** These users' counters of running allowances and of periods ending after {@code after}. */
  List<CounterRow> liveCounters(List<String> userIds, long after);

  void insertRecord(UsageRecordRow row);

  /** A period's records, newest first, with ids below {@code beforeId}. */
  List<UsageRecordRow> findRecords(
      String userId, String metric, long periodKey, long beforeId, int limit);
}
