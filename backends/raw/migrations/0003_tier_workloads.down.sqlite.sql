-- 0003_tier_workloads down: what the up file added, newest first. DROP COLUMN needs SQLite >= 3.35; the column is
-- in no index, so SQLite drops it without a table rebuild.
DROP TABLE cache_entries;
DROP TABLE follows;
DROP TABLE documents;
DROP TABLE audit_events;
DROP INDEX ix_users_lower_email;
ALTER TABLE users DROP COLUMN last_sign_in_at;
