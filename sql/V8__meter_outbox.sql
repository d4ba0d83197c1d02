-- Usage reported to Stripe's Billing Meter Events API, written in the RecordUsage transaction and sent by a background
-- reporter (never on the RecordUsage call path). identifier is deterministic per record, so a resend after a crash
-- is a duplicate Stripe refuses, never a second count.
CREATE TABLE meter_outbox (
  id              BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id         VARCHAR(128)  NOT NULL,
  metric          VARCHAR(64)   NOT NULL,
  event_name      VARCHAR(100)  NOT NULL,
  value           BIGINT        NOT NULL,
  identifier      VARCHAR(100)  NOT NULL,
  event_ts        BIGINT        NOT NULL,
  status          VARCHAR(16)   NOT NULL,
  attempts        INT           NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT        NOT NULL,
  last_error      VARCHAR(1000) NULL,
  sent_at_ms      BIGINT        NULL,
  UNIQUE KEY uq_meter_outbox_identifier (identifier),
  KEY idx_meter_outbox_due (status, next_attempt_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
