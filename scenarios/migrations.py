"""migrations: the schema changes of the adapters' own migration tools, timed on a table of realistic size.

`add_due_date` applies revision 0002_task_due_date (a nullable `tasks.due_date` and an index on
(user_id, due_date)) to a tasks table of `size` rows (the full profile: 100,000). It runs on a database of its
own (`Scenario.prepare`): created at head by the adapter's migrate, filled once with the same users and tasks
for every adapter through the raw adapter (the schemas are identical, tests/test_schema_parity.py), then each
round starts at 0001 (the untimed setup migrates down; the rows stay) and times the upgrade.
"""

from __future__ import annotations

from functools import cache

from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset, DatasetSize, generate
from harness.core.factory import adapter_class
from harness.databases.catalog import table_layout
from scenarios.base import Scenario, Sizes, expect

TASKS_PER_USER = 10
BEFORE, AFTER = "0001_shared_schema", "0002_task_due_date"
INDEX = ("user_id", "due_date")


@cache
def task_rows(size: int) -> Dataset:
    """Users and `size` tasks, nothing else: generated once per size for every adapter (and every trial)."""
    users = max(size // TASKS_PER_USER, 1)
    size_of = DatasetSize(users, TASKS_PER_USER, comments_per_task=0, tags=0, tags_per_task=0)
    return generate(size_of.without_tier_rows())


async def fill_tasks(p: BaseORMProvider, size: int) -> None:
    """Insert `size` tasks (and their users) into `p`'s fresh database at head, through the raw adapter."""
    rows = task_rows(size)
    raw = adapter_class("raw")(DatabaseConfig(p.config.url, pool_min=1, pool_max=1))
    await raw.connect()
    try:
        await raw.create_many(raw.models.User, rows.users)
        await raw.create_many(raw.models.Task, rows.tasks[:size])
    finally:
        await raw.disconnect()


async def add_due_date(p: BaseORMProvider, data: Dataset, size: int) -> int:
    """Apply migration 0002 (add tasks.due_date and its index) to a table of 100,000 tasks."""
    await p.migrate(AFTER)
    return size


async def _at_0001(p: BaseORMProvider, data: Dataset, size: int) -> None:
    await p.migrate(BEFORE)
    columns, _ = await table_layout(p.config.url, "tasks")
    expect("due_date" in columns, False, "tasks.due_date at 0001")


async def _check(p: BaseORMProvider, data: Dataset, result: int, size: int) -> int:
    columns, indexes = await table_layout(p.config.url, "tasks")
    expect("due_date" in columns, True, "tasks.due_date after the upgrade")
    expect(INDEX in indexes, True, f"an index on tasks{INDEX} after the upgrade")
    expect(await p.count(p.models.Task), size, "tasks after the upgrade")
    return size


async def _at_head(p: BaseORMProvider, data: Dataset) -> None:
    await p.migrate("head")


SCENARIOS = [
    Scenario(
        add_due_date,
        "migrations",
        check=_check,
        setup=_at_0001,
        restore=_at_head,
        parameter="size",
        sizes=Sizes(quick=2000, full=100_000),
        prepare=fill_tasks,
    ),
]
