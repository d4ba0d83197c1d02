package dev.billing.domain.usage;

import java.util.List;

/** usage_records and usage_counters. */
public interface UsageStore {
  UsageRecordRow findByKey(String userId, String idemKey);

  /** A period's counter, locked; null when nothing was recorded in it yet. */
  Long lockCounter(String userId, String metric, long periodKey);

  Long counter(String userId, String metric, long periodKey);

  void upsertCounter(String userId, String metric, long periodKey, long used, long version);

  /** Every counter of these users (each period's). */
  List<CounterRow> countersOf(List<String> userIds);

  void insertRecord(UsageRecordRow row);

  /** A period's records, newest first, with ids below {@code beforeId}. */
  List<UsageRecordRow> findRecords(
      String userId, String metric, long periodKey, long beforeId, int limit);
}
