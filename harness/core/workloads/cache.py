"""The CACHE tier's operations: key-value rows with an expiry, in `cache_entries (key, value, expires_at)`.

An entry is live while `expires_at` is after the current time and expired from then on. The clock is the client's
(`datetime.now(UTC)`, read once per call): a write stores `now + ttl`, a read or a sweep compares with `now`, so one
clock decides on every database (and Redis, the reference line, expires by its own clock as the TTL says).
    cache_upsert(key, value, ttl): insert the entry, or replace the value and expiry of the key's entry (one
        INSERT ... ON CONFLICT (key) DO UPDATE).
    cache_upsert_many(items): the same for many entries, keys distinct, in one statement per 10,000 (one
        transaction); returns how many.
    cache_get(key): the value of the key's live entry; None when the key is absent or expired.
    cache_get_many(keys): the live entries among these keys, as {key: value} (a multi-get, one statement).
    cache_delete(keys): remove these keys' entries, live or not (an invalidation); returns how many were there.
    cache_sweep(): remove every expired entry (through the index on expires_at); returns how many.
On SQLite a timestamp is text compared as text: the raw-SQL path below binds its times in the adapter's own format
(`sql_timestamp`), so it agrees with the rows the adapter's ORM writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from harness.core.errors import InvalidArgument, translated_errors

KEY_LENGTH = 255
"""The longest key: cache_entries.key is VARCHAR(255)."""
UPSERT_BATCH = 10_000
"""Entries per statement on the raw-SQL path: 3 bind parameters each, under PostgreSQL's 32,767 and SQLite's 32,766."""

KEYS_BATCH = 30_000
"""Keys per statement of a multi-get or a delete on the raw-SQL path: one bind parameter each."""

UPSERT_SQL = """INSERT INTO cache_entries (key, value, expires_at) VALUES {rows}
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"""
GET_SQL = "SELECT value FROM cache_entries WHERE key = :key AND expires_at > :now"
GET_MANY_SQL = "SELECT key, value FROM cache_entries WHERE key IN ({keys}) AND expires_at > :now"
# PostgreSQL counts the rows a DELETE removed in a CTE; SQLite has no DELETE inside WITH, so it returns them.
DELETE_SQL = {
    "postgresql": "WITH gone AS (DELETE FROM cache_entries WHERE {condition} RETURNING 1)"
    " SELECT COUNT(*) AS n FROM gone",
    "sqlite": "DELETE FROM cache_entries WHERE {condition} RETURNING 1 AS n",
}


class CacheItem(NamedTuple):
    """One entry to write: its key, its value and how long it stays live from the time of the write."""

    key: str
    value: str
    ttl: timedelta


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= KEY_LENGTH:
        raise InvalidArgument(f"a cache key must be a string of 1 to {KEY_LENGTH} characters, got {key!r}")


def check_item(key: Any, value: Any, ttl: Any) -> None:
    """Raise `InvalidArgument` unless this is an entry a cache can store: a key, a string value, a positive TTL."""
    _check_key(key)
    if not isinstance(value, str):
        raise InvalidArgument(f"the value of cache key {key!r} must be a string, got {type(value).__name__}")
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise InvalidArgument(f"the ttl of cache key {key!r} must be a positive timedelta, got {ttl!r}")


def check_items(items: Sequence[CacheItem]) -> None:
    for item in items:
        check_item(*item)
    if len({item.key for item in items}) < len(items):
        raise InvalidArgument("cache_upsert_many was given a key twice: give each key once")


def check_keys(keys: Sequence[str]) -> None:
    for key in keys:
        _check_key(key)


def _key_batches(keys: list[str]) -> list[tuple[str, dict[str, str]]]:
    """The keys as `:k0, :k1, ...` lists of at most `KEYS_BATCH` parameters, with their values."""
    batches = []
    for start in range(0, len(keys), KEYS_BATCH):
        batch = keys[start : start + KEYS_BATCH]
        batches.append((", ".join(f":k{n}" for n in range(len(batch))), {f"k{n}": key for n, key in enumerate(batch)}))
    return batches


def now() -> datetime:
    """The cache's clock (see the module docstring)."""
    return datetime.now(UTC)


class CacheOperations:
    """The CACHE tier's operations (see the module docstring), mixed into `BaseORMProvider`. Each public method
    checks its input and calls its hook (`_cache_upsert_many`, ...), whose default sends the SQL above through
    `execute`; an adapter whose ORM does the operation itself overrides the hook."""

    OPERATIONS: ClassVar[tuple[str, ...]] = (
        "cache_upsert",
        "cache_upsert_many",
        "cache_get",
        "cache_get_many",
        "cache_delete",
        "cache_sweep",
    )

    if TYPE_CHECKING:

        @property
        def dialect(self) -> str: ...

        async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

        def transaction(self) -> AbstractAsyncContextManager[None]: ...

        def sql_timestamp(self, moment: datetime) -> Any: ...

    async def cache_upsert(self, key: str, value: str, ttl: timedelta) -> None:
        """Store `value` under `key`, live for `ttl` from now, whether or not the key has an entry."""
        check_item(key, value, ttl)
        with translated_errors():
            await self._cache_upsert(CacheItem(key, value, ttl), now())

    async def cache_upsert_many(self, items: Sequence[CacheItem]) -> int:
        """`cache_upsert` for every item (keys distinct), as one write; returns how many."""
        items = [CacheItem(*item) for item in items]
        check_items(items)
        if not items:
            return 0
        with translated_errors():
            await self._cache_upsert_many(items, now())
        return len(items)

    async def cache_get(self, key: str) -> str | None:
        """The value of the key's live entry; None when there is none or it has expired."""
        _check_key(key)
        with translated_errors():
            return await self._cache_get(key, now())

    async def cache_get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The live entries among `keys`, as {key: value}; absent and expired keys are left out."""
        keys = list(keys)
        check_keys(keys)
        if not keys:
            return {}
        with translated_errors():
            return await self._cache_get_many(keys, now())

    async def cache_delete(self, keys: Sequence[str]) -> int:
        """Remove the entries of `keys`, expired or not; returns how many there were."""
        keys = list(keys)
        check_keys(keys)
        if not keys:
            return 0
        with translated_errors():
            return await self._cache_delete(keys)

    async def cache_sweep(self) -> int:
        """Remove every expired entry; returns how many."""
        with translated_errors():
            return await self._cache_sweep(now())

    # The raw-SQL path.

    async def _cache_upsert(self, item: CacheItem, clock: datetime) -> None:
        await self._cache_upsert_many([item], clock)

    async def _cache_upsert_many(self, items: list[CacheItem], clock: datetime) -> None:
        batches = [items[start : start + UPSERT_BATCH] for start in range(0, len(items), UPSERT_BATCH)]
        if len(batches) == 1:
            await self._upsert_batch(batches[0], clock)
            return
        async with self.transaction():
            for batch in batches:
                await self._upsert_batch(batch, clock)

    async def _upsert_batch(self, items: list[CacheItem], clock: datetime) -> None:
        params: dict[str, Any] = {}
        for n, (key, value, ttl) in enumerate(items):
            params |= {f"k{n}": key, f"v{n}": value, f"e{n}": self.sql_timestamp(clock + ttl)}
        rows = ", ".join(f"(:k{n}, :v{n}, :e{n})" for n in range(len(items)))
        await self.execute(UPSERT_SQL.format(rows=rows), params)

    async def _cache_get(self, key: str, clock: datetime) -> str | None:
        rows = await self.execute(GET_SQL, {"key": key, "now": self.sql_timestamp(clock)})
        return rows[0]["value"] if rows else None

    async def _cache_get_many(self, keys: list[str], clock: datetime) -> dict[str, str]:
        found: dict[str, str] = {}
        for names, params in _key_batches(keys):
            rows = await self.execute(GET_MANY_SQL.format(keys=names), {**params, "now": self.sql_timestamp(clock)})
            found |= {row["key"]: row["value"] for row in rows}
        return found

    async def _cache_delete(self, keys: list[str]) -> int:
        deleted = 0
        for names, params in _key_batches(keys):
            deleted += await self._delete_where(f"key IN ({names})", params)
        return deleted

    async def _cache_sweep(self, clock: datetime) -> int:
        return await self._delete_where("expires_at <= :now", {"now": self.sql_timestamp(clock)})

    async def _delete_where(self, condition: str, params: dict[str, Any]) -> int:
        rows = await self.execute(DELETE_SQL[self.dialect].format(condition=condition), params)
        return rows[0]["n"] if self.dialect == "postgresql" else len(rows)
