"""cache: key-value rows with an expiry (harness/core/workloads/cache.py): upserts of one and many entries, a read
of a live key, a sweep of the expired ones, and a few hot keys read and written by concurrent tasks.

The dataset's entries carry a time to live; about one in five has expired (harness/core/dataset.py). A read, a
sweep and an upsert of one entry are one statement on every adapter (two queries where a PRAGMA precedes each one),
which `expected_queries` asserts; an upsert of many is one statement too, a multi-row INSERT or an executemany
(which sqlite3 reports row by row, so its count is not asserted). A scenario that writes puts the entries back as
the dataset has them: the same values, live for their own time to live from the restore (the cache's clock is the
current time), and the keys it added removed. Apart from the sweep, whose setup refills the expired rows through the
contract's `create_many`, the scenarios use only the cache's own operations, so the Redis reference store runs them
too; it declares the sweep unavailable (Redis expires keys itself), so that one is skipped there with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from itertools import islice
from typing import Any

from harness.core.concurrency import run_concurrently
from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset, cache_rows
from harness.core.statements import capture
from harness.core.workloads.cache import CacheItem, CacheOperations, now
from scenarios.base import Scenario, ScenarioFailed, Sizes, expect

LIVE_TTL = timedelta(days=1)
HOT_KEYS = 4
WRITE_EVERY = 5
"""In the hot-key scenario, operation i writes when i is a multiple of this, and reads otherwise."""
UPSERT_MANY = Sizes(quick=20, full=1000)


def live(data: Dataset) -> list[dict[str, Any]]:
    return [entry for entry in data.cache_entries if _is_live(entry)]


def expired(data: Dataset) -> list[dict[str, Any]]:
    return [entry for entry in data.cache_entries if not _is_live(entry)]


def _is_live(entry: dict[str, Any]) -> bool:
    return bool(entry["ttl"] > timedelta(0))


def middle_live(data: Dataset) -> dict[str, Any]:
    """The first live entry from the middle of the keys on: neither the first nor the last page of the index. Found
    in a few steps (four entries in five are live): the timed calls look it up."""
    entries, i = data.cache_entries, len(data.cache_entries) // 2
    while not _is_live(entries[i]):
        i += 1
    return entries[i]


def replaced(key: str) -> str:
    """The value a scenario writes over the dataset's."""
    return f"replaced value of {key}"


def _originals(entries: list[dict[str, Any]]) -> list[CacheItem]:
    return [CacheItem(e["key"], e["value"], e["ttl"]) for e in entries]


async def _put_back(p: CacheOperations, entries: list[dict[str, Any]]) -> None:
    """Live entries as the dataset has them: their values, live for their own time to live from now."""
    await p.cache_upsert_many(_originals(entries))


async def one_statement(p: CacheOperations, data: Dataset) -> int:
    """Queries one plain statement (a read) costs on this adapter: two where a PRAGMA precedes each query."""
    async with capture() as log:
        await p.cache_get(middle_live(data)["key"])
    return log.queries


# --- upsert one ---------------------------------------------------------------------------------------


async def cache_upsert_one(p: CacheOperations, data: Dataset) -> None:
    """Upsert one key: a new value and expiry for a live entry (INSERT ... ON CONFLICT DO UPDATE)."""
    key = middle_live(data)["key"]
    await p.cache_upsert(key, replaced(key), LIVE_TTL)


async def _put_back_middle(p: CacheOperations, data: Dataset, **arguments: Any) -> None:
    await _put_back(p, [middle_live(data)])


async def _check_upsert_one(p: CacheOperations, data: Dataset, result: None) -> int:
    key = middle_live(data)["key"]
    expect(await p.cache_get(key), replaced(key), f"value of {key}")
    return 1


# --- upsert many --------------------------------------------------------------------------------------


def _new_key(n: int) -> str:
    return f"cache:new:{n:06d}"


def _batch(data: Dataset, size: int) -> list[CacheItem]:
    """`size` entries: the first half replace live entries, the second half are keys the dataset lacks."""
    updated = [e["key"] for e in live(data)[: size // 2]]
    added = [_new_key(n) for n in range(size - len(updated))]
    return [CacheItem(key, replaced(key), LIVE_TTL) for key in updated + added]


async def _reset_batch(p: CacheOperations, data: Dataset, size: int = UPSERT_MANY.full) -> None:
    await p.cache_delete([_new_key(n) for n in range(size)])
    await _put_back(p, live(data)[: size // 2])


async def _prepare_batch(p: CacheOperations, data: Dataset, size: int) -> dict[str, Any]:
    await _reset_batch(p, data, size)
    return {"items": _batch(data, size)}


async def cache_upsert_many(p: CacheOperations, data: Dataset, size: int, items: list[CacheItem]) -> int:
    """Upsert 1,000 entries in one call: half replace live entries, half are new keys."""
    return await p.cache_upsert_many(items)


async def _check_upsert_many(p: CacheOperations, data: Dataset, written: int, size: int, items: list[CacheItem]) -> int:
    expect(written, size, "entries upserted")
    stored = await p.cache_get_many([item.key for item in items])
    expect(stored, {item.key: item.value for item in items}, "the live values of the keys upserted")
    return written


# --- get ----------------------------------------------------------------------------------------------


async def cache_get_live(p: CacheOperations, data: Dataset) -> str | None:
    """Read one live key (its expiry tested in the same query)."""
    return await p.cache_get(middle_live(data)["key"])


async def _check_get(p: CacheOperations, data: Dataset, value: str | None) -> int:
    expect(value, middle_live(data)["value"], f"value of {middle_live(data)['key']}")
    return 1


# --- sweep --------------------------------------------------------------------------------------------


async def _expire_again(p: BaseORMProvider, data: Dataset, **arguments: Any) -> None:
    """The dataset's expired entries back in place (a cache write refuses a TTL that has run out: rows instead)."""
    entries = expired(data)
    await p.cache_delete([e["key"] for e in entries])
    await p.create_many(p.models.CacheEntry, cache_rows(entries, now()))


async def cache_sweep(p: BaseORMProvider, data: Dataset) -> int:
    """Sweep the expired entries: one DELETE through the index on expires_at."""
    return await p.cache_sweep()


async def _check_sweep(p: BaseORMProvider, data: Dataset, swept: int) -> int:
    expect(swept, len(expired(data)), "expired entries swept")
    expect(await p.count(p.models.CacheEntry), len(live(data)), "entries left, all live")
    return swept


# --- hot keys -----------------------------------------------------------------------------------------


def _hot(data: Dataset) -> list[dict[str, Any]]:
    """The first `HOT_KEYS` live entries (a few steps: the timed round looks them up)."""
    return list(islice((entry for entry in data.cache_entries if _is_live(entry)), HOT_KEYS))


async def cache_hot_keys(
    p: CacheOperations, data: Dataset, concurrency: int, operations: int, latencies: list[float] | None = None
) -> list[str | None]:
    """Hot keys from concurrent tasks: 4 keys, one upsert in five operations, reads otherwise."""
    keys = [e["key"] for e in _hot(data)]

    def operation(i: int) -> Awaitable[str | None]:
        key = keys[i % len(keys)]
        return p.cache_upsert(key, replaced(key), LIVE_TTL) if i % WRITE_EVERY == 0 else p.cache_get(key)

    return await run_concurrently(operation, concurrency, operations, latencies)


async def _put_back_hot(p: CacheOperations, data: Dataset, **arguments: Any) -> None:
    await _put_back(p, _hot(data))


async def _check_hot(
    p: CacheOperations, data: Dataset, results: list[str | None], concurrency: int, operations: int, **rest: Any
) -> int:
    entries = _hot(data)
    written = {entries[i % len(entries)]["key"] for i in range(0, operations, WRITE_EVERY)}
    for i, result in enumerate(results):
        entry = entries[i % len(entries)]
        allowed = {None} if i % WRITE_EVERY == 0 else {entry["value"], replaced(entry["key"])}
        if result not in allowed:
            raise ScenarioFailed(f"operation {i} on {entry['key']}: expected one of {allowed!r}, got {result!r}")
    expected = {e["key"]: replaced(e["key"]) if e["key"] in written else e["value"] for e in entries}
    expect(await p.cache_get_many(list(expected)), expected, "the hot keys' values after the round")
    return operations


SCENARIOS = (
    Scenario(
        cache_upsert_one,
        "cache",
        _check_upsert_one,
        setup=_put_back_middle,
        restore=_put_back_middle,
        expected_queries=one_statement,
        operations=("cache_upsert",),
    ),
    Scenario(
        cache_upsert_many,
        "cache",
        _check_upsert_many,
        setup=_prepare_batch,
        restore=_reset_batch,
        operations=("cache_upsert_many",),
        parameter="size",
        sizes=UPSERT_MANY,
    ),
    Scenario(cache_get_live, "cache", _check_get, expected_queries=one_statement, operations=("cache_get",), calls=4),
    Scenario(
        cache_sweep,
        "cache",
        _check_sweep,
        setup=_expire_again,
        restore=_expire_again,
        expected_queries=one_statement,
        operations=("cache_sweep",),
    ),
    Scenario(
        cache_hot_keys,
        "cache",
        _check_hot,
        setup=_put_back_hot,
        restore=_put_back_hot,
        operations=("cache_get", "cache_upsert"),
        parameter="concurrency",
        sizes=Sizes(quick=32, full=64),
    ),
)
