-- Initial schema. MySQL 8 / MariaDB 10.6+ dialect; InnoDB; utf8mb4.
-- Instants we bind ourselves are BIGINT epoch values (seconds for Stripe's, millis for ours): MariaDB 10.11
-- through mysql-connector-j drops the fractional seconds of bound DATETIME parameters. DATETIME(6) columns are
-- only ever filled by the database's own defaults.

-- Stripe customer <-> internal user. One Stripe customer per user.
CREATE TABLE customers (
  user_id            VARCHAR(128) NOT NULL,
  stripe_customer_id VARCHAR(255) NOT NULL,
  email              VARCHAR(320) NULL,
  created_at         DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id),
  UNIQUE KEY uk_customers_stripe (stripe_customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Stripe subscriptions as last seen. `state_created`/`state_rank` order competing snapshots so the stored state
-- converges to Stripe's latest whatever the delivery order.
CREATE TABLE subscriptions (
  stripe_subscription_id VARCHAR(255) NOT NULL,
  user_id                VARCHAR(128) NULL,
  stripe_customer_id     VARCHAR(255) NULL,
  status                 VARCHAR(32)  NOT NULL,
  price_id               VARCHAR(255) NULL,
  plan                   VARCHAR(64)  NOT NULL,
  current_period_end     BIGINT       NULL,
  trial_end              BIGINT       NULL,
  cancel_at_period_end   TINYINT(1)   NOT NULL DEFAULT 0,
  past_due_since         BIGINT       NULL,
  state_created          BIGINT       NOT NULL,
  state_rank             INT          NOT NULL DEFAULT 0,
  last_event_id          VARCHAR(255) NULL,
  created_at             DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at             DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (stripe_subscription_id),
  KEY ix_subscriptions_user (user_id),
  KEY ix_subscriptions_customer (stripe_customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The materialised entitlement per user (features and limits come from the catalog when it is read).
-- `version` grows with every change to the user's entitlement, credits included.
CREATE TABLE entitlements (
  user_id              VARCHAR(128) NOT NULL,
  tier                 VARCHAR(64)  NOT NULL,
  status               VARCHAR(32)  NOT NULL,
  subscription_id      VARCHAR(255) NULL,
  current_period_end   BIGINT       NULL,
  trial_end            BIGINT       NULL,
  cancel_at_period_end TINYINT(1)   NOT NULL DEFAULT 0,
  payment_problem      TINYINT(1)   NOT NULL DEFAULT 0,
  version              BIGINT       NOT NULL,
  updated_at           DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Inbox of Stripe events: stored before acknowledged, applied exactly once.
CREATE TABLE stripe_events (
  id              VARCHAR(255) NOT NULL,
  type            VARCHAR(128) NOT NULL,
  api_version     VARCHAR(64)  NULL,
  created         BIGINT       NOT NULL,
  livemode        TINYINT(1)   NOT NULL DEFAULT 0,
  payload         MEDIUMTEXT   NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  last_error      VARCHAR(1024) NULL,
  next_attempt_at BIGINT       NULL,
  received_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  processed_at    DATETIME(6)  NULL,
  PRIMARY KEY (id),
  KEY ix_stripe_events_pending (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One balance row per user, changed in the same transaction as the ledger row that explains it.
CREATE TABLE credit_balances (
  user_id    VARCHAR(128) NOT NULL,
  balance    BIGINT       NOT NULL,
  updated_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id),
  CONSTRAINT ck_credit_balances_non_negative CHECK (balance >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Append-only credit ledger. (user_id, idempotency_key) is unique: a replay finds the first row.
CREATE TABLE credit_ledger (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  transaction_id  VARCHAR(40)  NOT NULL,
  user_id         VARCHAR(128) NOT NULL,
  delta           BIGINT       NOT NULL,
  balance_after   BIGINT       NOT NULL,
  kind            VARCHAR(32)  NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  reason          VARCHAR(512) NULL,
  actor           VARCHAR(128) NULL,
  payment_id      VARCHAR(40)  NULL,
  stripe_event_id VARCHAR(255) NULL,
  created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uk_credit_ledger_idem (user_id, idempotency_key),
  UNIQUE KEY uk_credit_ledger_txn (transaction_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Payments (credit purchases and subscription invoices) in minor units.
CREATE TABLE payments (
  id                  VARCHAR(40)  NOT NULL,
  user_id             VARCHAR(128) NOT NULL,
  kind                VARCHAR(32)  NOT NULL,
  status              VARCHAR(32)  NOT NULL,
  amount              BIGINT       NOT NULL,
  amount_refunded     BIGINT       NOT NULL DEFAULT 0,
  currency            CHAR(3)      NOT NULL,
  credits             BIGINT       NOT NULL DEFAULT 0,
  checkout_session_id VARCHAR(255) NULL,
  payment_intent_id   VARCHAR(255) NULL,
  charge_id           VARCHAR(255) NULL,
  invoice_id          VARCHAR(255) NULL,
  idempotency_key     VARCHAR(128) NULL,
  failure_code        VARCHAR(64)  NULL,
  created_at          DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at          DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uk_payments_session (checkout_session_id),
  UNIQUE KEY uk_payments_intent (payment_intent_id),
  UNIQUE KEY uk_payments_idem (user_id, idempotency_key),
  KEY ix_payments_user (user_id, created_at),
  KEY ix_payments_charge (charge_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Audit trail: every change to a subscription, entitlement or balance, old -> new, with its cause.
CREATE TABLE audit_log (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  user_id         VARCHAR(128) NULL,
  actor           VARCHAR(128) NOT NULL,
  entity_type     VARCHAR(32)  NOT NULL,
  entity_id       VARCHAR(255) NOT NULL,
  action          VARCHAR(64)  NOT NULL,
  old_value       TEXT         NULL,
  new_value       TEXT         NULL,
  stripe_event_id VARCHAR(255) NULL,
  created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_audit_user (user_id, id),
  KEY ix_audit_event (stripe_event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The change stream's sequence. A writer takes this row's lock as the last step of its transaction, so sequence
-- numbers are handed out in commit order: a reader that sees seq N has already been able to see every seq < N.
-- (AUTO_INCREMENT values are handed out at insert time, not commit time, and a tailer of them can skip rows.)
CREATE TABLE change_seq (
  id       TINYINT NOT NULL,
  last_seq BIGINT  NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
INSERT INTO change_seq (id, last_seq) VALUES (1, 0);

-- The change stream: one row per committed change to a user's entitlement, written in the same transaction.
CREATE TABLE change_log (
  seq             BIGINT       NOT NULL,
  user_id         VARCHAR(128) NOT NULL,
  kind            VARCHAR(32)  NOT NULL,
  version         BIGINT       NOT NULL,
  entitlement     BLOB         NOT NULL,
  previous_tier   VARCHAR(64)  NOT NULL,
  previous_status VARCHAR(32)  NOT NULL,
  stripe_event_id VARCHAR(255) NULL,
  occurred_at_ms  BIGINT       NOT NULL,
  PRIMARY KEY (seq),
  KEY ix_change_log_user (user_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
