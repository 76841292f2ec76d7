"""The factory: adapters by name, databases by URL, one cached provider per (orm, tier), lazy imports."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator

import pytest

from harness.core.config import DatabaseConfig
from harness.core.errors import ConfigurationError, ConnectionFailed
from harness.core.factory import ADAPTERS, DatabaseFactory, DatabaseProviderBuilder, DatabaseType, adapter_class
from harness.databases.targets import PostgresTarget, SqliteTarget


@pytest.fixture(autouse=True)
async def clean_factory() -> AsyncIterator[None]:
    await DatabaseFactory.close_all()
    yield
    await DatabaseFactory.close_all()


async def same_answers(url: str) -> dict[str, tuple]:
    """Build each adapter through the factory on `url` (one database each) and ask the same questions."""
    answers = {}
    for adapter in ADAPTERS:
        provider = DatabaseFactory.create_provider(adapter, DatabaseType.PRIMARY, {"url": url.format(adapter=adapter)})
        await provider.connect()
        await provider.drop_schema()
        await provider.create_schema()
        user = await provider.create(provider.models.User, {"username": "ada", "email": "ada@example.org"})
        await provider.create_many(
            provider.models.Task, [{"user_id": user.id, "title": f"t{i}", "priority": i % 6} for i in range(10)]
        )
        [loaded] = await provider.get_with_relations(provider.models.User, {"id": user.id}, ["tasks"])
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
    for adapter in ADAPTERS:
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
    assert (audit.config.pool_min, audit.config.pool_max) == (5, 7)
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


@pytest.mark.parametrize("adapter", list(ADAPTERS))
async def test_unreachable_server_is_a_connection_error_without_password(adapter: str) -> None:
    provider = adapter_class(adapter)(DatabaseConfig("postgresql://bob:s3cret@127.0.0.1:9/nowhere", 1, 1))
    with pytest.raises(ConnectionFailed) as raised:
        await asyncio.wait_for(provider.connect(), 30)
    assert "s3cret" not in str(raised.value)
    assert provider.is_connected is False and await provider.health_check() is False


@pytest.mark.parametrize("adapter", list(ADAPTERS))
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
