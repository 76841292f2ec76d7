"""The tier workloads' statements in SQLAlchemy Core (harness/core/workloads/ says what each operation answers).

GRAPH: the walk is SQLAlchemy's own recursive CTE (`select(...).cte(recursive=True)` and `union`, which drops a
(node, depth) pair found before, so cycles end), friends of friends a self-join of two aliases of `Follow`.
CACHE: the upsert is the dialect's own `insert(...).on_conflict_do_update(...)` (sqlalchemy.dialects.postgresql and
.sqlite each have one), reads and deletes plain ORM-enabled statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Delete, Integer, Select, delete, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from backends.sqlalchemy.models import CacheEntry, Follow
from harness.core.contract import OperationPath

_WALK = "SQLAlchemy's recursive CTE (select(...).cte(recursive=True) with union), depth-limited"
PATHS = {
    "neighbourhood": OperationPath("native", f"{_WALK}, the distinct users selected from it."),
    "reachable": OperationPath("native", f"{_WALK}, under exists()."),
    "shortest_path_length": OperationPath("native", f"{_WALK}, the min() of the depth it reached the target at."),
    "friends_of_friends": OperationPath("native", "A self-join of two aliased(Follow), less a not_in() subquery."),
    "cache_upsert": OperationPath(
        "native", "The dialect's insert(...).on_conflict_do_update() (postgresql or sqlite), one statement."
    ),
    "cache_upsert_many": OperationPath(
        "native", "The dialect's insert(...).on_conflict_do_update() with a list of rows: one executemany."
    ),
    "cache_get": OperationPath("native", "select(CacheEntry.value) on the key and expires_at > now."),
    "cache_get_many": OperationPath("native", "select(CacheEntry.key, CacheEntry.value) with key.in_(keys), live."),
    "cache_delete": OperationPath("native", "An ORM delete() with key.in_(keys); the row count says how many."),
    "cache_sweep": OperationPath("native", "An ORM delete() where expires_at <= now; the row count says how many."),
}


def walk(source: int, depth: int) -> CTE:
    """The users reached from `source` and the hop each was reached at, up to `depth` hops."""
    first = select(Follow.followee_id.label("node"), literal(1, Integer).label("depth"))
    cte = first.where(Follow.follower_id == source).cte("walk", recursive=True)
    step = select(Follow.followee_id, cte.c.depth + 1).join(cte, Follow.follower_id == cte.c.node)
    return cte.union(step.where(cte.c.depth < depth))


def neighbourhood(start: int, depth: int) -> Select[Any]:
    reached = walk(start, depth)
    return select(reached.c.node).where(reached.c.node != start).distinct().order_by(reached.c.node)


def reachable(source: int, target: int, max_depth: int) -> Select[Any]:
    reached = walk(source, max_depth)
    return select(exists().where(reached.c.node == target))


def shortest_path_length(source: int, target: int, max_depth: int) -> Select[Any]:
    reached = walk(source, max_depth)
    return select(func.min(reached.c.depth)).where(reached.c.node == target)


def friends_of_friends(user: int) -> Select[Any]:
    first, second = aliased(Follow), aliased(Follow)
    followed = select(Follow.followee_id).where(Follow.follower_id == user)
    return (
        select(second.followee_id)
        .join_from(first, second, second.follower_id == first.followee_id)
        .where(first.follower_id == user, second.followee_id != user, second.followee_id.not_in(followed))
        .distinct()
        .order_by(second.followee_id)
    )


def upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE of cache_entries, with the dialect's own insert construct; executed
    with one row's values, or with a list of them (one executemany)."""
    insert = postgresql.insert(CacheEntry) if dialect == "postgresql" else sqlite.insert(CacheEntry)
    return insert.on_conflict_do_update(
        index_elements=[CacheEntry.key],
        set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
    )


def live_value(key: str, clock: datetime) -> Select[Any]:
    return select(CacheEntry.value).where(CacheEntry.key == key, CacheEntry.expires_at > clock)


def live_values(keys: list[str], clock: datetime) -> Select[str, str]:
    return select(CacheEntry.key, CacheEntry.value).where(CacheEntry.key.in_(keys), CacheEntry.expires_at > clock)


def delete_keys(keys: list[str]) -> Delete:
    return delete(CacheEntry).where(CacheEntry.key.in_(keys))


def delete_expired(clock: datetime) -> Delete:
    return delete(CacheEntry).where(CacheEntry.expires_at <= clock)


def cache_row(key: str, value: str, expires_at: datetime) -> dict[str, Any]:
    return {"key": key, "value": value, "expires_at": expires_at}
