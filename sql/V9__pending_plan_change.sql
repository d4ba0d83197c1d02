-- A plan change scheduled for the end of the period (ChangePlan with CHANGE_TIMING_PERIOD_END, a Stripe subscription
-- schedule), shown in GetEntitlement until Stripe applies it at the renewal or it is withdrawn.
ALTER TABLE entitlements
  ADD COLUMN pending_plan         VARCHAR(64) NULL,
  ADD COLUMN pending_effective_at BIGINT      NULL;
