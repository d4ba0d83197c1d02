-- Usage of metered features. A period's counter is keyed by when it resets (`period_key`: the subscription's
-- current period end, or the first second of the next calendar month in UTC for a user without a subscription;
-- 0 for a running allowance), so a renewal starts a new counter. A record and its counter change in one transaction
-- under the user's lock; (user_id, idempotency_key) is unique: the same key finds the first record.
CREATE TABLE usage_records (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  user_id         VARCHAR(128) NOT NULL,
  metric          VARCHAR(64)  NOT NULL,
  period_key      BIGINT       NOT NULL,
  quantity        BIGINT       NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  request_hash    CHAR(64)     NOT NULL,
  used_after      BIGINT       NOT NULL,
  usage_limit     BIGINT       NOT NULL,
  overage         BIGINT       NOT NULL DEFAULT 0,
  credits_debited BIGINT       NOT NULL DEFAULT 0,
  ledger_txn_id   VARCHAR(40)  NULL,
  created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uk_usage_records_idem (user_id, idempotency_key),
  KEY ix_usage_records_period (user_id, metric, period_key, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE usage_counters (
  user_id    VARCHAR(128) NOT NULL,
  metric     VARCHAR(64)  NOT NULL,
  period_key BIGINT       NOT NULL,
  used       BIGINT       NOT NULL,
  PRIMARY KEY (user_id, metric, period_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
