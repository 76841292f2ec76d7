-- 0001_shared_schema down: every table of the shared schema, children first.
DROP TABLE transfer_log;
DROP TABLE accounts;
DROP TABLE comments;
DROP TABLE task_tags;
DROP TABLE tags;
DROP TABLE tasks;
DROP TABLE users;
