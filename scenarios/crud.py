"""crud: one-row reads and writes, and the small queries around them (a page, a count, an existence test)."""

from __future__ import annotations

from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset
from scenarios.base import Scenario, delete_added, expect

NEW_USER = "bench_new_user"
NEW_USER_ROW = {"username": NEW_USER, "email": f"{NEW_USER}@example.org"}
PAGE_FILTER = {"completed": False, "priority__gte": 2}
PAGE_SIZE = 20


def middle(rows: list[Any]) -> int:
    """The id of a row in the middle of a table: neither the first nor the last page of an index."""
    return len(rows) // 2 + 1


async def insert_one(p: BaseORMProvider, data: Dataset) -> Any:
    """Insert one user and get it back with its id."""
    return await p.create(p.models.User, NEW_USER_ROW)


async def get_by_pk(p: BaseORMProvider, data: Dataset) -> Any:
    """Fetch one user by primary key."""
    return await p.get(p.models.User, {"id": middle(data.users)})


async def get_by_unique(p: BaseORMProvider, data: Dataset) -> Any:
    """Fetch one user by a unique column (email)."""
    return await p.get(p.models.User, {"email": data.users[middle(data.users) - 1]["email"]})


async def filter_page(p: BaseORMProvider, data: Dataset) -> list[Any]:
    """Filter tasks on two columns, order them and take the second page of 20."""
    return await p.get_many(p.models.Task, PAGE_FILTER, limit=PAGE_SIZE, offset=PAGE_SIZE, order_by="-created_at")


async def count(p: BaseORMProvider, data: Dataset) -> int:
    """Count the completed tasks."""
    return await p.count(p.models.Task, {"completed": True})


async def exists(p: BaseORMProvider, data: Dataset) -> bool:
    """Ask whether a user with a given email exists."""
    return await p.exists(p.models.User, {"email": data.users[middle(data.users) - 1]["email"]})


def _renamed(data: Dataset) -> dict[str, Any]:
    original = data.tasks[middle(data.tasks) - 1]
    return {"title": f"{original['title']} (renamed)", "priority": (original["priority"] + 1) % 6}


async def update_one(p: BaseORMProvider, data: Dataset) -> Any:
    """Update two columns of one task by primary key and get it back."""
    return await p.update(p.models.Task, {"id": middle(data.tasks)}, _renamed(data))


async def delete_one(p: BaseORMProvider, data: Dataset, comment_id: int) -> bool:
    """Delete one comment by primary key."""
    return await p.delete(p.models.Comment, {"id": comment_id})


# --- untimed steps -----------------------------------------------------------------------------------


async def _drop_new_users(p: BaseORMProvider, data: Dataset) -> None:
    await delete_added(p, data, "User")


async def _check_insert_one(p: BaseORMProvider, data: Dataset, user: Any) -> int:
    expect(user.username, NEW_USER, "insert_one returned")
    expect(user.id > len(data.users), True, "insert_one gave a new id")
    expect(await p.count(p.models.User, {"id__gt": len(data.users)}), 1, "users added by insert_one")
    return 1


async def _check_middle_user(p: BaseORMProvider, data: Dataset, user: Any) -> int:
    expected = data.users[middle(data.users) - 1]
    found = None if user is None else (user.id, user.username, user.email)
    expect(found, (middle(data.users), expected["username"], expected["email"]), "user fetched")
    return 1


async def _check_page(p: BaseORMProvider, data: Dataset, tasks: list[Any]) -> int:
    matching = [
        (row["created_at"], i)
        for i, row in enumerate(data.tasks, start=1)
        if not row["completed"] and row["priority"] >= 2
    ]
    expected = [i for _, i in sorted(matching, reverse=True)][PAGE_SIZE : 2 * PAGE_SIZE]
    expect([t.id for t in tasks], expected, "filter_page ids in order")
    return len(tasks)


async def _check_count(p: BaseORMProvider, data: Dataset, result: int) -> int:
    expect(result, sum(t["completed"] for t in data.tasks), "completed tasks counted")
    return 1


async def _check_exists(p: BaseORMProvider, data: Dataset, result: bool) -> int:
    expect(result, True, "exists")
    return 1


async def _restore_task(p: BaseORMProvider, data: Dataset) -> None:
    original = data.tasks[middle(data.tasks) - 1]
    await p.update(p.models.Task, {"id": middle(data.tasks)}, {k: original[k] for k in ("title", "priority")})


async def _check_update_one(p: BaseORMProvider, data: Dataset, task: Any) -> int:
    changed = _renamed(data)
    found = None if task is None else (task.id, task.title, task.priority)
    expect(found, (middle(data.tasks), changed["title"], changed["priority"]), "update_one returned")
    stored = await p.get(p.models.Task, {"id": middle(data.tasks)})
    stored_values = None if stored is None else (stored.title, stored.priority)
    expect(stored_values, (changed["title"], changed["priority"]), "update_one stored")
    return 1


async def _new_comment(p: BaseORMProvider, data: Dataset) -> dict[str, int]:
    comment = await p.create(p.models.Comment, {"task_id": 1, "author_id": 1, "body": "to be deleted"})
    return {"comment_id": comment.id}


async def _check_delete_one(p: BaseORMProvider, data: Dataset, deleted: bool, comment_id: int) -> int:
    expect(deleted, True, "delete_one found its row")
    expect(await p.exists(p.models.Comment, {"id": comment_id}), False, "deleted comment still there")
    expect(await p.count(p.models.Comment), len(data.comments), "comments after delete_one")
    return 1


async def _drop_new_comments(p: BaseORMProvider, data: Dataset) -> None:
    await delete_added(p, data, "Comment")


SCENARIOS = (
    Scenario(insert_one, "crud", _check_insert_one, setup=_drop_new_users, restore=_drop_new_users),
    Scenario(get_by_pk, "crud", _check_middle_user, calls=4),
    Scenario(get_by_unique, "crud", _check_middle_user, calls=4),
    Scenario(filter_page, "crud", _check_page),
    Scenario(count, "crud", _check_count, calls=2),
    Scenario(exists, "crud", _check_exists, calls=4),
    Scenario(update_one, "crud", _check_update_one, setup=_restore_task, restore=_restore_task),
    Scenario(delete_one, "crud", _check_delete_one, setup=_new_comment, restore=_drop_new_comments),
)
