-- 0003_tier_workloads: the tier workloads' schema, translated as 0001_shared_schema.up.sqlite.sql translates.
-- ALTER TABLE ADD COLUMN is enough for users: no table rebuild. The NOT NULL on cache_entries.key is needed: SQLite
-- would let a primary key that is not the rowid hold NULL (a documented quirk).
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMPTZ NULL;
CREATE UNIQUE INDEX ix_users_lower_email ON users (lower(email));
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
  actor_id INTEGER NOT NULL,
  action VARCHAR(50) NOT NULL,
  payload JSON NOT NULL);
CREATE INDEX ix_audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX ix_audit_events_actor_id_occurred_at ON audit_events (actor_id, occurred_at);
-- SQLite has no vector type: the column keeps pgvector's text form, a JSON array, which sqlite-vec reads.
CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  category VARCHAR(50) NOT NULL,
  embedding vector(384) NOT NULL);
CREATE INDEX ix_documents_category ON documents (category);
CREATE TABLE follows (
  id INTEGER PRIMARY KEY,
  follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  followee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  UNIQUE (follower_id, followee_id));
CREATE INDEX ix_follows_followee_id ON follows (followee_id);
CREATE TABLE cache_entries (
  key VARCHAR(255) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL);
CREATE INDEX ix_cache_entries_expires_at ON cache_entries (expires_at);
