-- Checkout sessions created through CreateCheckout. (user_id, idempotency_key) is unique: the same key returns the
-- same session.
CREATE TABLE checkout_sessions (
  session_id      VARCHAR(255) NOT NULL,
  user_id         VARCHAR(128) NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  mode            VARCHAR(16)  NOT NULL,
  plan            VARCHAR(64)  NULL,
  credit_package  VARCHAR(64)  NULL,
  amount          BIGINT       NOT NULL,
  currency        CHAR(3)      NOT NULL,
  url             VARCHAR(2048) NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  expires_at      BIGINT       NOT NULL,
  payment_id      VARCHAR(40)  NULL,
  created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (session_id),
  UNIQUE KEY uk_checkout_sessions_idem (user_id, idempotency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
