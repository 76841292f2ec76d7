"""bulk: many rows per call: bulk inserts, set-based updates and deletes, and one large read into objects.

Each scenario's sizes (`size=`) are declared with it: the full profile uses the numbers in the ids, the quick
one less.
Rows to insert are built in the untimed setup, so a round times the adapter's work, not the dict building.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import EPOCH, Dataset
from scenarios.base import Scenario, Sizes, delete_added, expect


def _new_tasks(data: Dataset, size: int) -> list[dict[str, Any]]:
    """`size` new tasks spread over the users (titles are unique per user)."""
    users = len(data.users)
    return [
        {
            "user_id": i % users + 1,
            "title": f"bulk task {i}",
            "description": f"inserted by the bulk benchmark, row {i}",
            "completed": i % 3 == 0,
            "priority": i % 6,
            "created_at": EPOCH + timedelta(days=30, seconds=i),
        }
        for i in range(size)
    ]


async def insert_1k(p: BaseORMProvider, data: Dataset, size: int, rows: list[dict[str, Any]]) -> int:
    """Insert 1,000 tasks in one bulk call."""
    return await p.create_many(p.models.Task, rows)


async def insert_10k(p: BaseORMProvider, data: Dataset, size: int, rows: list[dict[str, Any]]) -> int:
    """Insert 10,000 tasks in one bulk call."""
    return await p.create_many(p.models.Task, rows)


async def update_many(p: BaseORMProvider, data: Dataset, size: int) -> int:
    """Mark 1,000 tasks completed with one set-based update."""
    return await p.update_many(p.models.Task, {"id__lte": size}, {"completed": True})


async def delete_many(p: BaseORMProvider, data: Dataset, size: int) -> bool:
    """Delete 1,000 comments matched by a range filter with one set-based delete."""
    return await p.delete(p.models.Comment, {"id__gt": len(data.comments)})


async def read_large(p: BaseORMProvider, data: Dataset, size: int) -> list[Any]:
    """Read 10,000 tasks into objects."""
    return await p.get_many(p.models.Task, {"id__lte": size})


# --- untimed steps -----------------------------------------------------------------------------------


async def _drop_new_tasks(p: BaseORMProvider, data: Dataset, size: int = 0) -> None:
    await delete_added(p, data, "Task")


async def _prepare_insert(p: BaseORMProvider, data: Dataset, size: int) -> dict[str, Any]:
    await _drop_new_tasks(p, data)
    return {"rows": _new_tasks(data, size)}


async def _check_insert(p: BaseORMProvider, data: Dataset, inserted: int, size: int, rows: Any) -> int:
    expect(inserted, size, "create_many reported")
    expect(await p.count(p.models.Task, {"id__gt": len(data.tasks)}), size, "tasks added")
    return size


async def _reset_completed(p: BaseORMProvider, data: Dataset, size: int) -> None:
    if size > len(data.tasks):
        raise ValueError(f"update_many size {size} exceeds the {len(data.tasks)} tasks of the dataset")
    await p.update_many(p.models.Task, {"id__lte": size}, {"completed": False})


async def _check_update_many(p: BaseORMProvider, data: Dataset, updated: int, size: int) -> int:
    expect(updated, size, "update_many reported")
    expect(await p.count(p.models.Task, {"id__lte": size, "completed": True}), size, "tasks now completed")
    return size


async def _restore_completed(p: BaseORMProvider, data: Dataset) -> None:
    for value in (True, False):
        ids = [i for i, t in enumerate(data.tasks, start=1) if t["completed"] is value]
        await p.update_many(p.models.Task, {"id__in": ids}, {"completed": value})


async def _add_comments(p: BaseORMProvider, data: Dataset, size: int) -> None:
    await delete_added(p, data, "Comment")
    rows = [{"task_id": i % len(data.tasks) + 1, "author_id": 1, "body": f"bulk comment {i}"} for i in range(size)]
    await p.create_many(p.models.Comment, rows)


async def _check_delete_many(p: BaseORMProvider, data: Dataset, deleted: bool, size: int) -> int:
    expect(deleted, True, "delete_many found rows")
    expect(await p.count(p.models.Comment), len(data.comments), "comments left")
    return size


async def _drop_new_comments(p: BaseORMProvider, data: Dataset) -> None:
    await delete_added(p, data, "Comment")


async def _check_read_large(p: BaseORMProvider, data: Dataset, tasks: list[Any], size: int) -> int:
    expect(size <= len(data.tasks), True, f"read_large size {size} within the dataset's {len(data.tasks)} tasks")
    expect(sorted(t.id for t in tasks), list(range(1, size + 1)), "task ids read")
    return len(tasks)


SCENARIOS = (
    Scenario(
        insert_1k,
        "bulk",
        _check_insert,
        setup=_prepare_insert,
        restore=_drop_new_tasks,
        parameter="size",
        sizes=Sizes(quick=200, full=1000),
    ),
    Scenario(
        insert_10k,
        "bulk",
        _check_insert,
        setup=_prepare_insert,
        restore=_drop_new_tasks,
        parameter="size",
        sizes=Sizes(quick=1000, full=10_000),
    ),
    Scenario(
        update_many,
        "bulk",
        _check_update_many,
        setup=_reset_completed,
        restore=_restore_completed,
        parameter="size",
        sizes=Sizes(quick=100, full=1000),
    ),
    Scenario(
        delete_many,
        "bulk",
        _check_delete_many,
        setup=_add_comments,
        restore=_drop_new_comments,
        parameter="size",
        sizes=Sizes(quick=100, full=1000),
    ),
    Scenario(read_large, "bulk", _check_read_large, parameter="size", sizes=Sizes(quick=200, full=10_000)),
)
