"""Every adapter's own migration tool: the shared schema at head, and 0002 (tasks.due_date) and 0003 (the tier
workloads' schema) down and up again."""

from __future__ import annotations

import pytest

from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import DatasetSize, generate, load
from harness.core.factory import adapter_class
from harness.core.schema import REVISIONS
from harness.databases.catalog import describe, table_layout
from harness.databases.targets import PostgresTarget, Target
from tests.conftest import DIALECTS

DUE_DATE_INDEX = ("user_id", "due_date")
TIER_TABLES = ("audit_events", "documents", "follows", "cache_entries")


async def has_tier_schema(url: str) -> bool:
    """Whether 0003's schema is there: every tier table and users.last_sign_in_at (none of it after its downgrade)."""
    found = [bool((await table_layout(url, table))[0]) for table in TIER_TABLES]
    found.append("last_sign_in_at" in (await table_layout(url, "users"))[0])
    assert all(found) or not any(found), f"0003 half applied: {found}"
    return all(found)


async def fresh_provider(target: Target, name: str, adapter: str) -> BaseORMProvider:
    provider = adapter_class(adapter)(DatabaseConfig(await target.new_database(name), pool_min=1, pool_max=2))
    await provider.connect()
    return provider


@pytest.fixture(params=[pytest.param(d, marks=[pytest.mark.postgresql] if d == "postgresql" else []) for d in DIALECTS])
def target(request: pytest.FixtureRequest) -> Target:
    return request.getfixturevalue(f"{request.param}_target")


@pytest.mark.parametrize("adapter", list(CONTRACT))
async def test_upgrade_downgrade_upgrade_keeps_the_rows(target: Target, adapter: str) -> None:
    p = await fresh_provider(target, f"updown_{adapter}", adapter)
    url = p.config.url
    try:
        await p.create_schema()
        dataset = generate(DatasetSize(users=5, tasks_per_user=4))
        await load(p, dataset)
        columns, indexes = await table_layout(url, "tasks")
        assert "due_date" in columns and DUE_DATE_INDEX in indexes
        assert await has_tier_schema(url)
        await p.migrate(REVISIONS[0])
        columns, indexes = await table_layout(url, "tasks")
        assert "due_date" not in columns and DUE_DATE_INDEX not in indexes
        assert not await has_tier_schema(url)
        await p.migrate("head")
        columns, indexes = await table_layout(url, "tasks")
        assert "due_date" in columns and DUE_DATE_INDEX in indexes
        assert await has_tier_schema(url)
        assert await p.count(p.models.Task) == len(dataset.tasks)
        assert await p.count(p.models.Task, {"due_date": None}) == len(dataset.tasks)
        await p.migrate("base")
        assert (await table_layout(url, "users"))[0] == set()
    finally:
        await p.disconnect()


@pytest.mark.parametrize("adapter", list(CONTRACT))
async def test_run_migrations_and_the_current_revision(target: Target, adapter: str) -> None:
    p = await fresh_provider(target, f"current_{adapter}", adapter)
    try:
        assert await p.get_current_revision() is None
        await p.create_schema()
        assert await p.get_current_revision() == REVISIONS[-1]
        await p.run_migrations(REVISIONS[0])
        assert await p.get_current_revision() == REVISIONS[0]
        await p.run_migrations()
        assert await p.get_current_revision() == REVISIONS[-1]
        await p.run_migrations("base")
        assert await p.get_current_revision() is None
        assert (await table_layout(p.config.url, "users"))[0] == set()
    finally:
        await p.disconnect()


@pytest.mark.postgresql
@pytest.mark.parametrize("adapter", list(CONTRACT))
async def test_migrations_and_create_all_give_the_same_schema(postgresql_target: PostgresTarget, adapter: str) -> None:
    schemas = []
    for path in ("migrations", "models"):
        p = await fresh_provider(postgresql_target, f"paths_{path}_{adapter}", adapter)
        await (p.create_schema() if path == "migrations" else p.create_schema_from_models())
        # create-all records no revision in any tool's bookkeeping
        assert await p.get_current_revision() == (REVISIONS[-1] if path == "migrations" else None)
        schemas.append(await describe(DatabaseConfig(p.config.url).postgres_dsn))
        await p.disconnect()
    assert schemas[0] == schemas[1]
