"""Tiers, the adapter lookup and the provider factory.

The adapters are declared in harness/core/adapters.py (`REGISTRY`); `provider_class` imports one only when asked
for, so an adapter whose ORM is not installed breaks nothing but itself, with a message naming the package to
install. `adapter_class` is the same for the adapters of the contract (an ORM or the baseline), whose providers are
`BaseORMProvider`s; the factory builds a reference store's raw provider too (`create_provider('redis', 'CACHE')`).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from harness.core.adapters import BY_NAME, Adapter
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseDatabaseProvider, BaseORMProvider
from harness.core.errors import ConfigurationError

RESULTS_DIR = Path("results")
"""Runs, comparisons and the factory's fallback SQLite files: `results/` of the current directory (relative, so
resolved where it is used), wherever the package is installed."""


class DatabaseType(StrEnum):
    """Database tiers for different application concerns."""

    PRIMARY = "PRIMARY"
    USERS = "USERS"
    AUDIT = "AUDIT"
    CACHE = "CACHE"
    EMBEDDINGS = "EMBEDDINGS"
    GRAPH = "GRAPH"


TIER_POOL_SIZES: dict[DatabaseType, int] = {
    DatabaseType.PRIMARY: 10,
    DatabaseType.USERS: 5,
    DatabaseType.AUDIT: 3,
    DatabaseType.CACHE: 20,
    DatabaseType.EMBEDDINGS: 5,
    DatabaseType.GRAPH: 5,
}
"""Default pool size per tier when the configuration gives none, the seed interface's (min = max: a pool of fixed size,
unless `max_overflow` or `pool_max` says otherwise)."""


def adapter_class(name: str) -> type[BaseORMProvider]:
    """The provider class of `name`, an adapter of the contract (an ORM or the baseline), imported on first use."""
    cls = provider_class(name)
    if not issubclass(cls, BaseORMProvider):
        raise ConfigurationError(f"{name!r} is a reference store, not an adapter of the provider contract")
    return cls


def provider_class(name: str) -> type[BaseDatabaseProvider]:
    """Import the provider of adapter `name` (an adapter of the contract or a reference store) on first use."""
    module_name, class_name = _adapter(name).target.split(":")
    return getattr(_import(name, module_name), class_name)


def adapter_controls(name: str) -> ModuleType:
    """The adapter's controls for the adapter tax (`Adapter.controls`), imported on first use."""
    return _import(name, _adapter(name).controls)


def _adapter(name: str) -> Adapter:
    if name not in BY_NAME:
        raise ConfigurationError(f"unknown adapter {name!r}: choose one of {', '.join(BY_NAME)}")
    return BY_NAME[name]


def _import(name: str, module_name: str) -> ModuleType:
    """A module of the adapter `name`; a missing ORM or driver is one line naming what to install."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("backends", "harness"):
            raise
        package = (exc.name or "?").split(".")[0]
        raise ConfigurationError(
            f"adapter {name!r} needs the package {package!r}: pip install '{BY_NAME[name].requirement}'"
        ) from None


def default_url(orm: str, tier: DatabaseType) -> str:
    """`{TIER}_{ORM}_URL`, then `HARNESS_DATABASE_URL`, then a SQLite file under the current directory's results/."""
    for variable in (f"{tier.value}_{orm.upper()}_URL", "HARNESS_DATABASE_URL"):
        if url := os.environ.get(variable):
            return url
    RESULTS_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{RESULTS_DIR.resolve() / f'{tier.value.lower()}_{orm}.sqlite'}"


def tier_settings(tier: DatabaseType | str) -> dict[str, Any]:
    """The pool configuration a tier's providers get when their configuration gives none."""
    return {"pool_size": TIER_POOL_SIZES[_tier(tier)]}


class DatabaseFactory:
    """Builds one provider per (orm, tier) and hands the same instance to every later caller."""

    _instances: ClassVar[dict[tuple[str, DatabaseType], BaseDatabaseProvider]] = {}
    _lock = threading.Lock()

    @classmethod
    def create_provider(
        cls, orm: str, tier: DatabaseType | str, config: Mapping[str, Any] | None = None
    ) -> BaseDatabaseProvider:
        """The provider for `orm` on `tier`, created on first call (not yet connected).

        `config` is `{"url": ..., "pool_size": ..., "max_overflow": ..., "pool_timeout": ..., "echo": ...}`
        (`DatabaseConfig.from_mapping` says what each key does, `pool_min`/`pool_max` included); without it the
        URL comes from the environment (see `default_url`), and without a size the pool is the tier's. Asking
        again with a different config is an error rather than a silent switch of database. A
        threading lock makes creation safe from threads and from asyncio tasks alike (creation does no
        I/O, so the lock is never held across an await).
        """
        tier = _tier(tier)
        key = (orm, tier)
        settings = {**tier_settings(tier), **(config or {})}
        settings.setdefault("url", default_url(orm, tier))
        wanted = DatabaseConfig.from_mapping(settings)
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = provider_class(orm)(wanted)
            provider = cls._instances[key]
        if config is not None and provider.config != wanted:
            raise ConfigurationError(
                f"the {orm} provider of tier {tier.value} already uses {provider.config.redacted_url}: "
                "await DatabaseFactory.close_all() before configuring it anew"
            )
        return provider

    @classmethod
    async def close_all(cls) -> None:
        """Disconnect and forget every cached provider."""
        with cls._lock:
            providers, cls._instances = list(cls._instances.values()), {}
        for provider in providers:
            await provider.disconnect()


class DatabaseProviderBuilder:
    """Fluent construction: `DatabaseProviderBuilder().with_provider("tortoise").with_tier(...).build()`."""

    def __init__(self) -> None:
        self._orm: str | None = None
        self._tier: DatabaseType | None = None
        self._config: dict[str, Any] = {}

    def with_provider(self, orm: str) -> DatabaseProviderBuilder:
        self._orm = orm
        return self

    def with_tier(self, tier: DatabaseType | str) -> DatabaseProviderBuilder:
        self._tier = _tier(tier)
        return self

    def with_config(self, config: Mapping[str, Any]) -> DatabaseProviderBuilder:
        self._config.update(config)
        return self

    def build(self) -> BaseDatabaseProvider:
        if self._orm is None or self._tier is None:
            raise ConfigurationError("DatabaseProviderBuilder needs with_provider(...) and with_tier(...)")
        return DatabaseFactory.create_provider(self._orm, self._tier, self._config or None)


def _tier(tier: DatabaseType | str) -> DatabaseType:
    try:
        return DatabaseType(tier.upper() if isinstance(tier, str) else tier)
    except ValueError:
        known = ", ".join(t.value for t in DatabaseType)
        raise ConfigurationError(f"unknown tier {tier!r}: choose one of {known}") from None
