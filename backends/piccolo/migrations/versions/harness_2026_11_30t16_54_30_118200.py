"""Revision 0003_tier_workloads, part 2 (manual, from `piccolo migrations new harness`): what Piccolo's auto
migrations cannot express, as 0001 and 0002 do.

- The unique index on lower(email): an expression index, which Piccolo's Table.create_index cannot build (it takes
  columns): raw DDL, the statement the provider's create-all path runs too.
- The (actor_id, occurred_at) index of audit_events: a Piccolo Table declares single-column indexes only
  (https://github.com/piccolo-orm/piccolo/issues/1188).
- On PostgreSQL, DROP DEFAULT where Piccolo wrote `DEFAULT null` on a typmod column (Varchar, the vector): the shared
  schema has no default there.

Reversed, both indexes go; the defaults are not restored, as the tables are dropped next (part 1 reversed).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table, create_table_class

ID = "2026-11-30T16:54:30:118200"
VERSION = "1.38.0"
DESCRIPTION = "tier workloads: expression and composite indexes, no NULL defaults"

NULL_DEFAULTS = {
    "audit_events": ("action",),
    "documents": ("title", "category", "embedding"),
    "cache_entries": ("key",),
}
LOWER_EMAIL_INDEX = "ix_users_lower_email"


def _table(tablename: str) -> type[Table]:
    # Built per step, so its engine is looked up when the step runs (see piccolo_conf.py).
    return create_table_class(class_name=tablename.title(), class_kwargs={"tablename": tablename})


async def _forwards() -> None:
    users, events = _table("users"), _table("audit_events")
    await users.raw(f"CREATE UNIQUE INDEX {LOWER_EMAIL_INDEX} ON users (lower(email))")
    await events.create_index(["actor_id", "occurred_at"])
    if users._meta.db.engine_type == "sqlite":
        return
    for tablename, columns in NULL_DEFAULTS.items():
        alter = _table(tablename).alter()
        for column in columns:
            alter = alter.drop_default(column)
        await alter


async def _backwards() -> None:
    await _table("audit_events").drop_index(["actor_id", "occurred_at"])
    await _table("users").raw(f"DROP INDEX {LOWER_EMAIL_INDEX}")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="harness", description=DESCRIPTION)
    manager.add_raw(_forwards)
    manager.add_raw_backwards(_backwards)
    return manager
