-- The GRAPH and CACHE tiers' tables translated to SQLite, as 0001_shared_schema.up.sqlite.sql translates the others
-- (SERIAL as INTEGER PRIMARY KEY, TIMESTAMPTZ holding UTC text). A VARCHAR primary key is not the rowid: SQLite
-- keeps it in an index of its own, and lets it hold NULL unless it is declared NOT NULL (SQLite's documented quirk).
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
