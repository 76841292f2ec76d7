"""The benchmarks' databases: per target, one fresh database per adapter with the dataset loaded once.

`Workloads(target, dataset, pool)` (pool: the pool settings every provider gets, e.g. `{"pool_size": 10}` or a
tier's, `harness.core.factory.tier_settings`) creates them on first use (`await workloads.get("tortoise")`) and
keeps them for the session; `close()` disconnects every provider (the target removes the databases). A scenario
that changes the schema (`Scenario.prepare`) gets a database of its own instead (`own`, then `release`). A
reference store (harness/core/adapters.py) is no database of the target: `reference("redis")` starts a throwaway
redis-server of this target's own (harness/databases/redisserver.py), stopped by `close()`, with the dataset's
live cache entries in it, and its benchmarks are shown with the target's.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from harness.bench.environment import database_facts, versions
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseDatabaseProvider, BaseORMProvider, BaseRawProvider
from harness.core.dataset import Dataset, load, load_cache
from harness.core.errors import ConfigurationError
from harness.core.factory import adapter_class, provider_class
from harness.core.workloads.cache import CacheOperations
from harness.databases.redisserver import ThrowawayRedis
from harness.databases.targets import SqliteTarget, Target
from scenarios.base import Scenario

RAM_DIRECTORY = Path("/dev/shm")


def sqlite_target_in_ram() -> SqliteTarget:
    """A SQLite target on a RAM file system where there is one (Linux's /dev/shm), else in the temp directory.

    Every commit of SQLite's default journal waits for fsync: on this machine's disk that is milliseconds, more
    than the ORM's work being measured, and it varies with the disk. In RAM it costs nothing, as on the
    throwaway PostgreSQL cluster, which runs with fsync=off. The directory is recorded with the run."""
    parent = RAM_DIRECTORY if RAM_DIRECTORY.is_dir() else None
    return SqliteTarget(Path(tempfile.mkdtemp(prefix="orm-harness-bench-", dir=parent)))


P = TypeVar("P", bound=BaseDatabaseProvider)


@dataclass
class Workload(Generic[P]):
    """A connected provider holding the benchmark dataset (a reference store: the part its scenarios use)."""

    adapter: str
    database: str
    provider: P
    dataset: Dataset
    versions: dict[str, str | None]


@dataclass
class Workloads:
    """The loaded databases of one target (`sqlite`, the throwaway cluster, or a server URL)."""

    target: Target
    dataset: Dataset
    pool: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each loaded adapter's declared `Capabilities` on this target, recorded with the run for the report."""
    _loaded: dict[str, Workload[BaseORMProvider]] = field(default_factory=dict)
    _references: dict[str, Workload[BaseRawProvider]] = field(default_factory=dict)
    _redis: ThrowawayRedis | None = None

    @property
    def dialect(self) -> str:
        return self.target.dialect

    async def get(self, adapter: str) -> Workload[BaseORMProvider]:
        """The adapter's loaded database on this target, created and loaded on first use."""
        if adapter not in self._loaded:
            self._loaded[adapter] = await self._load(adapter)
        return self._loaded[adapter]

    async def own(self, adapter: str, scenario: Scenario, size: int) -> Workload[BaseORMProvider]:
        """A database of the scenario's own for the adapter, at head, filled by `scenario.prepare(p, size)`
        (not the dataset); `release` it after the benchmark."""
        if scenario.prepare is None:
            raise ValueError(f"scenario {scenario.id} runs on the dataset's database, not on one of its own")
        return await self._open(adapter, f"bench_{adapter}_{scenario.id}", partial(scenario.prepare, size=size))

    async def release(self, workload: Workload[BaseORMProvider]) -> None:
        """Disconnect a scenario's own database; the target removes it when it closes."""
        await workload.provider.disconnect()

    async def _load(self, adapter: str) -> Workload[BaseORMProvider]:
        return await self._open(adapter, f"bench_{adapter}", partial(load, dataset=self.dataset))

    async def _open(
        self, adapter: str, name: str, fill: Callable[[BaseORMProvider], Awaitable[None]]
    ) -> Workload[BaseORMProvider]:
        """A fresh database `name` at head through the adapter's migrate, filled by `fill(provider)`."""
        url = await self.target.new_database(name)
        config = DatabaseConfig.from_mapping({"url": url, **self.pool})
        provider = adapter_class(adapter)(config)
        await provider.connect()
        try:
            await provider.create_schema()
            await fill(provider)
            if not self.facts:
                self.facts = await database_facts(
                    self.dialect, config.postgres_dsn if self.dialect != "sqlite" else None
                )
        except BaseException:
            await provider.disconnect()
            raise
        self.capabilities[adapter] = asdict(provider.capabilities)
        return Workload(
            adapter, self.dialect, provider, self.dataset, versions(adapter, self.dialect, self.facts["server"])
        )

    async def reference(self, adapter: str) -> Workload[BaseRawProvider]:
        """The reference store `adapter` on a throwaway server of this target's own, started on first use, holding
        the dataset's live cache entries."""
        if adapter not in self._references:
            self._references[adapter] = await self._open_reference(adapter)
        return self._references[adapter]

    async def _open_reference(self, adapter: str) -> Workload[BaseRawProvider]:
        if self._redis is None:
            self._redis = await asyncio.to_thread(ThrowawayRedis.start_new)
        provider = provider_class(adapter)(DatabaseConfig.from_mapping({"url": self._redis.url(), **self.pool}))
        if not isinstance(provider, BaseRawProvider) or not isinstance(provider, CacheOperations):
            raise ConfigurationError(f"{adapter!r} is not a reference store of the CACHE tier")
        await provider.connect()
        try:
            await load_cache(provider, self.dataset)
            server = await provider.server_version()
        except BaseException:
            await provider.disconnect()
            raise
        self.capabilities[adapter] = asdict(provider.capabilities)
        return Workload(adapter, self.dialect, provider, self.dataset, versions(adapter, "redis", server))

    async def close(self) -> None:
        providers: list[BaseDatabaseProvider] = [w.provider for w in self._loaded.values()]
        for provider in [*providers, *(w.provider for w in self._references.values())]:
            await provider.disconnect()
        self._loaded.clear()
        self._references.clear()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
