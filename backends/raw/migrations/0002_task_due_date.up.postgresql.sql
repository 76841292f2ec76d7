-- 0002_task_due_date: a nullable deadline on tasks, and an index for "a user's tasks by deadline".
-- Adding a nullable column without a default only changes the catalog: no table rewrite, whatever its size.
-- The index is named as PostgreSQL would name `CREATE INDEX ON tasks (user_id, due_date)`, so the down file
-- can drop it by name. A plain CREATE INDEX locks writes to tasks while it builds (CONCURRENTLY would not,
-- but cannot run inside the transaction each migration file runs in).
ALTER TABLE tasks ADD COLUMN due_date TIMESTAMPTZ NULL;
CREATE INDEX tasks_user_id_due_date_idx ON tasks (user_id, due_date);
