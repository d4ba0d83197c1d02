-- change_log rows older than the retention are pruned; pruned_through is the highest seq deleted, so a subscriber
-- resuming from an older cursor gets OUT_OF_RANGE instead of silently missing changes.
CREATE TABLE change_log_retention (
  id             TINYINT NOT NULL,
  pruned_through BIGINT  NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
INSERT INTO change_log_retention (id, pruned_through) VALUES (1, 0);

ALTER TABLE change_log ADD KEY ix_change_log_time (occurred_at_ms);
