"""Revision 0002_task_due_date, part 2 (manual, from `piccolo migrations new harness`): the (user_id, due_date)
index, which a Piccolo Table cannot declare (single-column indexes only,
https://github.com/piccolo-orm/piccolo/issues/1188). It is a migration of its own because `add_raw` steps run
before the manager's operations: the column must exist first. Reversed, the index goes before the column, which
SQLite requires (it refuses to drop an indexed column)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table, create_table_class

ID = "2026-11-23T16:37:16:299511"
VERSION = "1.38.0"
DESCRIPTION = "tasks (user_id, due_date) index"


def _tasks() -> type[Table]:
    # Built per step, so its engine is looked up when the step runs (see piccolo_conf.py).
    return create_table_class(class_name="Task", class_kwargs={"tablename": "tasks"})


async def _forwards() -> None:
    await _tasks().create_index(["user_id", "due_date"])


async def _backwards() -> None:
    await _tasks().drop_index(["user_id", "due_date"])


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="harness", description=DESCRIPTION)
    manager.add_raw(_forwards)
    manager.add_raw_backwards(_backwards)
    return manager
