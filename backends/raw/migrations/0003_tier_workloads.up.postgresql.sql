-- 0003_tier_workloads: the tier workloads' schema (docs/schema.md): users.last_sign_in_at and the unique index on
-- lower(email) (USERS), audit_events (AUDIT), documents with its vector column (EMBEDDINGS), follows (GRAPH) and
-- cache_entries (CACHE). A nullable column without a default changes only the catalog: no rewrite of users.
-- vector(384) is pgvector's type: every database the harness creates has CREATE EXTENSION vector already
-- (harness/databases/targets.py), so this revision relies on it rather than creating it.
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMPTZ NULL;
CREATE UNIQUE INDEX ix_users_lower_email ON users (lower(email));
CREATE TABLE audit_events (
  id SERIAL PRIMARY KEY,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
  actor_id INTEGER NOT NULL,
  action VARCHAR(50) NOT NULL,
  payload JSONB NOT NULL);
CREATE INDEX ix_audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX ix_audit_events_actor_id_occurred_at ON audit_events (actor_id, occurred_at);
CREATE TABLE documents (
  id SERIAL PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  category VARCHAR(50) NOT NULL,
  embedding vector(384) NOT NULL);
CREATE INDEX ix_documents_category ON documents (category);
CREATE TABLE follows (
  id SERIAL PRIMARY KEY,
  follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  followee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  UNIQUE (follower_id, followee_id));
CREATE INDEX ix_follows_followee_id ON follows (followee_id);
CREATE TABLE cache_entries (
  key VARCHAR(255) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL);
CREATE INDEX ix_cache_entries_expires_at ON cache_entries (expires_at);
