"""On PostgreSQL every adapter's create_schema() gives the catalog the raw baseline's hand-written DDL gives."""

from __future__ import annotations

import pytest

from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.factory import adapter_class
from harness.databases.catalog import describe
from harness.databases.targets import PostgresTarget

pytestmark = pytest.mark.postgresql


async def schema_of(target: PostgresTarget, adapter: str) -> dict:
    url = await target.new_database(f"parity_{adapter}")
    provider = adapter_class(adapter)(DatabaseConfig(url, pool_min=1, pool_max=2))
    await provider.connect()
    try:
        await provider.create_schema()
        return await describe(DatabaseConfig(url).postgres_dsn)
    finally:
        await provider.disconnect()


_schemas: dict[str, dict] = {}


@pytest.mark.parametrize("adapter", [a for a in CONTRACT if a != "raw"])
@pytest.mark.parametrize("part", ["tables", "columns", "constraints", "indexes"])
async def test_schema_matches_the_raw_baseline(postgresql_target: PostgresTarget, adapter: str, part: str) -> None:
    for name in ("raw", adapter):
        if name not in _schemas:
            _schemas[name] = await schema_of(postgresql_target, name)
    expected, actual = _schemas["raw"][part], _schemas[adapter][part]
    assert sorted(set(actual) - set(expected)) == [] and sorted(set(expected) - set(actual)) == []


async def test_drop_schema_removes_every_table(postgresql_target: PostgresTarget) -> None:
    for adapter in CONTRACT:
        url = await postgresql_target.new_database(f"drop_{adapter}")
        provider = adapter_class(adapter)(DatabaseConfig(url, pool_min=1, pool_max=2))
        await provider.connect()
        await provider.create_schema()
        await provider.drop_schema()
        await provider.disconnect()
        assert (await describe(DatabaseConfig(url).postgres_dsn))["tables"] == [], adapter
