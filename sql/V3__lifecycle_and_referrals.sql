-- Invoice state per subscription (a failed invoice flags a payment problem until a later invoice is paid), and a
-- flag for snapshots that tie with the stored one (same second, same stage, different content): those are settled
-- by re-reading the subscription from Stripe, off the webhook path.
ALTER TABLE subscriptions
  ADD COLUMN invoice_failed        TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN invoice_state_created BIGINT     NOT NULL DEFAULT 0,
  ADD COLUMN invoice_state_rank    INT        NOT NULL DEFAULT 0,
  ADD COLUMN needs_refresh         TINYINT(1) NOT NULL DEFAULT 0,
  ADD KEY ix_subscriptions_refresh (needs_refresh),
  ADD KEY ix_subscriptions_past_due (status, past_due_since);

-- Each user's own referral code.
CREATE TABLE referral_codes (
  code       VARCHAR(32)  NOT NULL,
  user_id    VARCHAR(128) NOT NULL,
  created_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (code),
  UNIQUE KEY uk_referral_codes_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who referred whom. A user is referred at most once; the bonus is paid at most once.
CREATE TABLE referrals (
  user_id          VARCHAR(128) NOT NULL,
  referrer_id      VARCHAR(128) NOT NULL,
  code             VARCHAR(32)  NOT NULL,
  bonus_payment_id VARCHAR(40)  NULL,
  created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id),
  KEY ix_referrals_referrer (referrer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
