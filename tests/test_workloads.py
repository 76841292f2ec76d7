"""The tier workloads' operations (harness/core/workloads/), every adapter x database (ids like `[piccolo-sqlite]`).

Graph answers are checked against a breadth-first search over the dataset's edges, cache answers against the
dataset's entries; each adapter's declared paths are checked against the hooks its class overrides.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from harness.core.adapters import BY_NAME, CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.errors import InvalidArgument
from harness.core.factory import adapter_class
from harness.core.statements import capture
from harness.core.workloads.cache import CacheItem, CacheOperations
from harness.core.workloads.graph import GraphOperations
from scenarios.cache import expired, live
from scenarios.graph import friends_of_friends_of, hops_from, within
from tests.conftest import Loaded

OPERATIONS = (*GraphOperations.OPERATIONS, *CacheOperations.OPERATIONS)
DAY = timedelta(days=1)


# --- declared paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("adapter", CONTRACT)
def test_paths_declare_exactly_the_hooks_an_adapter_overrides(adapter: str, dialect: str) -> None:
    """native or plugin where the adapter's class has the operation's hook, raw SQL where it inherits the
    workload's SQL; the baseline's SQL is its own API, so all of it is native."""
    cls = adapter_class(adapter)
    url = "sqlite:///declared.sqlite" if dialect == "sqlite" else "postgresql://u@localhost/declared"
    paths = cls(DatabaseConfig(url)).capabilities.paths  # no I/O before connect()
    assert set(OPERATIONS) <= set(paths)
    for operation in OPERATIONS:
        path = paths[operation]
        assert path.note, (adapter, operation)
        own = f"_{operation}" in vars(cls)
        if BY_NAME[adapter].baseline:
            assert path.kind == "native", operation
        else:
            assert path.kind == ("native" if own else "raw SQL") or (own and path.kind == "plugin"), operation


# --- graph --------------------------------------------------------------------------------------------


async def test_neighbourhoods_match_a_breadth_first_search(db: Loaded) -> None:
    p, data = db.provider, db.dataset
    for start, depth in itertools.product(range(1, len(data.users) + 1), (1, 2, 3)):
        assert await p.neighbourhood(start, depth) == within(data, start, depth), (start, depth)


async def test_reachability_and_shortest_paths_match_a_breadth_first_search(db: Loaded) -> None:
    p, data = db.provider, db.dataset
    answers: dict[bool, int] = {True: 0, False: 0}
    for source, target in itertools.permutations(range(1, len(data.users) + 1), 2):
        hops = hops_from(data, source).get(target)
        for depth in (1, 2, 4):
            expected = hops is not None and hops <= depth
            assert await p.reachable(source, target, depth) is expected, (source, target, depth)
            assert await p.shortest_path_length(source, target, depth) == (hops if expected else None)
            answers[expected] += 1
    assert answers[True] and answers[False]  # the dataset has paths and pairs without one


async def test_friends_of_friends_leave_out_self_and_direct_follows(db: Loaded) -> None:
    p, data = db.provider, db.dataset
    found = {user: await p.friends_of_friends(user) for user in range(1, len(data.users) + 1)}
    assert found == {user: friends_of_friends_of(data, user) for user in found}
    assert any(found.values())


async def test_a_user_without_edges_reaches_nobody(db: Loaded) -> None:
    p = db.provider
    assert await p.neighbourhood(10_000, 3) == []
    assert await p.friends_of_friends(10_000) == []
    assert await p.reachable(10_000, 1, 3) is False
    assert await p.shortest_path_length(10_000, 1, 3) is None


async def test_each_traversal_is_one_statement(db: Loaded) -> None:
    p = db.provider
    async with capture() as plain:
        await p.count(p.models.User)
    for call in (p.neighbourhood(1, 3), p.reachable(1, 3, 3), p.shortest_path_length(1, 3, 3), p.friends_of_friends(1)):
        async with capture() as log:
            await call
        assert log.queries == plain.queries, [s.sql for s in log.statements]


@pytest.mark.parametrize(
    ("operation", "arguments", "message"),
    [
        ("neighbourhood", (1, 0), "depth must be an integer >= 1"),
        ("neighbourhood", (0, 2), "start must be a user id"),
        ("neighbourhood", (True, 2), "start must be a user id"),
        ("reachable", (1, 1, 3), "source and target are the same user"),
        ("shortest_path_length", (1, 2, -1), "max_depth must be an integer >= 1"),
        ("friends_of_friends", ("1",), "user must be a user id"),
    ],
)
async def test_graph_operations_refuse_bad_input_before_any_statement(
    db: Loaded, operation: str, arguments: tuple[Any, ...], message: str
) -> None:
    async with capture() as log:
        with pytest.raises(InvalidArgument, match=message):
            await getattr(db.provider, operation)(*arguments)
    assert log.statements == []


# --- cache --------------------------------------------------------------------------------------------


async def test_cache_get_reads_live_entries_only(db: Loaded) -> None:
    p, data = db.provider, db.dataset
    assert live(data) and expired(data)
    for entry in data.cache_entries:
        expected = entry["value"] if entry["ttl"] > timedelta(0) else None
        assert await p.cache_get(entry["key"]) == expected, entry["key"]
    assert await p.cache_get("no such key") is None


async def test_cache_get_many_gives_the_live_entries_among_the_keys(db: Loaded) -> None:
    p, data = db.provider, db.dataset
    keys = [e["key"] for e in data.cache_entries] + ["no such key"]
    assert await p.cache_get_many(keys) == {e["key"]: e["value"] for e in live(data)}
    assert await p.cache_get_many([]) == {}


async def test_cache_upsert_inserts_and_replaces_in_one_statement(fresh: Loaded) -> None:
    p, data = fresh.provider, fresh.dataset
    async with capture() as plain:
        await p.cache_get("a key")
    stale, current = expired(data)[0], live(data)[0]
    for key in ("a new key", stale["key"], current["key"]):
        async with capture() as log:
            await p.cache_upsert(key, f"new value of {key}", DAY)
        assert log.queries == plain.queries, [s.sql for s in log.statements]
        assert await p.cache_get(key) == f"new value of {key}"
    assert await p.count(p.models.CacheEntry) == len(data.cache_entries) + 1


async def test_cache_upsert_many_writes_every_entry_in_one_statement(fresh: Loaded) -> None:
    """One statement: a multi-row INSERT, or an executemany, which sqlite3 reports row by row."""
    p, data = fresh.provider, fresh.dataset
    async with capture() as plain:
        await p.cache_get("a key")
    items = [CacheItem(e["key"], f"v{n}", DAY) for n, e in enumerate(data.cache_entries[:10])]
    items += [CacheItem(f"new:{n}", f"w{n}", DAY) for n in range(5)]
    async with capture() as log:
        assert await p.cache_upsert_many(items) == len(items)
    assert log.queries in (plain.queries, len(items)), [s.sql for s in log.statements]
    assert await p.cache_get_many([item.key for item in items]) == {item.key: item.value for item in items}
    assert await p.count(p.models.CacheEntry) == len(data.cache_entries) + 5
    assert await p.cache_upsert_many([]) == 0


async def test_cache_delete_and_sweep_count_what_they_remove(fresh: Loaded) -> None:
    p, data = fresh.provider, fresh.dataset
    gone = [live(data)[0]["key"], expired(data)[0]["key"], "no such key"]
    assert await p.cache_delete(gone) == 2
    assert await p.cache_get(gone[0]) is None
    assert await p.cache_sweep() == len(expired(data)) - 1
    assert await p.count(p.models.CacheEntry) == len(live(data)) - 1
    assert await p.cache_sweep() == 0
    assert await p.cache_delete([]) == 0


@pytest.mark.parametrize(
    ("operation", "arguments", "message"),
    [
        ("cache_upsert", ("", "v", DAY), "a cache key must be a string of 1 to 255 characters"),
        ("cache_upsert", ("k" * 256, "v", DAY), "a cache key must be a string of 1 to 255 characters"),
        ("cache_upsert", ("k", b"v", DAY), "the value of cache key 'k' must be a string"),
        ("cache_upsert", ("k", "v", timedelta(0)), "the ttl of cache key 'k' must be a positive timedelta"),
        ("cache_upsert_many", ([("k", "v", DAY), ("k", "w", DAY)],), "given a key twice"),
        ("cache_get", (3,), "a cache key must be a string"),
        ("cache_delete", (["k", None],), "a cache key must be a string"),
    ],
)
async def test_cache_operations_refuse_bad_input_before_any_statement(
    db: Loaded, operation: str, arguments: tuple[Any, ...], message: str
) -> None:
    async with capture() as log:
        with pytest.raises(InvalidArgument, match=message):
            await getattr(db.provider, operation)(*arguments)
    assert log.statements == []
