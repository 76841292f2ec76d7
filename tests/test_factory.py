"""The factory: adapters by name, databases by URL, one cached provider per (orm, tier), lazy imports."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness.core.adapters import BY_NAME, CONTRACT, REGISTRY
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.errors import ConfigurationError, ConnectionFailed, PoolTimeout
from harness.core.factory import (
    TIER_POOL_SIZES,
    DatabaseFactory,
    DatabaseProviderBuilder,
    DatabaseType,
    adapter_class,
    provider_class,
)
from harness.databases.targets import PostgresTarget, SqliteTarget


@pytest.fixture(autouse=True)
async def clean_factory() -> AsyncIterator[None]:
    await DatabaseFactory.close_all()
    yield
    await DatabaseFactory.close_all()


async def same_answers(url: str) -> dict[str, tuple]:
    """Build each adapter through the factory on `url` (one database each) and ask the same questions."""
    answers = {}
    for adapter in CONTRACT:
        provider = DatabaseFactory.create_provider(adapter, DatabaseType.PRIMARY, {"url": url.format(adapter=adapter)})
        assert isinstance(provider, BaseORMProvider)
        await provider.connect()
        await provider.drop_schema()
        await provider.create_schema()
        user = await provider.create(provider.models.User, {"username": "ada", "email": "ada@example.org"})
        await provider.create_many(
            provider.models.Task, [{"user_id": user.id, "title": f"t{i}", "priority": i % 6} for i in range(10)]
        )
        loaded = await provider.get_with_relations(provider.models.User, {"id": user.id}, ["tasks"])
        assert loaded is not None
        answers[adapter] = (
            await provider.count(provider.models.Task, {"priority__gte": 3}),
            tuple(t.title for t in await provider.get_many(provider.models.Task, order_by="-priority", limit=3)),
            tuple(sorted(t.title for t in loaded.tasks)),
            await provider.health_check(),
        )
        await provider.drop_schema()
    return answers


async def test_every_adapter_on_sqlite_gives_the_same_answers(sqlite_target: SqliteTarget) -> None:
    answers = await same_answers(f"sqlite:///{sqlite_target.directory}/factory_{{adapter}}.sqlite")
    assert len(set(answers.values())) == 1, answers


@pytest.mark.postgresql
async def test_every_adapter_on_postgresql_gives_the_same_answers(postgresql_target: PostgresTarget) -> None:
    for adapter in CONTRACT:
        await postgresql_target.new_database(f"factory_{adapter}")
    answers = await same_answers(postgresql_target.server_url.rsplit("/", 1)[0] + "/orm_harness_factory_{adapter}")
    assert len(set(answers.values())) == 1, answers


async def test_one_instance_per_orm_and_tier_across_threads_and_tasks(sqlite_target: SqliteTarget) -> None:
    config = {"url": f"sqlite:///{sqlite_target.directory}/cached.sqlite"}
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(DatabaseFactory.create_provider("raw", "USERS", config)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen += await asyncio.gather(
        *(asyncio.to_thread(DatabaseFactory.create_provider, "raw", DatabaseType.USERS, config) for _ in range(8))
    )
    assert len({id(p) for p in seen}) == 1
    assert DatabaseFactory.create_provider("raw", DatabaseType.AUDIT, config) is not seen[0]
    with pytest.raises(ConfigurationError, match="already uses"):
        DatabaseFactory.create_provider("raw", "USERS", {"url": "sqlite:///elsewhere.sqlite"})


def test_tier_pool_sizes_and_builder(sqlite_target: SqliteTarget) -> None:
    url = f"sqlite:///{sqlite_target.directory}/built.sqlite"
    cache = DatabaseFactory.create_provider("raw", DatabaseType.CACHE, {"url": url})
    audit = (
        DatabaseProviderBuilder()
        .with_provider("raw")
        .with_tier("audit")
        .with_config({"url": url, "pool_max": 7})
        .build()
    )
    assert (cache.config.pool_min, cache.config.pool_max) == (20, 20)
    assert (audit.config.pool_min, audit.config.pool_max) == (3, 7)
    with pytest.raises(ConfigurationError, match="with_tier"):
        DatabaseProviderBuilder().with_provider("raw").build()


def test_url_comes_from_the_environment_then_a_sqlite_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPH_PICCOLO_URL", "postgresql://u:pw@db.example/graph")
    monkeypatch.setenv("HARNESS_DATABASE_URL", "sqlite:///shared.sqlite")
    assert DatabaseFactory.create_provider("piccolo", "GRAPH").config.url == "postgresql://u:pw@db.example/graph"
    assert DatabaseFactory.create_provider("piccolo", "USERS").config.url == "sqlite:///shared.sqlite"
    monkeypatch.delenv("HARNESS_DATABASE_URL")
    assert DatabaseFactory.create_provider("raw", "EMBEDDINGS").config.url.endswith("results/embeddings_raw.sqlite")


@pytest.mark.parametrize(
    ("orm", "tier", "config", "message"),
    [
        ("mongo", "PRIMARY", None, "unknown adapter 'mongo': choose one of sqlalchemy, tortoise, piccolo, raw"),
        ("raw", "COLD", None, "unknown tier 'COLD'"),
        ("raw", "PRIMARY", {"url": "mysql://u:secret@h/db"}, "unsupported database URL 'mysql://u:***@h/db'"),
        ("raw", "PRIMARY", {"url": "sqlite:///:memory:"}, "needs a file path"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "pool_min": 5, "pool_max": 2}, "pool_min <= pool_max"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "pool": 5}, "unknown database configuration keys: pool"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "max_overflow": -1}, "max_overflow must be 0 or more"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "pool_max": 9, "max_overflow": 2}, "contradicts max_overflow"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "pool_timeout": 0}, "pool_timeout must be a positive"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "pool_timeout": "soon"}, "pool_timeout a number"),
        ("raw", "PRIMARY", {"url": "sqlite:///x.db", "echo": "yes"}, "echo must be true or false"),
    ],
)
def test_bad_configuration_is_one_clear_error(orm: str, tier: str, config: dict | None, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        DatabaseFactory.create_provider(orm, tier, config)
    assert message in str(raised.value) and "secret" not in str(raised.value)


def test_missing_orm_fails_only_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "piccolo" or n.startswith("piccolo.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "piccolo", None)
    monkeypatch.delitem(sys.modules, "backends.piccolo.provider", raising=False)
    with pytest.raises(ConfigurationError, match=r"needs the package 'piccolo': pip install 'orm-harness\[piccolo\]'"):
        adapter_class("piccolo")
    assert adapter_class("raw").name == "raw"


@pytest.mark.parametrize("adapter", CONTRACT)
async def test_unreachable_server_is_a_connection_error_without_password(adapter: str) -> None:
    provider = adapter_class(adapter)(DatabaseConfig("postgresql://bob:s3cret@127.0.0.1:9/nowhere", 1, 1))
    with pytest.raises(ConnectionFailed) as raised:
        await asyncio.wait_for(provider.connect(), 30)
    assert "s3cret" not in str(raised.value)
    assert provider.is_connected is False and await provider.health_check() is False


@pytest.mark.parametrize("adapter", CONTRACT)
async def test_connect_disconnect_cycle(adapter: str, sqlite_target: SqliteTarget) -> None:
    provider = adapter_class(adapter)(DatabaseConfig(f"sqlite:///{sqlite_target.directory}/cycle_{adapter}.sqlite"))
    async with provider.connection() as connected:
        assert connected.is_connected and await connected.health_check()
    await provider.disconnect()
    assert not provider.is_connected and not await provider.health_check()
    await provider.connect()
    await provider.create_schema()
    assert await provider.count(provider.models.User) == 0
    await provider.drop_schema()
    await provider.disconnect()


# --- the seed interface's tier sizes and config keys -----------------------------------------------------------

SEED_TIER_POOL_SIZES = {"PRIMARY": 10, "USERS": 5, "AUDIT": 3, "CACHE": 20, "EMBEDDINGS": 5, "GRAPH": 5}


def test_tier_pool_sizes_are_the_seeds(sqlite_target: SqliteTarget) -> None:
    assert {tier.value: size for tier, size in TIER_POOL_SIZES.items()} == SEED_TIER_POOL_SIZES
    url = f"sqlite:///{sqlite_target.directory}/tiers.sqlite"
    for tier, size in SEED_TIER_POOL_SIZES.items():
        config = DatabaseFactory.create_provider("raw", tier, {"url": url}).config
        assert (config.pool_min, config.pool_max, config.max_overflow) == (size, size, 0)


def test_the_seeds_config_keys_are_accepted(sqlite_target: SqliteTarget) -> None:
    url = f"sqlite:///{sqlite_target.directory}/seed_keys.sqlite"
    seed = {"url": url, "pool_size": 5, "max_overflow": 3, "pool_timeout": 2.5, "echo": True}
    config = DatabaseFactory.create_provider("sqlalchemy", DatabaseType.USERS, seed).config
    assert (config.pool_min, config.pool_max, config.max_overflow) == (5, 8, 3)
    assert (config.pool_timeout, config.echo) == (2.5, True)
    tier_sized = DatabaseFactory.create_provider("raw", DatabaseType.AUDIT, {"url": url, "max_overflow": 2}).config
    assert (tier_sized.pool_min, tier_sized.pool_max, tier_sized.pool_timeout, tier_sized.echo) == (3, 5, None, False)
    agreeing = DatabaseConfig.from_mapping({"url": url, "pool_size": 4, "pool_max": 6, "max_overflow": 2})
    assert (agreeing.pool_min, agreeing.pool_max) == (4, 6)


SIZES = {"pool_size", "pool_min", "pool_max", "max_overflow"}
NOT_APPLIED = {
    ("sqlalchemy", "postgresql"): set(),
    ("sqlalchemy", "sqlite"): SIZES,
    ("tortoise", "postgresql"): {"pool_timeout"},
    ("tortoise", "sqlite"): SIZES | {"pool_timeout"},
    ("piccolo", "postgresql"): {"pool_timeout"},
    ("piccolo", "sqlite"): SIZES | {"pool_timeout"},
    ("raw", "postgresql"): {"echo"},
    ("raw", "sqlite"): SIZES | {"pool_timeout", "echo"},
}
"""What each adapter cannot apply of the seed's pool settings, on each database: it must say so in a note."""
SETTINGS = re.compile(r"\b(pool_size|pool_min|pool_max|max_overflow|pool_timeout|echo)\b")


def not_applied(provider: BaseORMProvider) -> set[str]:
    """The settings named in the provider's "Not applied: ..." notes, outside the parentheses giving the reasons."""
    notes = [n.removeprefix("Not applied: ") for n in provider.capabilities.notes if n.startswith("Not applied: ")]
    return {name for note in notes for part in re.split(r"\([^)]*\)", note) for name in SETTINGS.findall(part)}


@pytest.mark.parametrize(("adapter", "dialect"), list(NOT_APPLIED))
def test_each_adapter_names_the_pool_settings_it_cannot_apply(adapter: str, dialect: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'notes.sqlite'}" if dialect == "sqlite" else "postgresql://u@localhost/notes"
    provider = adapter_class(adapter)(DatabaseConfig(url))  # builds its capabilities without I/O
    assert not_applied(provider) == NOT_APPLIED[(adapter, dialect)], provider.capabilities.notes


@pytest.mark.parametrize("adapter", CONTRACT)
async def test_echo_logs_the_sql_where_the_adapter_applies_it(
    adapter: str, sqlite_target: SqliteTarget, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{sqlite_target.directory}/echo_{adapter}.sqlite"
    provider = adapter_class(adapter)(DatabaseConfig(url, echo=True))
    with caplog.at_level(logging.INFO):
        await provider.connect()
        try:
            assert await provider.health_check()
        finally:
            await provider.disconnect()
    echoed = "SELECT 1" in caplog.text + capsys.readouterr().out
    assert echoed is ("echo" not in NOT_APPLIED[(adapter, "sqlite")])


async def hold_a_connection(provider: BaseORMProvider, held: asyncio.Event, release: asyncio.Event) -> None:
    async with provider.transaction():
        await provider.count(provider.models.User)
        held.set()
        await release.wait()


@pytest.mark.postgresql
@pytest.mark.parametrize("adapter", CONTRACT)
async def test_max_overflow_and_pool_timeout_on_postgresql(postgresql_target: PostgresTarget, adapter: str) -> None:
    url = await postgresql_target.new_database(f"pool_{adapter}")
    config = DatabaseConfig.from_mapping({"url": url, "pool_size": 1, "max_overflow": 1, "pool_timeout": 0.5})
    provider = adapter_class(adapter)(config)
    await provider.connect()
    release = asyncio.Event()
    holders: list[asyncio.Task[None]] = []
    try:
        await provider.create_schema()
        held = asyncio.Event()
        holders.append(asyncio.create_task(hold_a_connection(provider, held, release)))
        await asyncio.wait_for(held.wait(), 10)
        # The only connection of pool_size is taken: max_overflow opens one more.
        assert await asyncio.wait_for(provider.count(provider.models.User), 10) == 0
        status = await provider.get_pool_status()
        assert status is not None and (status["min"], status["max"]) == (1, 2)
        if "pool_timeout" in NOT_APPLIED[(adapter, "postgresql")]:
            return
        held = asyncio.Event()
        holders.append(asyncio.create_task(hold_a_connection(provider, held, release)))
        await asyncio.wait_for(held.wait(), 10)
        with pytest.raises(PoolTimeout):
            await asyncio.wait_for(provider.count(provider.models.User), 10)
    finally:
        release.set()
        await asyncio.gather(*holders)
        await provider.disconnect()
    assert not holders or all(h.done() for h in holders)


# --- the adapter declarations --------------------------------------------------------------------------

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_each_adapter_is_declared_once_and_its_extra_installs_its_orm() -> None:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    for adapter in REGISTRY:
        first = next(iter(extras[adapter.extra]), None)
        match = re.match(r"[A-Za-z0-9_.-]+", first or "")
        # An ORM adapter's extra installs its ORM first; a reference store's, its client, named like it.
        installed = adapter.name if adapter.is_reference else adapter.orm
        assert (match.group(0) if match else None) == installed, adapter
        assert provider_class(adapter.name).name == adapter.name
    assert [a.name for a in REGISTRY if a.baseline] == ["raw"]
    assert list(BY_NAME) == [a.name for a in REGISTRY]
    assert BY_NAME["tortoise"].target == "backends.tortoise.provider:TortoiseProvider"
    assert BY_NAME["tortoise"].requirement == "orm-harness[tortoise]"
