"""The tier workloads' queries in Piccolo (harness/core/workloads/ says what each operation answers).

GRAPH: Piccolo's query API has no common table expression, so the recursive walks are the contract's SQL through
`execute` (`Table.raw`); friends of friends is a select with sub-selects in `is_in` / `not_in`, as Piccolo joins only
along foreign keys, never a table to itself.
CACHE: the upsert is Piccolo's `insert(...).on_conflict(target=..., action="DO UPDATE", values=[...])`, one
multi-VALUES statement per chunk of rows; deletes return the keys (`returning`), as Piccolo gives no row count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.query import Delete, Insert, Select

from harness.core.contract import OperationPath
from harness.core.workloads.cache import CacheItem

_NO_CTE = "Piccolo's query API has no CTE: the contract's WITH RECURSIVE SQL through execute (Table.raw)."
PATHS = {
    "neighbourhood": OperationPath("raw SQL", _NO_CTE),
    "reachable": OperationPath("raw SQL", _NO_CTE),
    "shortest_path_length": OperationPath("raw SQL", _NO_CTE),
    "friends_of_friends": OperationPath(
        "native", "select() with sub-selects in is_in() and not_in(): Piccolo joins along foreign keys only."
    ),
    "cache_upsert": OperationPath(
        "native", "insert(entry).on_conflict(target=key, action='DO UPDATE', values=[...]): one statement."
    ),
    "cache_upsert_many": OperationPath(
        "native", "insert(*entries).on_conflict(...): one multi-VALUES statement per 10,922 entries (bind limit)."
    ),
    "cache_get": OperationPath("native", "select(value).where(key == ..., expires_at > now).first()."),
    "cache_get_many": OperationPath("native", "select(key, value).where(key.is_in(keys), expires_at > now)."),
    "cache_delete": OperationPath("native", "delete().where(key.is_in(keys)).returning(key): Piccolo gives no count."),
    "cache_sweep": OperationPath("native", "delete().where(expires_at <= now).returning(key): no row count either."),
}
BIND_LIMIT = 32_766
"""Bind parameters per statement (SQLite's limit, just under PostgreSQL's)."""


def friends_of_friends(follow: Any, user: int) -> Select:
    followed = follow.select(follow.followee_id).where(follow.follower_id == user)
    return (
        follow.select(follow.followee_id)
        .where(follow.follower_id.is_in(followed), follow.followee_id.not_in(followed), follow.followee_id != user)
        .distinct()
        .order_by(follow.followee_id)
        .output(as_list=True)
    )


def upserts(entry: Any, items: list[CacheItem], clock: datetime) -> list[Insert]:
    """INSERT ... ON CONFLICT (key) DO UPDATE statements, each within the bind limit (3 parameters an entry)."""
    rows = [entry(key=key, value=value, expires_at=clock + ttl) for key, value, ttl in items]
    size = BIND_LIMIT // len(entry._meta.columns)
    return [
        entry.insert(*rows[start : start + size]).on_conflict(
            target=entry.key, action="DO UPDATE", values=[entry.value, entry.expires_at]
        )
        for start in range(0, len(rows), size)
    ]


def live_value(entry: Any, key: str, clock: datetime) -> Any:
    return entry.select(entry.value).where(entry.key == key, entry.expires_at > clock).first()


def live_values(entry: Any, keys: list[str], clock: datetime) -> Select:
    return entry.select(entry.key, entry.value).where(entry.key.is_in(keys), entry.expires_at > clock)


def delete_keys(entry: Any, keys: list[str]) -> Delete:
    return entry.delete().where(entry.key.is_in(keys)).returning(entry.key)


def delete_expired(entry: Any, clock: datetime) -> Delete:
    return entry.delete().where(entry.expires_at <= clock).returning(entry.key)
