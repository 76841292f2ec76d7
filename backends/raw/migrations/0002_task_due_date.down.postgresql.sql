-- 0002_task_due_date down. Dropping the column would drop its index too; dropping the index first says so.
DROP INDEX tasks_user_id_due_date_idx;
ALTER TABLE tasks DROP COLUMN due_date;
