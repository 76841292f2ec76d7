"""Redis, the seed's own choice for the CACHE tier (`create_provider('redis', DatabaseType.CACHE)`): a reference line.

Not an adapter of the contract and not an ORM: a `BaseRawProvider` (the seed's raw driver interface) on redis-py's
asyncio client, which implements the cache operations (harness/core/workloads/cache.py) with Redis's own commands.
It runs only the cache scenarios its declaration names (harness/core/adapters.py), shown next to the ORMs for scale,
never ranked or recommended. An entry is a Redis string whose expiry Redis keeps (PX, milliseconds):
    cache_upsert: SET key value PX ttl, one command (SET replaces a key whatever it held).
    cache_upsert_many: the SETs in one MULTI/EXEC pipeline: one round trip, applied all together, as one statement.
    cache_get, cache_get_many: GET, MGET; Redis never returns an expired key.
    cache_delete: DEL keys; it counts the keys that were live (an expired key is gone for Redis already, while the
        SQL cache_entries still holds its row until a sweep).
    cache_sweep: unavailable. Redis removes expired keys itself, when they are read and in its background cycle, so
        there is nothing to call and nothing comparable to time (`capabilities.paths` says so).
`execute(query, params)` is the seed's raw path: the words of a command line, each `:name` word replaced by its
value as one argument of the command (Redis's protocol sends arguments apart, so nothing is interpolated):
`await redis.execute("SET :key :value PX :ms", {...})`.
Connections: a `BlockingConnectionPool` of `pool_max` connections, so callers wait for a free one as the SQL pools
make them (redis-py's default pool would fail when all are busy), at most `pool_timeout` seconds (None: forever).
SQL statement counts (harness/core/statements.py) see no Redis command: they read 0 here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from harness.core.config import DatabaseConfig
from harness.core.contract import BaseRawProvider, Capabilities, OperationPath
from harness.core.errors import ConfigurationError, ConnectionFailed, OperationUnavailable, PoolTimeout, redact
from harness.core.sql import check_parameters
from harness.core.workloads.cache import CacheItem, CacheOperations
from harness.core.workloads.graph import GraphOperations

_PARAMETER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_CACHE_ONLY = "A reference store of the CACHE tier: it runs the cache scenarios only."
_NO_SWEEP = (
    "Redis removes expired keys itself (on access and in its background expiry cycle): there is no sweep to call."
)
PATHS = {
    "cache_upsert": OperationPath("native", "SET key value PX ttl: one command."),
    "cache_upsert_many": OperationPath("native", "SET ... PX for each entry in one MULTI/EXEC pipeline."),
    "cache_get": OperationPath("native", "GET key; Redis never returns an expired key."),
    "cache_get_many": OperationPath("native", "MGET keys."),
    "cache_delete": OperationPath("native", "DEL keys; it counts the live keys only."),
    "cache_sweep": OperationPath("unavailable", _NO_SWEEP),
    **{
        operation: OperationPath(
            "unavailable", "A reference store of the CACHE tier: it runs the cache scenarios only."
        )
        for operation in GraphOperations.OPERATIONS
    },
}


class RedisProvider(BaseRawProvider, CacheOperations):
    name = "redis"

    def __init__(self, config: DatabaseConfig) -> None:
        if config.dialect != "redis":
            raise ConfigurationError(
                f"the redis provider needs a redis:// URL (CACHE_REDIS_URL), got {config.redacted_url}"
            )
        super().__init__(config)
        self.capabilities = Capabilities(
            connection_model="pool",
            row_locks=False,
            notes=(
                "A reference line: Redis, the seed's cache choice, for scale; not an ORM, never ranked or recommended.",
                "redis-py's asyncio client on a BlockingConnectionPool of pool_max connections: callers wait for one.",
                "SQL statement counts see no Redis command: 0 here.",
                "Not applied: pool_min (redis-py opens connections on demand), echo (no SQL to log).",
            ),
            paths=PATHS,
        )
        self._client: aioredis.Redis | None = None

    @property
    def _connected_client(self) -> aioredis.Redis:
        if self._client is None:
            raise ConnectionFailed(f"{self.name} provider for {self.config.redacted_url} is not connected")
        return self._client

    async def _connect(self) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(
            self.config.url,
            max_connections=self.config.pool_max,
            timeout=self.config.pool_timeout,
            decode_responses=True,
        )
        self._client = aioredis.Redis(connection_pool=pool)
        try:
            with _translated():
                await self._client.ping()
        except BaseException:
            await self._disconnect()
            raise

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose(close_connection_pool=True)

    async def _ping(self) -> None:
        with _translated():
            await self._connected_client.ping()

    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> Any:
        params = params or {}
        check_parameters(query, params)
        words = [params[m.group(1)] if (m := _PARAMETER.fullmatch(word)) else word for word in query.split()]
        with _translated():
            return await self._connected_client.execute_command(*words)

    async def server_version(self) -> str:
        """`Redis <version>`, from INFO server."""
        with _translated():
            info = await self._connected_client.info("server")
        return f"Redis {info['redis_version']}"

    async def flush(self) -> None:
        """Empty the database (FLUSHDB): a fresh store for the benchmark's data."""
        with _translated():
            await self._connected_client.flushdb()

    # Cache operations (the clock argument is unused: Redis expires keys by its own clock, as the TTL says).

    async def _cache_upsert(self, item: CacheItem, clock: datetime) -> None:
        with _translated():
            await self._connected_client.set(item.key, item.value, px=item.ttl)

    async def _cache_upsert_many(self, items: list[CacheItem], clock: datetime) -> None:
        with _translated():
            async with self._connected_client.pipeline(transaction=True) as pipeline:
                for key, value, ttl in items:
                    pipeline.set(key, value, px=ttl)
                await pipeline.execute()

    # decode_responses=True: replies are str, where redis-py's annotations say bytes or str.

    async def _cache_get(self, key: str, clock: datetime) -> str | None:
        with _translated():
            return cast(str | None, await self._connected_client.get(key))

    async def _cache_get_many(self, keys: list[str], clock: datetime) -> dict[str, str]:
        with _translated():
            values = cast(list[str | None], await self._connected_client.mget(keys))
        return {key: value for key, value in zip(keys, values, strict=True) if value is not None}

    async def _cache_delete(self, keys: list[str]) -> int:
        with _translated():
            return await self._connected_client.delete(*keys)

    async def _cache_sweep(self, clock: datetime) -> int:
        raise OperationUnavailable(f"cache_sweep on redis: {_NO_SWEEP}")


@contextmanager
def _translated() -> Iterator[None]:
    """redis-py's connection errors as the harness's own (they are not OSErrors, which translate() knows); the
    blocking pool's wait running out is a PoolTimeout."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        if "No connection available" in str(exc):
            raise PoolTimeout(f"no connection of the Redis pool came free in time: {exc}") from exc
        raise ConnectionFailed(redact(f"Redis: {type(exc).__name__}: {exc}")) from exc
