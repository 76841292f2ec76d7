"""The benchmark machinery's own tests: honesty checks that can fail, data left as loaded, the helpers.

The checks are shown to catch an adapter that cheats or breaks (a rollback that keeps its work, wrong rows,
more statements than documented, lost money), on the raw adapter over SQLite, sabotaged for the occasion.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.bench.runner import QUICK, Case
from harness.bench.workload import Workload, Workloads
from harness.core.concurrency import percentiles, run_concurrently
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import generate, load
from harness.core.factory import adapter_class
from harness.databases.catalog import table_layout
from harness.databases.targets import SqliteTarget
from scenarios import CATALOGUE, ScenarioFailed
from scenarios.eager import EAGER_USERS

DATA = generate(QUICK.dataset)


@pytest.fixture
async def workload(tmp_path: Path) -> AsyncIterator[Workload[BaseORMProvider]]:
    """The raw adapter on a fresh SQLite file with the quick dataset: a test may sabotage or change it."""
    provider = adapter_class("raw")(DatabaseConfig(f"sqlite:///{tmp_path / 'honesty.sqlite'}"))
    await provider.connect()
    await provider.create_schema()
    await load(provider, DATA)
    yield Workload("raw", "sqlite", provider, DATA, {})
    await provider.disconnect()


def case(workload: Workload[BaseORMProvider], scenario: str) -> Case:
    return Case.build(CATALOGUE[scenario], workload, QUICK, concurrency=4)


async def table_sizes(workload: Workload[BaseORMProvider]) -> dict[str, Any]:
    p = workload.provider
    sizes = {name: await p.count(getattr(p.models, name)) for name in ("User", "Task", "Tag", "Comment", "Document")}
    sizes["balance"] = sum(a.balance for a in await p.get_many(p.models.Account))
    sizes["completed"] = await p.count(p.models.Task, {"completed": True})
    sizes["transfers"] = await p.count(p.models.TransferLog)
    return sizes


async def test_every_scenario_passes_and_leaves_the_dataset_as_loaded(workload: Workload[BaseORMProvider]) -> None:
    before = await table_sizes(workload)
    # Not those on a database of their own, nor those the adapter cannot run here (vectors on this SQLite).
    runnable = [
        s for s, found in CATALOGUE.items() if found.prepare is None and not found.unavailable(workload.provider)
    ]
    for scenario in runnable:
        benchmark = case(workload, scenario)
        await benchmark.calibrate()
        await benchmark.statements()
        await benchmark.restore()
        assert await table_sizes(workload) == before, scenario


@pytest.fixture
async def own_workloads(tmp_path: Path) -> AsyncIterator[Workloads]:
    workloads = Workloads(SqliteTarget(tmp_path), DATA, pool={"pool_size": 1})
    yield workloads
    await workloads.close()


@pytest.mark.parametrize("adapter", ["raw", "sqlalchemy"])
async def test_a_migration_scenario_runs_on_a_database_of_its_own(own_workloads: Workloads, adapter: str) -> None:
    scenario = CATALOGUE["add_due_date"]
    workload = await own_workloads.own(adapter, scenario, 300)
    try:
        benchmark = Case.build(scenario, workload, QUICK)
        assert benchmark.arguments == {"size": QUICK.size(scenario)} == {"size": 2000}
        benchmark.arguments["size"] = 300
        await benchmark.calibrate()
        await benchmark.statements()
        await benchmark.restore()
        columns, indexes = await table_layout(workload.provider.config.url, "tasks")
        assert "due_date" in columns and ("user_id", "due_date") in indexes
        assert await workload.provider.count(workload.provider.models.Task) == 300
    finally:
        await own_workloads.release(workload)


async def test_a_migration_that_does_nothing_is_caught(own_workloads: Workloads) -> None:
    scenario = CATALOGUE["add_due_date"]
    workload = await own_workloads.own("raw", scenario, 100)
    try:
        benchmark = Case(scenario, workload, {"size": 100})
        arguments = await benchmark.setup()  # at 0001; the round "forgets" to upgrade
        with pytest.raises(ScenarioFailed, match=r"tasks\.due_date after the upgrade"):
            await benchmark.check(100, arguments)
        await benchmark.restore()
    finally:
        await own_workloads.release(workload)


async def test_a_rollback_that_keeps_its_work_is_caught(workload: Workload[BaseORMProvider]) -> None:
    p = workload.provider
    real = p.transaction

    @asynccontextmanager
    async def leaky() -> AsyncIterator[None]:
        error = None
        async with real():
            try:
                yield
            except Exception as exc:  # swallowed inside, so the transaction commits
                error = exc
        if error is not None:
            raise error

    p.transaction = leaky  # type: ignore[method-assign]
    with pytest.raises(ScenarioFailed, match="tasks left by the rollback"):
        await case(workload, "rollback").calibrate()


async def test_wrong_rows_are_caught(workload: Workload[BaseORMProvider]) -> None:
    p = workload.provider
    real = p.get

    async def off_by_one(model: Any, filters: Mapping[str, Any], *, for_update: bool = False) -> Any | None:
        return await real(model, {"id": filters.get("id", 0) + 1}, for_update=for_update)

    p.get = off_by_one  # type: ignore[method-assign]
    with pytest.raises(ScenarioFailed, match="user fetched"):
        await case(workload, "get_by_pk").calibrate()


async def test_more_statements_than_documented_are_caught(workload: Workload[BaseORMProvider]) -> None:
    p = workload.provider
    p.expected_eager_statements = lambda model, relations: 1  # type: ignore[method-assign]
    with pytest.raises(ScenarioFailed, match="one_level sent 2 queries, expected 1"):
        await case(workload, "one_level").statements()


async def test_n_plus_one_sends_one_plus_n_queries(workload: Workload[BaseORMProvider]) -> None:
    log = await case(workload, "n_plus_one").statements()
    assert log.queries == 1 + EAGER_USERS


async def test_lost_money_is_caught(workload: Workload[BaseORMProvider]) -> None:
    p = workload.provider
    real = p.update

    async def skimming(model: Any, filters: Mapping[str, Any], data: Mapping[str, Any]) -> Any | None:
        if "balance" in data:
            data = {**data, "balance": data["balance"] - 1}
        return await real(model, filters, data)

    p.update = skimming  # type: ignore[method-assign]
    with pytest.raises(ScenarioFailed, match="sum of the balances"):
        await case(workload, "concurrent_transfer").calibrate()


async def test_run_concurrently_keeps_order_and_bounds_concurrency() -> None:
    running, peak = 0, 0

    async def operation(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return i * i

    latencies: list[float] = []
    assert await run_concurrently(operation, 3, 10, latencies) == [i * i for i in range(10)]
    assert peak == 3 and len(latencies) == 10 and min(latencies) > 0


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentiles(values, (50, 95, 99)) == {"p50": 50.0, "p95": 95.0, "p99": 99.0}
    assert percentiles([7.0], (50, 99)) == {"p50": 7.0, "p99": 7.0}
    assert percentiles([], (50,)) == {"p50": None}
