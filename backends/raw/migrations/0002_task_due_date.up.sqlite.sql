-- 0002_task_due_date: a nullable deadline on tasks (UTC text, like created_at), and an index on it.
-- SQLite's ALTER TABLE ADD COLUMN is enough here: no table rebuild.
ALTER TABLE tasks ADD COLUMN due_date TIMESTAMPTZ NULL;
CREATE INDEX ix_tasks_user_id_due_date ON tasks (user_id, due_date);
