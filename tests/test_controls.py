"""The adapter tax's controls (backends/<orm>/controls.py) do what the provider does, every adapter x database: the
same objects column by column, the scenario's check passed, the same statements at the driver; a control that does
other work is refused. And one operation measured both ways records what it claims."""

from __future__ import annotations

import inspect
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from random import Random
from types import ModuleType
from typing import Any

import pytest

from harness.bench.tax import TAXED, Taxed, TaxProfile, measure, same_work, setup_round, ways_of
from harness.bench.workload import Workload
from harness.core.adapters import BY_NAME, CONTRACT
from harness.core.errors import ConfigurationError
from harness.core.factory import adapter_controls
from scenarios import CATALOGUE, ScenarioFailed
from tests.conftest import Loaded
from tests.test_contract import as_dict

OPERATIONS = [pytest.param(taxed, id=taxed.scenario) for taxed in TAXED]


@pytest.mark.parametrize("adapter", CONTRACT)
def test_every_adapter_has_a_control_per_taxed_operation(adapter: str) -> None:
    controls = adapter_controls(adapter)
    assert controls.__name__ == BY_NAME[adapter].controls
    for taxed in TAXED:
        assert inspect.iscoroutinefunction(getattr(controls, taxed.scenario)), (adapter, taxed.scenario)


def test_controls_of_an_unknown_adapter_are_one_line() -> None:
    with pytest.raises(ConfigurationError, match="unknown adapter 'mongo': choose one of sqlalchemy, "):
        adapter_controls("mongo")


NEW_ROW_COLUMNS_SET_BY_THE_DATABASE = ("id", "created_at")


def workload(db: Loaded) -> Workload:
    return Workload(db.provider.name, db.provider.dialect, db.provider, db.dataset, {})


@asynccontextmanager
async def restored(db: Loaded, taxed: Taxed) -> AsyncIterator[None]:
    """The scenario's restore afterwards (insert_one's rows removed), so the read-only `db` fixture stays as it was."""
    try:
        yield
    finally:
        if (restore := CATALOGUE[taxed.scenario].restore) is not None:
            await restore(db.provider, db.dataset)


def described(taxed: Taxed, result: Any) -> Any:
    """What a result holds, as plain data to compare across the two ways."""
    if taxed.scenario == "one_level":
        return [(as_dict(u, "User"), sorted((as_dict(t, "Task") for t in u.tasks), key=str)) for u in result]
    if taxed.scenario == "filter_page":
        return [as_dict(task, "Task") for task in result]
    row = as_dict(result, "User")
    if taxed.scenario == "insert_one":  # two inserts: each its own id and time
        return {key: value for key, value in row.items() if key not in NEW_ROW_COLUMNS_SET_BY_THE_DATABASE}
    return row


@pytest.mark.parametrize("taxed", OPERATIONS)
async def test_the_control_returns_what_the_provider_returns(db: Loaded, taxed: Taxed) -> None:
    scenario = CATALOGUE[taxed.scenario]
    results = {}
    async with restored(db, taxed):
        for name, way in ways_of(workload(db), taxed, adapter_controls(db.provider.name)).items():
            setup = await setup_round(workload(db), scenario)
            with way.around():
                results[name] = await way.call(setup)
            await scenario.check(db.provider, db.dataset, results[name], **setup)
            if taxed.scenario == "insert_one":  # the new row as stored, as the provider's create returns it
                stored = await db.provider.get(db.provider.models.User, {"id": results[name].id})
                assert as_dict(results[name], "User") == as_dict(stored, "User")
    assert described(taxed, results["direct"]) == described(taxed, results["provider"])


@pytest.mark.parametrize("taxed", OPERATIONS)
async def test_the_control_sends_the_provider_s_statements(db: Loaded, taxed: Taxed) -> None:
    ways = ways_of(workload(db), taxed, adapter_controls(db.provider.name))
    async with restored(db, taxed):
        queries = await same_work(workload(db), CATALOGUE[taxed.scenario], ways)
    expected = {"one_level": db.provider.expected_eager_statements(db.provider.models.User, ["tasks"])}
    piccolo_on_sqlite = db.provider.name == "piccolo" and db.provider.dialect == "sqlite"  # a PRAGMA before each query
    assert queries == expected.get(taxed.scenario, 2 if piccolo_on_sqlite else 1)


async def test_a_control_that_does_other_work_is_refused(db: Loaded) -> None:
    """Same row by other SQL: refused for its statements; another row: refused by the scenario's check."""
    (get_by_pk,) = (taxed for taxed in TAXED if taxed.scenario == "get_by_pk")
    scenario = CATALOGUE["get_by_pk"]

    async def by_range(provider: Any, user_id: int) -> Any:
        return await provider.get(provider.models.User, {"id__gte": user_id, "id__lte": user_id})

    async def next_one(provider: Any, user_id: int) -> Any:
        return await provider.get(provider.models.User, {"id": user_id + 1})

    other_sql, other_row = ModuleType("other_sql"), ModuleType("other_row")
    other_sql.get_by_pk, other_row.get_by_pk = by_range, next_one  # type: ignore[attr-defined]
    with pytest.raises(ScenarioFailed, match="the control sends other statements"):
        await same_work(workload(db), scenario, ways_of(workload(db), get_by_pk, other_sql))
    with pytest.raises(ScenarioFailed, match="get_by_pk, direct way on"):
        await same_work(workload(db), scenario, ways_of(workload(db), get_by_pk, other_row))


async def test_one_operation_measured_both_ways_records_what_it_claims(db: Loaded) -> None:
    (taxed,) = (taxed for taxed in TAXED if taxed.scenario == "get_by_pk")
    profile = TaxProfile(precision=0.0, cap=60.0, pairs=(7, 7), warmup=2)
    figures = await measure(workload(db), taxed, adapter_controls(db.provider.name), profile, Random(1))
    assert figures["pairs"] == len(figures["provider_us"]) == len(figures["direct_us"]) == 7
    assert figures["stopped_by"] == "max_pairs"
    for way in ("provider", "direct"):
        assert figures[f"{way}_median_us"] == pytest.approx(statistics.median(figures[f"{way}_us"]), abs=1e-3)
        assert min(figures[f"{way}_us"]) > 0
    ratio = statistics.median(figures["provider_us"]) / statistics.median(figures["direct_us"])
    assert figures["tax"] == pytest.approx(ratio - 1, abs=1e-4)
    assert figures["queries"] == (2 if db.provider.name == "piccolo" and db.provider.dialect == "sqlite" else 1)
