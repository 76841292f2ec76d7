-- 0002_task_due_date down. DROP COLUMN needs SQLite >= 3.35 and refuses an indexed column: index first.
-- No table rebuild: SQLite rewrites the table's rows itself to remove the column.
DROP INDEX ix_tasks_user_id_due_date;
ALTER TABLE tasks DROP COLUMN due_date;
