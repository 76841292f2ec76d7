"""The Redis reference store of the CACHE tier: its raw provider on a throwaway redis-server, and that server.

Skipped without redis-server (apt-get install redis-server), a failure under CI (CI=true), as the PostgreSQL half is.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from backends.redis.provider import PATHS, RedisProvider
from harness.core.adapters import BY_NAME
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseRawProvider
from harness.core.dataset import DatasetSize, generate, load_cache
from harness.core.errors import (
    ConfigurationError,
    ConnectionFailed,
    InvalidArgument,
    OperationUnavailable,
    ParameterMismatch,
)
from harness.core.factory import DatabaseFactory, DatabaseType
from harness.core.workloads.cache import CacheItem, CacheOperations
from harness.core.workloads.graph import GraphOperations
from harness.databases.ownership import OWNER_FILE, reap_dead
from harness.databases.redisserver import PREFIX, ThrowawayRedis, find_server, stop_recorded_server
from scenarios import CATALOGUE

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayRedis]:
    if find_server() is None:
        reason = "no redis-server on PATH or in /usr/bin (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs redis-server: {reason}")
        pytest.skip(reason)
    server = ThrowawayRedis.start_new()
    yield server
    server.stop()


@pytest.fixture
def redis_declared() -> RedisProvider:
    """A provider not connected: its declarations need no server."""
    return RedisProvider(DatabaseConfig("redis://127.0.0.1/0"))


@pytest.fixture
async def redis(server: ThrowawayRedis) -> AsyncIterator[RedisProvider]:
    provider = RedisProvider(DatabaseConfig(server.url(1), pool_min=2, pool_max=4))
    await provider.connect()
    await provider.execute("FLUSHDB")
    yield provider
    await provider.disconnect()


async def test_the_factory_builds_the_seeds_cache_provider(
    server: ThrowawayRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CACHE_REDIS_URL", server.url(2))
    await DatabaseFactory.close_all()
    try:
        cache = DatabaseFactory.create_provider("redis", DatabaseType.CACHE)
        assert isinstance(cache, BaseRawProvider) and isinstance(cache, RedisProvider)
        await cache.connect()
        assert await cache.health_check() and (await cache.server_version()).startswith("Redis 7")
    finally:
        await DatabaseFactory.close_all()


def test_a_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"needs a redis:// URL \(CACHE_REDIS_URL\)"):
        RedisProvider(DatabaseConfig("sqlite:///cache.sqlite"))
    with pytest.raises(ConfigurationError, match="the path is a database number"):
        DatabaseConfig("redis://127.0.0.1/cache")


async def test_an_unreachable_server_is_a_connection_error() -> None:
    provider = RedisProvider(DatabaseConfig("redis://:s3cret@127.0.0.1:9/0"))
    with pytest.raises(ConnectionFailed) as raised:
        await asyncio.wait_for(provider.connect(), 30)
    assert "s3cret" not in str(raised.value) and not provider.is_connected


def test_paths_declare_the_cache_operations_and_why_the_rest_is_unavailable() -> None:
    paths = RedisProvider(DatabaseConfig("redis://127.0.0.1/0")).capabilities.paths
    assert sorted(paths) == sorted((*GraphOperations.OPERATIONS, *CacheOperations.OPERATIONS))
    unavailable = {operation for operation, path in paths.items() if path.kind == "unavailable"}
    assert unavailable == {*GraphOperations.OPERATIONS, "cache_sweep"}
    assert all(f"_{operation}" in vars(RedisProvider) for operation in CacheOperations.OPERATIONS)
    assert BY_NAME["redis"].runs("cache") and not BY_NAME["redis"].runs("graph") and not BY_NAME["redis"].runs("crud")


async def test_upsert_get_and_delete(redis: RedisProvider) -> None:
    await redis.cache_upsert("a", "one", DAY)
    await redis.cache_upsert("a", "two", DAY)
    assert await redis.cache_get("a") == "two" and await redis.cache_get("b") is None
    assert await redis.cache_upsert_many([CacheItem("b", "x", DAY), CacheItem("c", "y", DAY)]) == 2
    assert await redis.cache_get_many(["a", "b", "c", "d"]) == {"a": "two", "b": "x", "c": "y"}
    assert await redis.cache_delete(["a", "b", "d"]) == 2
    assert await redis.cache_get_many(["a", "b", "c"]) == {"c": "y"}


def test_the_sweep_is_skipped_on_redis_with_the_reason_and_only_the_sweep(redis_declared: RedisProvider) -> None:
    cache = [s for s in CATALOGUE.values() if s.family == "cache"]
    reasons = {s.id: s.unavailable(redis_declared) for s in cache}
    assert reasons.pop("cache_sweep") == f"redis on redis has no cache_sweep: {PATHS['cache_sweep'].note}"
    assert set(reasons.values()) == {None}


async def test_redis_expires_the_entries_itself(redis: RedisProvider) -> None:
    await redis.cache_upsert("brief", "gone soon", timedelta(milliseconds=50))
    assert await redis.cache_get("brief") == "gone soon"
    await asyncio.sleep(0.15)
    assert await redis.cache_get("brief") is None
    assert await redis.cache_delete(["brief"]) == 0  # an expired key is gone for Redis already
    with pytest.raises(OperationUnavailable, match="Redis removes expired keys itself"):
        await redis.cache_sweep()


async def test_the_reference_holds_the_live_entries_of_the_dataset(redis: RedisProvider) -> None:
    data = generate(DatasetSize(cache_entries=30))
    await load_cache(redis, data)
    live = {e["key"]: e["value"] for e in data.cache_entries if e["ttl"] > timedelta(0)}
    assert len(live) < len(data.cache_entries)
    assert await redis.cache_get_many([e["key"] for e in data.cache_entries]) == live
    assert await redis.execute("DBSIZE") == len(live)


async def test_execute_sends_each_parameter_as_one_argument(redis: RedisProvider) -> None:
    value = "two words; DEL everything"
    assert await redis.execute("SET :key :value PX :ms", {"key": "k", "value": value, "ms": 60_000}) is True
    assert await redis.execute("GET :key", {"key": "k"}) == value
    assert 0 < await redis.execute("PTTL :key", {"key": "k"}) <= 60_000
    with pytest.raises(ParameterMismatch):
        await redis.execute("GET :key", {"name": "k"})


async def test_bad_input_is_refused_before_any_command(redis: RedisProvider) -> None:
    with pytest.raises(InvalidArgument, match="positive timedelta"):
        await redis.cache_upsert("k", "v", timedelta(0))
    with pytest.raises(InvalidArgument, match="given a key twice"):
        await redis.cache_upsert_many([CacheItem("k", "v", DAY), CacheItem("k", "w", DAY)])
    assert await redis.execute("DBSIZE") == 0


def test_stop_ends_the_server_and_removes_its_directory() -> None:
    if find_server() is None:
        pytest.skip("no redis-server")
    server = ThrowawayRedis.start_new()
    process = server.process
    assert process is not None and server.directory.is_dir()
    server.stop()
    assert process.poll() is not None and not server.directory.exists()
    server.stop()  # twice is fine


def test_the_server_of_a_killed_run_is_stopped_by_the_next() -> None:
    if find_server() is None:
        pytest.skip("no redis-server")
    server = ThrowawayRedis.start_new()
    process = server.process
    assert process is not None
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = (server.directory / OWNER_FILE).read_text().rsplit("@", 1)[0]
    (server.directory / OWNER_FILE).write_text(f"{owner}@{dead.stdout.strip()}:0\n")  # an owner that has died
    try:
        assert server.directory in reap_dead(PREFIX, stop_recorded_server)
        assert process.wait(timeout=10) is not None and not server.directory.exists()
    finally:
        server.stop()
