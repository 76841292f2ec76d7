"""Fixtures shared by the contract, factory and schema tests: every adapter x {sqlite, postgresql}.

PostgreSQL runs on the benchmark engine's throwaway cluster (`harness_cluster`, from the harness's pytest plugin:
harness/bench/fixtures.py), so the contract tests and the benchmarks share one cluster per session. Without server
binaries the PostgreSQL half is skipped with a one-line reason, except under CI (CI=true), where a missing server
is a failure. The benchmark options (--db, --quick, ...) are the plugin's too.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass

import asyncpg
import pytest

from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset, DatasetSize, generate, load
from harness.core.factory import adapter_class
from harness.core.schema import TABLES_IN_DEPENDENCY_ORDER
from harness.core.statements import stop_open_sqlite_connections
from harness.databases.targets import PostgresTarget, SqliteTarget, Target

DIALECTS = ("sqlite", "postgresql")
TARGETS = [(adapter, dialect) for dialect in DIALECTS for adapter in CONTRACT]
CONTRACT_SIZE = DatasetSize(users=6, tasks_per_user=3, comments_per_task=2, tags=4, tags_per_task=2)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A provider a failed test never disconnected would keep its aiosqlite thread, and the process, alive."""
    stop_open_sqlite_connections()


def _param(adapter: str, dialect: str) -> pytest.ParameterSet:
    marks = [pytest.mark.postgresql] if dialect == "postgresql" else []
    return pytest.param((adapter, dialect), id=f"{adapter}-{dialect}", marks=marks)


@pytest.fixture(scope="session")
async def sqlite_target() -> AsyncIterator[SqliteTarget]:
    target = SqliteTarget()
    yield target
    await target.close()


@pytest.fixture(scope="session")
def postgresql_target(harness_cluster: PostgresTarget) -> PostgresTarget:
    return harness_cluster


async def fingerprint(config: DatabaseConfig) -> str:
    """A digest of every row of the shared schema, read on a connection of its own, past the adapter."""
    digest = hashlib.sha256()
    if config.dialect == "sqlite":
        with closing(sqlite3.connect(config.sqlite_path)) as connection:
            for table in TABLES_IN_DEPENDENCY_ORDER:
                digest.update(repr(connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()).encode())
        return digest.hexdigest()
    connection = await asyncpg.connect(config.postgres_dsn)
    try:
        for table in TABLES_IN_DEPENDENCY_ORDER:
            rows = await connection.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
            digest.update(repr([tuple(row) for row in rows]).encode())
    finally:
        await connection.close()
    return digest.hexdigest()


@dataclass
class Loaded:
    """A connected provider with the contract dataset loaded; `dirty` once a test may have changed it."""

    provider: BaseORMProvider
    dataset: Dataset
    dirty: bool = False

    async def reset(self) -> None:
        await self.provider.drop_schema()
        await self.provider.create_schema()
        await load(self.provider, self.dataset)
        self.dirty = False


@pytest.fixture(scope="session", params=[_param(*t) for t in TARGETS])
def adapter_target(request: pytest.FixtureRequest) -> tuple[str, Target]:
    """(adapter, target); a sync fixture, so it can pick the async target fixture by name."""
    adapter, dialect = request.param
    return adapter, request.getfixturevalue(f"{dialect}_target")


@pytest.fixture(scope="session")
async def loaded_database(adapter_target: tuple[str, Target]) -> AsyncIterator[Loaded]:
    adapter, target = adapter_target
    url = await target.new_database(f"contract_{adapter}")
    provider = adapter_class(adapter)(DatabaseConfig(url, pool_min=2, pool_max=10))
    await provider.connect()
    state = Loaded(provider, generate(CONTRACT_SIZE))
    await state.reset()
    yield state
    await provider.drop_schema()
    await provider.disconnect()


@pytest.fixture
async def db(loaded_database: Loaded) -> AsyncIterator[Loaded]:
    """The shared dataset, read-only: a test that writes through it fails (and the data is loaded anew, so
    the tests after it are not poisoned). Use `fresh` to write."""
    if loaded_database.dirty:
        await loaded_database.reset()
    before = await fingerprint(loaded_database.provider.config)
    yield loaded_database
    if await fingerprint(loaded_database.provider.config) != before:
        loaded_database.dirty = True
        pytest.fail("the test wrote to the read-only `db` fixture's data: use the `fresh` fixture to write")


@pytest.fixture
async def fresh(loaded_database: Loaded) -> AsyncIterator[Loaded]:
    """The dataset, freshly loaded; the test may change anything."""
    if loaded_database.dirty:
        await loaded_database.reset()
    loaded_database.dirty = True
    yield loaded_database
