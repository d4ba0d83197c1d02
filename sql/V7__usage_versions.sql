-- The entitlement version that wrote each counter last: a replica's in-memory counters take a value only from a
-- newer change, so a snapshot loaded from the database never goes back to an older count.
ALTER TABLE usage_counters ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- Room for the usage change kinds (CHANGE_KIND_USAGE_THRESHOLD_REACHED is 35 characters).
ALTER TABLE change_log MODIFY COLUMN kind VARCHAR(64) NOT NULL;

-- The metric a usage change (80% or 100% of an allowance) is about.
ALTER TABLE change_log ADD COLUMN usage_metric VARCHAR(64) NULL;
