"""Controls for the adapter tax (harness/bench/tax.py): its operations as bare driver calls, asyncpg's pool
(`fetch`, `fetchrow`) on PostgreSQL and aiosqlite's `execute_fetchall` on SQLite, on the provider's own pool or
connection, with the SQL written out and the rows turned into the same dataclasses (on SQLite with the same type
conversions). They send the statements the provider sends, so the difference in time is the contract layer's: the
filters parsed and checked, the SQL looked up by the call's shape, the values converted by column, SQLite's
connection shared safely.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import asyncpg

from backends.raw.models import Task, User
from backends.raw.provider import RawProvider, _Postgres, _SQLite

USER = "SELECT id, username, email, is_active, created_at, last_sign_in_at FROM users"
TASK = "SELECT id, user_id, title, description, completed, priority, created_at, due_date FROM tasks"
PAGE = "WHERE completed = {} AND priority >= {} ORDER BY created_at DESC LIMIT {} OFFSET {}"
INSERT_USER = (
    "INSERT INTO users (username, email) VALUES ({}, {}) RETURNING id, username, email, is_active, created_at, "
    "last_sign_in_at"
)


def _pool(provider: RawProvider) -> asyncpg.Pool | None:
    """asyncpg's pool on PostgreSQL; None on SQLite."""
    db = provider._db
    return db._pool if isinstance(db, _Postgres) else None


def _sqlite(provider: RawProvider) -> aiosqlite.Connection:
    db = provider._db
    if not isinstance(db, _SQLite):
        raise TypeError(f"{provider.config.redacted_url} is not SQLite")
    return db._connected_db


def _moment(text: str) -> datetime:
    """SQLite's UTC text as the aware datetime asyncpg gives for a TIMESTAMPTZ."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _user(row: Sequence[Any]) -> User:
    """A SQLite row as a User: 0/1 as a bool, text as a datetime."""
    id_, username, email, is_active, created_at, signed_in = row
    last_sign_in_at = None if signed_in is None else _moment(signed_in)
    return User(id_, username, email, bool(is_active), _moment(created_at), last_sign_in_at)


def _task(row: Sequence[Any]) -> Task:
    id_, user_id, title, description, completed, priority, created_at, due = row
    due_date = None if due is None else _moment(due)
    return Task(id_, user_id, title, description, bool(completed), priority, _moment(created_at), due_date)


async def get_by_pk(provider: RawProvider, user_id: int) -> User | None:
    if (pool := _pool(provider)) is not None:
        found = await pool.fetchrow(f"{USER} WHERE id = $1 LIMIT 1", user_id)
        return None if found is None else User(*found)
    rows = list(await _sqlite(provider).execute_fetchall(f"{USER} WHERE id = ? LIMIT 1", (user_id,)))
    return _user(rows[0]) if rows else None


async def filter_page(provider: RawProvider, completed: bool, min_priority: int, limit: int, offset: int) -> list[Task]:
    if (pool := _pool(provider)) is not None:
        rows = await pool.fetch(f"{TASK} {PAGE.format('$1', '$2', '$3', '$4')}", completed, min_priority, limit, offset)
        return [Task(*row) for row in rows]
    sql = f"{TASK} {PAGE.format('?', '?', '?', '?')}"
    return [
        _task(row) for row in await _sqlite(provider).execute_fetchall(sql, (completed, min_priority, limit, offset))
    ]


async def insert_one(provider: RawProvider, username: str, email: str) -> User:
    if (pool := _pool(provider)) is not None:
        return User(*await pool.fetchrow(INSERT_USER.format("$1", "$2"), username, email))
    (row,) = await _sqlite(provider).execute_fetchall(INSERT_USER.format("?", "?"), (username, email))
    return _user(row)


async def one_level(provider: RawProvider, last_user_id: int) -> list[User]:
    tasks: defaultdict[int, list[Task]] = defaultdict(list)
    if (pool := _pool(provider)) is not None:
        users = [User(*row) for row in await pool.fetch(f"{USER} WHERE id <= $1", last_user_id)]
        for row in await pool.fetch(f"{TASK} WHERE user_id = ANY($1)", [user.id for user in users]):
            tasks[row["user_id"]].append(Task(*row))
    else:
        connection = _sqlite(provider)
        users = [_user(row) for row in await connection.execute_fetchall(f"{USER} WHERE id <= ?", (last_user_id,))]
        ids = [user.id for user in users]
        for row in await connection.execute_fetchall(f"{TASK} WHERE user_id IN ({', '.join('?' * len(ids))})", ids):
            task = _task(row)
            tasks[task.user_id].append(task)
    for user in users:
        user.tasks = tasks[user.id]
    return users
