-- 0001_shared_schema: the canonical schema translated to SQLite, without tasks.due_date (added by 0002).
-- Differences from the PostgreSQL DDL:
-- SERIAL becomes INTEGER PRIMARY KEY (the rowid alias; without AUTOINCREMENT, so the id of the last deleted
-- row may be reused, as SQLite recommends), and SQLite wants a name for every index. Type names are kept,
-- so the affinities are: BOOLEAN and NUMERIC(12,2) numeric (stored as 0/1 and INTEGER/REAL), TIMESTAMPTZ
-- numeric but holding UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (CURRENT_TIMESTAMP's format, second precision).
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username VARCHAR(50) NOT NULL UNIQUE,
  email VARCHAR(255) NOT NULL UNIQUE,
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title VARCHAR(255) NOT NULL,
  description TEXT NULL,
  completed BOOLEAN NOT NULL DEFAULT false,
  priority SMALLINT NOT NULL DEFAULT 0 CHECK (priority >= 0 AND priority <= 5),
  created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (user_id, title));
CREATE INDEX ix_tasks_user_id ON tasks (user_id);
CREATE INDEX ix_tasks_user_id_completed ON tasks (user_id, completed);
CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE);
CREATE TABLE task_tags (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  UNIQUE (task_id, tag_id));
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX ix_comments_task_id ON comments (task_id);
CREATE INDEX ix_comments_author_id ON comments (author_id);
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  balance NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (balance >= 0));
CREATE INDEX ix_accounts_user_id ON accounts (user_id);
CREATE TABLE transfer_log (
  id INTEGER PRIMARY KEY,
  from_account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  to_account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  amount NUMERIC(12,2) NOT NULL CHECK (amount > 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX ix_transfer_log_from_account_id ON transfer_log (from_account_id);
CREATE INDEX ix_transfer_log_to_account_id ON transfer_log (to_account_id);
