-- The GRAPH and CACHE tiers' tables (docs/schema.md). No revision creates them yet: create_schema() applies this
-- file after the head revision (runner.create_tier_tables), and create_all() after the revisions' files.
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
