"""Revision 0001_shared_schema, part 2 (manual, from `piccolo migrations new harness`): what Piccolo's auto
migrations cannot express.

- The (user_id, completed) index of tasks: a Piccolo Table declares single-column indexes only
  (https://github.com/piccolo-orm/piccolo/issues/1188); the maintainers' recipe is a manual migration after the
  one that creates the table, as `add_raw` steps run before the manager's own operations.
- On PostgreSQL, DROP DEFAULT where Piccolo wrote `DEFAULT null` on a typmod column (Varchar, Numeric): PostgreSQL
  keeps it as `NULL::character varying`, and the shared schema has no default there. SQLite has no ALTER COLUMN;
  its `DEFAULT null` changes nothing.

Table classes are built inside each step, not at module level: their engine is then looked up when the step runs
(the provider's, see piccolo_conf.py), never cached from an earlier migration on another database.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table, create_table_class

ID = "2026-11-23T16:37:03:368598"
VERSION = "1.38.0"
DESCRIPTION = "shared schema: composite index, no NULL defaults"

NULL_DEFAULTS = {"users": ("username", "email"), "tasks": ("title",), "tags": ("name",), "transfer_log": ("amount",)}


def _table(tablename: str) -> type[Table]:
    return create_table_class(class_name=tablename.title(), class_kwargs={"tablename": tablename})


async def _forwards() -> None:
    tasks = _table("tasks")
    await tasks.create_index(["user_id", "completed"])
    if tasks._meta.db.engine_type == "sqlite":
        return
    for tablename, columns in NULL_DEFAULTS.items():
        alter = _table(tablename).alter()
        for column in columns:
            alter = alter.drop_default(column)
        await alter


async def _backwards() -> None:
    # The defaults are not restored: the shared-schema migration reversed next drops the tables.
    await _table("tasks").drop_index(["user_id", "completed"])


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="harness", description=DESCRIPTION)
    manager.add_raw(_forwards)
    manager.add_raw_backwards(_backwards)
    return manager
