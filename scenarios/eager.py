"""eager: loading related rows of many parents, eagerly through `get_many_optimized`, and the naive lazy loop for
contrast.

The statement count is the point of this family: `n_plus_one` must send 1 + N queries, the eager scenarios
the adapter's documented minimum (`expected_eager_statements`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset
from harness.core.statements import capture
from scenarios.base import Scenario, expect

EAGER_USERS = 20
"""Users loaded per round; with 10 tasks each and 2 comments per task, two_level loads 620 objects."""


def _users(data: Dataset) -> dict[str, int]:
    return {"id__lte": min(EAGER_USERS, len(data.users))}


def _tasks(data: Dataset) -> dict[str, int]:
    return {"id__lte": min(EAGER_USERS * data.size.tasks_per_user, len(data.tasks))}


async def n_plus_one(p: BaseORMProvider, data: Dataset) -> list[tuple[Any, list[Any]]]:
    """Users, then each user's tasks one query at a time: the naive lazy loop (1 + N queries)."""
    users = await p.get_many(p.models.User, _users(data))
    return [(user, await p.get_many(p.models.Task, {"user_id": user.id})) for user in users]


async def one_level(p: BaseORMProvider, data: Dataset) -> list[Any]:
    """Users with their tasks, eagerly loaded."""
    return await p.get_many_optimized(p.models.User, _users(data), relations=["tasks"])


async def two_level(p: BaseORMProvider, data: Dataset) -> list[Any]:
    """Users with their tasks and the tasks' comments, eagerly loaded."""
    return await p.get_many_optimized(p.models.User, _users(data), relations=["tasks.comments"])


async def m2m(p: BaseORMProvider, data: Dataset) -> list[Any]:
    """Tasks with their tags (many-to-many), eagerly loaded."""
    return await p.get_many_optimized(p.models.Task, _tasks(data), relations=["tags"])


async def fk_forward(p: BaseORMProvider, data: Dataset) -> list[Any]:
    """Tasks with their user (a foreign key followed forward), eagerly loaded."""
    return await p.get_many_optimized(p.models.Task, _tasks(data), relations=["user"])


# --- what the dataset says the answers are -----------------------------------------------------------


def _children(rows: list[dict[str, Any]], key: str, parents: int) -> dict[int, list[int]]:
    """Parent id -> sorted child ids, for the parents 1..`parents`."""
    found: dict[int, list[int]] = {parent: [] for parent in range(1, parents + 1)}
    for child_id, row in enumerate(rows, start=1):
        if row[key] <= parents:
            found[row[key]].append(child_id)
    return found


def _ids(objects: Any) -> list[int]:
    return sorted(o.id for o in objects)


# --- untimed steps -----------------------------------------------------------------------------------


async def _check_n_plus_one(p: BaseORMProvider, data: Dataset, pairs: list[tuple[Any, list[Any]]]) -> int:
    users = _users(data)["id__lte"]
    expect({user.id: _ids(tasks) for user, tasks in pairs}, _children(data.tasks, "user_id", users), "tasks per user")
    return len(pairs) + sum(len(tasks) for _, tasks in pairs)


async def _check_one_level(p: BaseORMProvider, data: Dataset, users: list[Any]) -> int:
    count = _users(data)["id__lte"]
    expect({u.id: _ids(u.tasks) for u in users}, _children(data.tasks, "user_id", count), "tasks per user")
    return len(users) + sum(len(u.tasks) for u in users)


async def _check_two_level(p: BaseORMProvider, data: Dataset, users: list[Any]) -> int:
    rows = await _check_one_level(p, data, users)
    tasks = [t for u in users for t in u.tasks]
    comments = _children(data.comments, "task_id", len(data.tasks))
    expect({t.id: _ids(t.comments) for t in tasks}, {t.id: comments[t.id] for t in tasks}, "comments per task")
    return rows + sum(len(t.comments) for t in tasks)


async def _check_m2m(p: BaseORMProvider, data: Dataset, tasks: list[Any]) -> int:
    expected: dict[int, list[int]] = defaultdict(list)
    for task_id, tag_id in data.task_tags:
        if task_id <= _tasks(data)["id__lte"]:
            expected[task_id].append(tag_id)
    expect({t.id: _ids(t.tags) for t in tasks}, {t: sorted(g) for t, g in expected.items()}, "tags per task")
    return len(tasks) + sum(len(t.tags) for t in tasks)


async def _check_fk_forward(p: BaseORMProvider, data: Dataset, tasks: list[Any]) -> int:
    expected = {i: data.tasks[i - 1]["user_id"] for i in range(1, _tasks(data)["id__lte"] + 1)}
    expect({t.id: t.user.id for t in tasks}, expected, "user of each task")
    return len(tasks) + len({t.user.id for t in tasks})


async def queries_of_one_select(p: BaseORMProvider, data: Dataset) -> int:
    """Queries of one plain `get_many` (two where the adapter sends a PRAGMA before each query)."""
    async with capture() as log:
        await p.get_many(p.models.Task, {"user_id": 1})
    return log.queries


async def _n_plus_one_queries(p: BaseORMProvider, data: Dataset) -> int:
    return (1 + _users(data)["id__lte"]) * await queries_of_one_select(p, data)


def _documented(entity: str, relations: tuple[str, ...]) -> Any:
    async def expected(p: BaseORMProvider, data: Dataset) -> int:
        return p.expected_eager_statements(getattr(p.models, entity), relations)

    return expected


SCENARIOS = (
    Scenario(n_plus_one, "eager", _check_n_plus_one, expected_queries=_n_plus_one_queries),
    Scenario(one_level, "eager", _check_one_level, expected_queries=_documented("User", ("tasks",))),
    Scenario(two_level, "eager", _check_two_level, expected_queries=_documented("User", ("tasks.comments",))),
    Scenario(m2m, "eager", _check_m2m, expected_queries=_documented("Task", ("tags",))),
    Scenario(fk_forward, "eager", _check_fk_forward, expected_queries=_documented("Task", ("user",))),
)
