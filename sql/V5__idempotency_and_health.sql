-- The first outcome of every idempotency key of a mutating call that ran, refusals included (a refused
-- ConsumeCredits stays refused under its key, however the balance changes later). `code` is NULL for a success.
CREATE TABLE idempotency_outcomes (
  operation    VARCHAR(32)   NOT NULL,
  owner        VARCHAR(255)  NOT NULL,
  idem_key     VARCHAR(128)  NOT NULL,
  request_hash CHAR(64)      NOT NULL,
  code         VARCHAR(64)   NULL,
  message      VARCHAR(1024) NULL,
  result       VARCHAR(1024) NULL,
  created_at   DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (operation, owner, idem_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What a CreateCheckout asked, so the same key with another request (a different trial, coupon or URL) is refused
-- instead of answered with the earlier session. NULL for sessions created before this column existed.
ALTER TABLE checkout_sessions ADD COLUMN request_hash CHAR(64) NULL;

-- Placeholders (a subscription known only from its checkout) are confirmed with Stripe after a while.
ALTER TABLE subscriptions ADD KEY ix_subscriptions_placeholder (state_rank, created_at);
