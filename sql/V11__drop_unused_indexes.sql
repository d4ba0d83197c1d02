-- Two secondary indexes no statement reads, each written with every row on the webhook path:
-- audit rows are read by user (ix_audit_user) and never by Stripe event; subscriptions are found by id or
-- by user, and a Stripe customer is resolved through customers (uk_customers_stripe), never here.
ALTER TABLE audit_log DROP INDEX ix_audit_event;
ALTER TABLE subscriptions DROP INDEX ix_subscriptions_customer;
