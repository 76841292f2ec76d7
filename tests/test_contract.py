"""The provider contract, one suite for every adapter x database (ids like `[tortoise-postgresql]`).

Answers are checked against the dataset itself, so every adapter that passes gives the same answers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from harness.core.contract import BaseORMProvider
from harness.core.dataset import STARTING_BALANCE
from harness.core.errors import (
    AmbiguousFilter,
    CheckViolation,
    ForeignKeyViolation,
    HarnessError,
    NotNullViolation,
    ParameterMismatch,
    UniqueViolation,
    UnknownFieldError,
)
from harness.core.schema import ENTITIES, REVISIONS
from harness.core.statements import capture
from scenarios.transactions import move_money
from tests.conftest import Loaded


def as_dict(obj: Any, entity: str) -> dict[str, Any]:
    """The object's columns, with datetimes as aware UTC (some ORMs return naive UTC on SQLite)."""
    row = {column: getattr(obj, column) for column in ENTITIES[entity].columns}
    for key, value in row.items():
        if isinstance(value, datetime):
            row[key] = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return row


def ids(objects: list[Any]) -> list[int]:
    return [o.id for o in objects]


def truth_ids(rows: list[dict[str, Any]], predicate: Any) -> set[int]:
    return {i for i, row in enumerate(rows, start=1) if predicate(row)}


# --- reads -------------------------------------------------------------------------------------------


async def test_get_by_primary_key_returns_every_column(db: Loaded) -> None:
    user = await db.provider.get(db.provider.models.User, {"id": 3})
    assert as_dict(user, "User") == {"id": 3, **db.dataset.users[2]}


async def test_get_by_unique_column(db: Loaded) -> None:
    task = await db.provider.get(db.provider.models.Task, {"user_id": 2, "title": "task 3 of user 2"})
    expected = db.dataset.tasks.index(next(t for t in db.dataset.tasks if t["title"] == "task 3 of user 2")) + 1
    assert as_dict(task, "Task") == {"id": expected, **db.dataset.tasks[expected - 1]}


async def test_missing_rows_give_none_false_and_zero(db: Loaded) -> None:
    p, User = db.provider, db.provider.models.User
    assert await p.get(User, {"id": 10_000}) is None
    assert await p.get_many(User, {"username": "nobody"}) == []
    assert await p.count(User, {"id__gt": 10_000}) == 0
    assert await p.exists(User, {"email": "nobody@example.org"}) is False


async def test_count_and_exists(db: Loaded) -> None:
    p, Task = db.provider, db.provider.models.Task
    assert await p.count(Task) == len(db.dataset.tasks)
    assert await p.count(Task, {"completed": True}) == sum(t["completed"] for t in db.dataset.tasks)
    assert await p.exists(Task, {"user_id": 1}) is True


FILTER_CASES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = {
    "eq": ({"priority": 3}, lambda t: t["priority"] == 3),
    "is_null": ({"description": None}, lambda t: t["description"] is None),
    "due_date_set": ({"due_date__gte": datetime(2026, 1, 1, tzinfo=UTC)}, lambda t: t["due_date"] is not None),
    "in": ({"user_id__in": [1, 3, 5]}, lambda t: t["user_id"] in (1, 3, 5)),
    "in_empty": ({"user_id__in": []}, lambda t: False),
    "gt": ({"priority__gt": 3}, lambda t: t["priority"] > 3),
    "gte": ({"priority__gte": 3}, lambda t: t["priority"] >= 3),
    "lt": ({"priority__lt": 2}, lambda t: t["priority"] < 2),
    "lte": ({"priority__lte": 2}, lambda t: t["priority"] <= 2),
    "combined": (
        {"user_id__in": [2, 4, 6], "completed": False, "priority__gte": 1},
        lambda t: t["user_id"] in (2, 4, 6) and not t["completed"] and t["priority"] >= 1,
    ),
    "datetime_range": (
        {"created_at__gte": datetime(2026, 1, 1, 3, tzinfo=UTC), "created_at__lt": datetime(2026, 1, 1, 5, tzinfo=UTC)},
        lambda t: datetime(2026, 1, 1, 3, tzinfo=UTC) <= t["created_at"] < datetime(2026, 1, 1, 5, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("case", FILTER_CASES)
async def test_filters(db: Loaded, case: str) -> None:
    filters, predicate = FILTER_CASES[case]
    found = await db.provider.get_many(db.provider.models.Task, filters)
    assert sorted(ids(found)) == sorted(truth_ids(db.dataset.tasks, predicate))
    assert await db.provider.count(db.provider.models.Task, filters) == len(found)


SAME_KEYS_CASES: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ({"description": None}, lambda t: t["description"] is None),
    ({"description": "nothing matches this"}, lambda t: False),
    ({"description": None}, lambda t: t["description"] is None),
    ({"due_date": datetime(2030, 1, 1, tzinfo=UTC)}, lambda t: t["due_date"] == datetime(2030, 1, 1, tzinfo=UTC)),
    ({"due_date": None}, lambda t: t["due_date"] is None),
    ({"user_id__in": [1, 3]}, lambda t: t["user_id"] in (1, 3)),
    ({"user_id__in": [2, 4, 6]}, lambda t: t["user_id"] in (2, 4, 6)),
    (
        {"created_at__gte": datetime(2026, 1, 1, 3, tzinfo=UTC)},
        lambda t: t["created_at"] >= datetime(2026, 1, 1, 3, tzinfo=UTC),
    ),
    (
        {"created_at__gte": datetime(2026, 1, 1, 5, tzinfo=UTC)},
        lambda t: t["created_at"] >= datetime(2026, 1, 1, 5, tzinfo=UTC),
    ),
]
"""Calls whose filters have the same keys and other values, one after the other, a None before a value and after one:
an adapter that keeps SQL per shape of filters (the raw baseline) must bind each call's values, and build anew what
the values shape (None, IN lists)."""


async def test_filters_with_the_same_keys_answer_each_call(db: Loaded) -> None:
    p, Task = db.provider, db.provider.models.Task
    for filters, predicate in SAME_KEYS_CASES:
        expected = truth_ids(db.dataset.tasks, predicate)
        assert set(ids(await p.get_many(Task, filters))) == expected, filters
        found = await p.get(Task, filters)
        assert found.id in expected if found is not None else not expected, filters
        assert await p.count(Task, filters) == len(expected), filters


async def test_ordering_limit_and_offset(db: Loaded) -> None:
    p, Task = db.provider, db.provider.models.Task
    everything = sorted(range(1, len(db.dataset.tasks) + 1), reverse=True)
    assert ids(await p.get_many(Task, order_by="-id", limit=4, offset=2)) == everything[2:6]
    assert ids(await p.get_many(Task, order_by="id", limit=3)) == [1, 2, 3]
    by_title = sorted(
        truth_ids(db.dataset.tasks, lambda t: t["user_id"] == 2), key=lambda i: db.dataset.tasks[i - 1]["title"]
    )
    assert ids(await p.get_many(Task, {"user_id": 2}, order_by="title")) == by_title
    assert ids(await p.get_many(Task, order_by="id", offset=len(db.dataset.tasks) - 1)) == [len(db.dataset.tasks)]


async def test_types_of_returned_values(db: Loaded) -> None:
    p = db.provider
    account = await p.get(p.models.Account, {"id": 1})
    assert account is not None
    assert account.balance == STARTING_BALANCE and isinstance(account.balance, Decimal)
    assert account.balance.as_tuple().exponent == -2
    user = await p.get(p.models.User, {"id": 1})
    assert user is not None
    assert isinstance(user.is_active, bool) and isinstance(user.created_at, datetime)


UNKNOWN_INPUTS = {
    "filter_field": lambda p: p.get(p.models.User, {"nickname": "x"}),
    "filter_suffix": lambda p: p.get_many(p.models.User, {"username__like": "x%"}),
    "order_by": lambda p: p.get_many(p.models.User, order_by="-nickname"),
    "create_field": lambda p: p.create(p.models.User, {"username": "x", "email": "x@y", "nickname": "x"}),
    "update_field": lambda p: p.update(p.models.User, {"id": 1}, {"nickname": "x"}),
    "relation": lambda p: p.get_with_relations(p.models.User, {}, ["friends"]),
    "relation_of_many": lambda p: p.get_many_optimized(p.models.User, relations=["tasks", "tasks.friends"]),
    "order_by_of_many": lambda p: p.get_many_optimized(p.models.User, order_by="-nickname", relations=["tasks"]),
    "model": lambda p: p.count(object),
}


@pytest.mark.parametrize("case", UNKNOWN_INPUTS)
async def test_unknown_names_raise_before_any_statement(db: Loaded, case: str) -> None:
    async with capture() as log:
        with pytest.raises(UnknownFieldError):
            await UNKNOWN_INPUTS[case](db.provider)
    assert log.round_trips == 0


REFUSED_INPUTS: dict[str, tuple[type[HarnessError], Callable[[BaseORMProvider], Any]]] = {
    "create_many_later_row": (
        UnknownFieldError,
        lambda p: p.create_many(p.models.Tag, [{"name": "fine"}, {"nmae": "typo"}]),
    ),
    "create_missing_required": (NotNullViolation, lambda p: p.create(p.models.Tag, {})),
    "create_many_missing_required": (NotNullViolation, lambda p: p.create_many(p.models.Tag, [{"name": "x"}, {}])),
    "update_not_a_key": (AmbiguousFilter, lambda p: p.update(p.models.Task, {"priority": 3}, {"title": "x"})),
    "update_half_a_pair": (AmbiguousFilter, lambda p: p.update(p.models.Task, {"user_id": 1}, {"title": "x"})),
    "update_keys_in_a_list": (AmbiguousFilter, lambda p: p.update(p.models.User, {"id__in": [1, 2]}, {"email": "x"})),
    "get_with_relations_not_a_key": (
        AmbiguousFilter,
        lambda p: p.get_with_relations(p.models.Task, {"priority": 3}, ["tags"]),
    ),
    "get_with_relations_keys_in_a_list": (
        AmbiguousFilter,
        lambda p: p.get_with_relations(p.models.User, {"id__in": [1, 2]}, ["tasks"]),
    ),
}


@pytest.mark.parametrize("case", REFUSED_INPUTS)
async def test_input_the_contract_refuses_raises_before_any_statement(db: Loaded, case: str) -> None:
    error, action = REFUSED_INPUTS[case]
    async with capture() as log:
        with pytest.raises(error):
            await action(db.provider)
    assert log.round_trips == 0


async def test_empty_data_sends_nothing_or_reads_the_row(db: Loaded) -> None:
    p, Task = db.provider, db.provider.models.Task
    async with capture() as log:
        assert await p.update_many(Task, {"user_id": 1}, {}) == 0
        assert await p.create_many(p.models.Tag, []) == 0
    assert log.round_trips == 0
    stored = await p.update(Task, {"id": 4}, {})
    assert stored is not None and as_dict(stored, "Task") == as_dict(await p.get(Task, {"id": 4}), "Task")
    assert await p.update(Task, {"id": 10_000}, {}) is None


# --- eager loading -----------------------------------------------------------------------------------


async def loaded_with_statements(
    p: BaseORMProvider, model: Any, filters: dict, relations: list[str], **paging: Any
) -> list[Any]:
    """Load many with `get_many_optimized`, and check the statements sent against the adapter's documented cost."""
    async with capture() as log:
        objects = await p.get_many_optimized(model, filters, relations=relations, **paging)
    assert log.queries == p.expected_eager_statements(model, relations), [s.sql for s in log.statements]
    return objects


async def test_one_level_reverse_relation(db: Loaded) -> None:
    p = db.provider
    users = await loaded_with_statements(p, p.models.User, {"id__in": [1, 2, 3]}, ["tasks"])
    async with capture() as touching:
        loaded = {u.id: sorted(t.id for t in u.tasks) for u in users}
    assert touching.round_trips == 0
    assert loaded == {u: sorted(truth_ids(db.dataset.tasks, lambda t, u=u: t["user_id"] == u)) for u in (1, 2, 3)}


async def test_two_level_reverse_relations(db: Loaded) -> None:
    p = db.provider
    users = await loaded_with_statements(p, p.models.User, {"id__lte": 2}, ["tasks.comments"])
    async with capture() as touching:
        loaded = {t.id: sorted(c.id for c in t.comments) for u in users for t in u.tasks}
    assert touching.round_trips == 0
    expected_tasks = truth_ids(db.dataset.tasks, lambda t: t["user_id"] <= 2)
    assert loaded == {
        t: sorted(truth_ids(db.dataset.comments, lambda c, t=t: c["task_id"] == t)) for t in expected_tasks
    }


async def test_many_to_many(db: Loaded) -> None:
    p = db.provider
    tasks = await loaded_with_statements(p, p.models.Task, {"id__in": [1, 2, 7]}, ["tags"])
    async with capture() as touching:
        loaded = {t.id: sorted(tag.id for tag in t.tags) for t in tasks}
    assert touching.round_trips == 0
    assert loaded == {t: sorted(g for task, g in db.dataset.task_tags if task == t) for t in (1, 2, 7)}
    tag_names = {tag.name for t in tasks for tag in t.tags}
    assert tag_names <= {row["name"] for row in db.dataset.tags}


async def test_forward_relations(db: Loaded) -> None:
    p = db.provider
    tasks = await loaded_with_statements(p, p.models.Task, {"id__in": [1, 5]}, ["user"])
    comments = await loaded_with_statements(p, p.models.Comment, {"task_id": 2}, ["author", "task"])
    async with capture() as touching:
        owners = {t.id: t.user.username for t in tasks}
        authors = {c.id: (c.author.id, c.task.title) for c in comments}
    assert touching.round_trips == 0
    assert owners == {t: db.dataset.users[db.dataset.tasks[t - 1]["user_id"] - 1]["username"] for t in (1, 5)}
    assert authors == {
        c: (db.dataset.comments[c - 1]["author_id"], db.dataset.tasks[1]["title"])
        for c in truth_ids(db.dataset.comments, lambda c: c["task_id"] == 2)
    }


async def test_paging_ordering_and_relations_in_one_call(db: Loaded) -> None:
    p, tasks = db.provider, db.dataset.tasks
    of_users = sorted(truth_ids(tasks, lambda t: t["user_id"] in (1, 2, 3)), key=lambda i: tasks[i - 1]["title"])
    relations = ["tags", "user", "comments"]
    page = await loaded_with_statements(
        p, p.models.Task, {"user_id__in": [1, 2, 3]}, relations, order_by="-title", limit=4, offset=2
    )
    assert ids(page) == list(reversed(of_users))[2:6]
    assert ids(page) == ids(await p.get_many(p.models.Task, {"user_id__in": [1, 2, 3]}, 4, 2, "-title"))
    async with capture() as touching:
        loaded = {t.id: (sorted(g.id for g in t.tags), t.user.id, sorted(c.id for c in t.comments)) for t in page}
    assert touching.round_trips == 0
    assert loaded == {
        t: (
            sorted(g for task, g in db.dataset.task_tags if task == t),
            tasks[t - 1]["user_id"],
            sorted(truth_ids(db.dataset.comments, lambda c, t=t: c["task_id"] == t)),
        )
        for t in ids(page)
    }
    users = await loaded_with_statements(p, p.models.User, {}, ["tasks.comments"], order_by="id", limit=2, offset=1)
    assert ids(users) == [2, 3]
    assert {u.id: sorted(t.id for t in u.tasks) for u in users} == {
        u: sorted(truth_ids(tasks, lambda t, u=u: t["user_id"] == u)) for u in (2, 3)
    }
    assert ids(await p.get_many_optimized(p.models.User, order_by="-id", limit=3)) == [6, 5, 4]


async def test_get_with_relations_returns_the_one_object(db: Loaded) -> None:
    p = db.provider
    async with capture() as log:
        user = await p.get_with_relations(p.models.User, {"id": 2}, ["tasks.comments", "accounts"])
    assert log.queries == p.expected_eager_statements(p.models.User, ["tasks.comments", "accounts"])
    assert user is not None and as_dict(user, "User") == {"id": 2, **db.dataset.users[1]}
    async with capture() as touching:
        loaded = {t.id: sorted(c.id for c in t.comments) for t in user.tasks}
        accounts = sorted(a.id for a in user.accounts)
    assert touching.round_trips == 0
    assert loaded == {
        t: sorted(truth_ids(db.dataset.comments, lambda c, t=t: c["task_id"] == t))
        for t in truth_ids(db.dataset.tasks, lambda t: t["user_id"] == 2)
    }
    assert accounts == sorted(truth_ids(db.dataset.accounts, lambda a: a["user_id"] == 2))
    by_email = await p.get_with_relations(p.models.User, {"email": db.dataset.users[3]["email"]}, ["tasks"])
    assert by_email is not None and by_email.id == 4 and len(by_email.tasks) == db.dataset.size.tasks_per_user
    task = await p.get_with_relations(p.models.Task, {"user_id": 1, "title": "task 2 of user 1"}, ["user", "tags"])
    assert task is not None and task.user.id == 1 and task.title == "task 2 of user 1"


async def test_relations_of_nothing(fresh: Loaded) -> None:
    p = fresh.provider
    assert await p.get_with_relations(p.models.User, {"id": 10_000}, ["tasks.comments"]) is None
    assert await p.get_many_optimized(p.models.User, {"id__gt": 10_000}, relations=["tasks.comments"]) == []
    user = await p.create(p.models.User, {"username": "loner", "email": "loner@example.org"})
    loaded = await p.get_with_relations(p.models.User, {"id": user.id}, ["tasks"])
    assert loaded is not None and len(loaded.tasks) == 0


# --- writes ------------------------------------------------------------------------------------------


async def test_create_returns_the_stored_row_with_defaults(fresh: Loaded) -> None:
    p = fresh.provider
    user = await p.create(p.models.User, {"username": "ada", "email": "ada@example.org"})
    assert user.id == len(fresh.dataset.users) + 1 and user.is_active is True
    task = await p.create(p.models.Task, {"user_id": user.id, "title": "first"})
    assert (task.completed, task.priority, task.description, task.due_date) == (False, 0, None, None)
    stored = await p.get(p.models.Task, {"id": task.id})
    assert stored is not None
    assert as_dict(stored, "Task") == as_dict(task, "Task")
    assert abs(stored.created_at.timestamp() - datetime.now(UTC).timestamp()) < 300


async def test_update_returns_the_stored_row(fresh: Loaded) -> None:
    p, Task = fresh.provider, fresh.provider.models.Task
    updated = await p.update(Task, {"id": 4}, {"title": "renamed", "priority": 5, "description": None})
    assert updated is not None
    assert (updated.id, updated.title, updated.priority, updated.description) == (4, "renamed", 5, None)
    assert as_dict(await p.get(Task, {"id": 4}), "Task") == as_dict(updated, "Task")
    assert await p.update(Task, {"id": 10_000}, {"title": "ghost"}) is None
    assert await p.count(Task, {"title": "ghost"}) == 0


async def test_update_by_any_key_of_the_entity(fresh: Loaded) -> None:
    p, m = fresh.provider, fresh.provider.models
    task = await p.update(m.Task, {"user_id": 1, "title": "task 1 of user 1"}, {"priority": 4})
    assert task is not None and task.priority == 4 and task.user_id == 1
    user = await p.update(m.User, {"email": fresh.dataset.users[1]["email"]}, {"is_active": False})
    assert user is not None and user.id == 2 and user.is_active is False
    inactive = truth_ids(fresh.dataset.users, lambda u: not u["is_active"]) | {2}
    assert await p.count(m.User, {"is_active": False}) == len(inactive)


async def test_delete_removes_matching_rows_and_cascades(fresh: Loaded) -> None:
    p, m = fresh.provider, fresh.provider.models
    assert await p.delete(m.Comment, {"id": 1}) is True
    assert await p.get(m.Comment, {"id": 1}) is None
    assert await p.delete(m.Comment, {"id": 1}) is False
    assert await p.delete(m.User, {"id": 2}) is True
    assert await p.count(m.Task, {"user_id": 2}) == 0
    assert await p.count(m.Account, {"user_id": 2}) == 0


async def test_create_many_and_update_many(fresh: Loaded) -> None:
    p, User = fresh.provider, fresh.provider.models.User
    rows = [{"username": f"bulk{i}", "email": f"bulk{i}@example.org", "is_active": i % 2 == 0} for i in range(1500)]
    assert await p.create_many(User, rows) == 1500
    assert await p.count(User, {"username__gte": "bulk", "username__lt": "bulk~"}) == 1500
    assert (
        await p.update_many(
            User, {"username__gte": "bulk", "username__lt": "bulk~", "is_active": False}, {"is_active": True}
        )
        == 750
    )
    assert await p.count(User, {"is_active": False, "username__gte": "bulk", "username__lt": "bulk~"}) == 0
    assert await p.update_many(User, {"id__in": []}, {"is_active": False}) == 0
    assert await p.create_many(User, []) == 0


async def test_link_tags(fresh: Loaded) -> None:
    p = fresh.provider
    tag = await p.create(p.models.Tag, {"name": "fresh"})
    assert await p.link_tags([(1, tag.id), (2, tag.id)]) == 2
    task = await p.get_with_relations(p.models.Task, {"id": 2}, ["tags"])
    assert task is not None and tag.id in {t.id for t in task.tags}


# --- constraint violations ---------------------------------------------------------------------------

VIOLATIONS = {
    "unique": (
        UniqueViolation,
        lambda p: p.create(p.models.User, {"username": "user00001", "email": "new@example.org"}),
    ),
    "unique_pair": (UniqueViolation, lambda p: p.create(p.models.Task, {"user_id": 1, "title": "task 1 of user 1"})),
    "unique_bulk": (UniqueViolation, lambda p: p.create_many(p.models.Tag, [{"name": "dup"}, {"name": "dup"}])),
    "foreign_key": (ForeignKeyViolation, lambda p: p.create(p.models.Task, {"user_id": 10_000, "title": "orphan"})),
    "check_priority": (CheckViolation, lambda p: p.create(p.models.Task, {"user_id": 1, "title": "t", "priority": 9})),
    "check_balance": (CheckViolation, lambda p: p.update(p.models.Account, {"id": 1}, {"balance": Decimal("-1.00")})),
    "check_update_many": (CheckViolation, lambda p: p.update_many(p.models.Task, {"user_id": 1}, {"priority": 6})),
}


@pytest.mark.parametrize("case", VIOLATIONS)
async def test_constraint_violation_raises_and_provider_stays_usable(fresh: Loaded, case: str) -> None:
    error, action = VIOLATIONS[case]
    p = fresh.provider
    with pytest.raises(error):
        await action(p)
    assert await p.count(p.models.Tag, {"name": "dup"}) == 0
    account = await p.get(p.models.Account, {"id": 1})
    assert account is not None and account.balance == STARTING_BALANCE
    assert await p.create(p.models.Tag, {"name": "after"}) is not None


# --- transactions ------------------------------------------------------------------------------------


async def test_create_with_transaction(fresh: Loaded) -> None:
    p, Tag = fresh.provider, fresh.provider.models.Tag
    tag = await p.create_with_transaction(Tag, {"name": "own transaction"})
    assert tag.id is not None and await p.count(Tag, {"name": "own transaction"}) == 1
    with pytest.raises(RuntimeError, match="undo"):
        async with p.transaction():
            await p.create_with_transaction(Tag, {"name": "savepoint"})
            raise RuntimeError("undo")
    assert await p.count(Tag, {"name": "savepoint"}) == 0


async def test_transaction_commits(fresh: Loaded) -> None:
    p, Tag = fresh.provider, fresh.provider.models.Tag
    async with p.transaction():
        await p.create(Tag, {"name": "a"})
        await p.create_many(Tag, [{"name": "b"}, {"name": "c"}])
        assert await p.count(Tag, {"name__in": ["a", "b", "c"]}) == 3
    assert await p.count(Tag, {"name__in": ["a", "b", "c"]}) == 3


async def test_rollback_on_exception_leaves_nothing(fresh: Loaded) -> None:
    p, m = fresh.provider, fresh.provider.models
    with pytest.raises(RuntimeError, match="boom"):
        async with p.transaction():
            await p.create(m.Tag, {"name": "doomed"})
            await p.update_many(m.Task, {}, {"completed": True})
            await p.delete(m.Comment, {"id": 1})
            raise RuntimeError("boom")
    assert await p.count(m.Tag, {"name": "doomed"}) == 0
    assert await p.count(m.Task, {"completed": True}) == sum(t["completed"] for t in fresh.dataset.tasks)
    assert await p.exists(m.Comment, {"id": 1})


async def test_child_tasks_started_inside_a_transaction_join_it(fresh: Loaded) -> None:
    p, Tag = fresh.provider, fresh.provider.models.Tag
    with pytest.raises(RuntimeError, match="undo"):
        async with p.transaction():
            await asyncio.create_task(p.create(Tag, {"name": "from a child"}))
            assert await p.count(Tag, {"name": "from a child"}) == 1
            raise RuntimeError("undo")
    assert await p.count(Tag, {"name": "from a child"}) == 0
    async with p.transaction():
        await asyncio.create_task(p.create(Tag, {"name": "kept"}))
    assert await p.count(Tag, {"name": "kept"}) == 1


async def test_a_read_from_another_task_never_sees_an_open_transaction_s_writes(fresh: Loaded) -> None:
    """On a shared SQLite connection too: the read waits for the transaction (here rolled back) or reads around it."""
    p, Tag = fresh.provider, fresh.provider.models.Tag
    written = asyncio.Event()

    async def write_then_roll_back() -> None:
        with pytest.raises(RuntimeError, match="undo"):
            async with p.transaction():
                await p.create(Tag, {"name": "never committed"})
                written.set()
                await asyncio.sleep(0.05)
                raise RuntimeError("undo")

    async def read_meanwhile() -> Any:
        await written.wait()
        return await p.get(Tag, {"name": "never committed"}), await p.count(Tag, {"name": "never committed"})

    _, seen = await asyncio.gather(write_then_roll_back(), read_meanwhile())
    assert seen == (None, 0)


async def test_row_counts_are_the_statement_s_own_while_other_tasks_write(fresh: Loaded) -> None:
    """On a shared SQLite connection too, where other tasks' statements run between this one's being sent and its
    count being read: update_many counts the rows it changed, delete finds nothing to delete."""
    p, Task, Tag = fresh.provider, fresh.provider.models.Task, fresh.provider.models.Tag
    first_users = sum(1 for task in fresh.dataset.tasks if task["user_id"] == 1)

    def create(i: int) -> Any:
        return p.create(Tag, {"name": f"written meanwhile {i}"})

    results = await asyncio.gather(
        p.update_many(Task, {"user_id": 1}, {"completed": True}),
        *(create(i) for i in range(10)),
        p.delete(Tag, {"name": "never written"}),
        *(create(i) for i in range(10, 20)),
        p.delete(Tag, {"name": "never written either"}),
    )
    assert (results[0], results[11], results[-1]) == (first_users, False, False)
    assert await p.count(Tag, {"name__in": [f"written meanwhile {i}" for i in range(20)]}) == 20


async def test_violation_inside_transaction_rolls_back_all_of_it(fresh: Loaded) -> None:
    p, User = fresh.provider, fresh.provider.models.User
    with pytest.raises(UniqueViolation):
        async with p.transaction():
            await p.create(User, {"username": "kept?", "email": "kept@example.org"})
            await p.create(User, {"username": "kept?", "email": "other@example.org"})
    assert await p.count(User, {"username": "kept?"}) == 0
    assert await p.count(User) == len(fresh.dataset.users)


async def test_inner_rollback_keeps_outer_work(fresh: Loaded) -> None:
    p, Tag = fresh.provider, fresh.provider.models.Tag
    async with p.transaction():
        await p.create(Tag, {"name": "outer-before"})
        with pytest.raises(HarnessError):
            async with p.transaction():
                await p.create(Tag, {"name": "inner"})
                await p.create(Tag, {"name": "inner"})
        await p.create(Tag, {"name": "outer-after"})
    names = {t.name for t in await p.get_many(Tag, {"name__in": ["outer-before", "inner", "outer-after"]})}
    assert names == {"outer-before", "outer-after"}


async def test_inner_commit_is_undone_by_outer_rollback(fresh: Loaded) -> None:
    p, Tag = fresh.provider, fresh.provider.models.Tag
    with pytest.raises(RuntimeError):
        async with p.transaction():
            async with p.transaction():
                await p.create(Tag, {"name": "inner"})
            raise RuntimeError("outer fails")
    assert await p.count(Tag, {"name": "inner"}) == 0


async def test_concurrent_transfers_keep_the_total(fresh: Loaded) -> None:
    p = fresh.provider
    rng = random.Random(7)
    accounts = len(fresh.dataset.accounts)

    def move() -> tuple[int, int, Decimal]:
        source, target = rng.sample(range(1, accounts + 1), 2)
        return source, target, Decimal(rng.randint(1, 5000)) / 100

    moves = [move() for _ in range(40)]
    await asyncio.gather(*(move_money(p, s, t, a) for s, t, a in moves))
    balances = [a.balance for a in await p.get_many(p.models.Account)]
    assert sum(balances) == fresh.dataset.total_balance
    assert await p.count(p.models.TransferLog) == len(moves)


# --- pool and migrations ------------------------------------------------------------------------------

POOL_GAUGES = {"min", "max", "size", "checked_out", "idle", "overflow"}


async def test_pool_status(db: Loaded) -> None:
    p = db.provider
    status = await p.get_pool_status()
    if p.dialect == "sqlite":
        assert status is None and p.pool_status() is None
        return
    assert status is not None and set(status) == POOL_GAUGES
    assert (status["min"], status["max"]) == (p.config.pool_min, p.config.pool_max)
    assert status["checked_out"] + status["idle"] == status["size"] <= status["max"]
    assert 0 <= status["overflow"] <= status["max"] - status["min"]
    assert set(p.pool_status() or {}) == POOL_GAUGES


async def test_current_revision_after_create_schema_is_head(db: Loaded) -> None:
    assert await db.provider.get_current_revision() == REVISIONS[-1]


async def test_concurrent_reads_and_health(db: Loaded) -> None:
    p = db.provider
    users = await asyncio.gather(*(p.get(p.models.User, {"id": i % 6 + 1}) for i in range(50)))
    assert [None if u is None else u.id for u in users] == [i % 6 + 1 for i in range(50)]
    assert await p.health_check() is True


# --- raw SQL (execute) -------------------------------------------------------------------------------


async def test_execute_returns_rows_as_dicts_with_bound_parameters(db: Loaded) -> None:
    p, users = db.provider, db.dataset.users
    rows = await p.execute(
        "SELECT id, username FROM users WHERE username = :name OR id = :id ORDER BY id", {"name": "user00002", "id": 1}
    )
    assert rows == [{"id": 1, "username": users[0]["username"]}, {"id": 2, "username": "user00002"}]
    # A value is bound, never spliced into the SQL: a quote in it is data.
    assert await p.execute("SELECT id FROM users WHERE username = :name", {"name": "x' OR '1'='1"}) == []


async def test_execute_writes_and_joins_the_transaction(fresh: Loaded) -> None:
    p, Tag = fresh.provider, fresh.provider.models.Tag
    assert await p.execute("INSERT INTO tags (name) VALUES (:name)", {"name": "raw"}) == []
    assert await p.count(Tag, {"name": "raw"}) == 1
    with pytest.raises(RuntimeError, match="undo"):
        async with p.transaction():
            await p.execute("UPDATE tags SET name = :new WHERE name = :old", {"new": "renamed", "old": "raw"})
            assert await p.count(Tag, {"name": "renamed"}) == 1
            raise RuntimeError("undo")
    assert await p.count(Tag, {"name": "raw"}) == 1


async def test_execute_translates_constraint_errors(fresh: Loaded) -> None:
    p = fresh.provider
    with pytest.raises(UniqueViolation):
        await p.execute("INSERT INTO tags (name) VALUES (:name)", {"name": fresh.dataset.tags[0]["name"]})
    assert await p.execute("SELECT 1 AS one") == [{"one": 1}]


async def test_execute_checks_parameters_before_any_statement(db: Loaded) -> None:
    async with capture() as log:
        with pytest.raises(ParameterMismatch, match="SQL parameter :a has no value"):
            await db.provider.execute("SELECT :a", {"b": 1})
    assert log.queries == 0
