-- 0003_tier_workloads down: what the up file added, newest first. Dropping a table drops its indexes.
DROP TABLE cache_entries;
DROP TABLE follows;
DROP TABLE documents;
DROP TABLE audit_events;
DROP INDEX ix_users_lower_email;
ALTER TABLE users DROP COLUMN last_sign_in_at;
