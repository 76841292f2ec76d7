"""Which harness tests run, with which parameters, in which order: the benchmark matrix.

A test function is the harness's when `harness_test(kind)` marked it (the suite's, harness/bench/suite.py, and the
repository's pg_stat_statements check); the plugin parametrizes, selects and orders only those:
- "scenario": a benchmark of `function.scenario`, for each selected adapter and database (and concurrency level),
  a reference store only for the scenarios it declares (harness/core/adapters.py), ids like
  `[tortoise-postgresql-c8]`; its pytest-benchmark group is the scenario (plus level) and the database, so each
  table sets the adapters side by side, and its timer `harness.bench.runner.loop_time` (time inside the loop).
- "overhead": the harness's own cost per round, selected like a scenario `round_overhead` of family "harness".
- "resilience": the server restart per adapter, where the throwaway cluster is benchmarked and the concurrency
  family selected.
- "statements": the pg_stat_statements check per adapter and scenario, on the first PostgreSQL database.

Order: other tests first, in their order; then database by database its benchmarks, scenario by scenario (and level
by level), the adapters of each group back to back in an order shuffled with the order seed (recorded), so the
machine's drift favours none of them, and each database's statement checks right after its benchmarks, while its
loaded databases are still open; the server restarts last, on a cluster of their own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pytest

from harness.bench.extra_info import HARNESS_FAMILY
from harness.bench.options import BenchOptions
from harness.core.adapters import BY_NAME

if TYPE_CHECKING:
    from scenarios import Scenario

Kind = Literal["scenario", "overhead", "resilience", "statements"]
_KIND = "orm_harness_kind"
_POSITION = pytest.StashKey[int]()
_F = TypeVar("_F", bound=Callable[..., Any])

SESSION_DATABASE: dict[str, Any] = {"indirect": ["bench_database"], "scope": "session"}
"""Without scope="session", a parametrization that mixes direct and indirect arguments is function-scoped, and
pytest would set `bench_database` up (loading every adapter's dataset) anew for every test."""
RESILIENCE_DATABASE = "postgresql"


def harness_test(kind: Kind) -> Callable[[_F], _F]:
    """Make a test function the harness's, of `kind` (see the module docstring)."""

    def mark(function: _F) -> _F:
        setattr(function, _KIND, kind)
        return function

    return mark


def kind_of(item: pytest.Item | Callable[..., Any]) -> Kind | None:
    """The kind of a harness test (an item or its function); None for any other test."""
    return getattr(getattr(item, "function", item), _KIND, None)


def position(item: pytest.Item) -> int:
    """A benchmark's place in its group's seeded order (recorded as `order_position`)."""
    return item.stash.get(_POSITION, 0)


# --- parametrization ---------------------------------------------------------------------------------


def parametrize(metafunc: pytest.Metafunc, options: BenchOptions) -> None:
    from scenarios import CATALOGUE

    kind = kind_of(metafunc.function)
    if kind == "scenario":
        params = _matrix(options, metafunc.function.scenario)
        metafunc.parametrize(("adapter", "bench_database", "level"), params, **SESSION_DATABASE)
    elif kind == "statements":
        database = options.statements_database
        params = [
            pytest.param(adapter, database, s, id=f"{adapter}-{s.id}", marks=pytest.mark.postgresql)
            for adapter in options.adapters
            for s in CATALOGUE.values()
            # not a schema change on a database of its own (DDL), nor a reference store (no SQL to compare)
            if s.prepare is None and not BY_NAME[adapter].is_reference
        ]
        metafunc.parametrize(("adapter", "bench_database", "checked"), params, **SESSION_DATABASE)
    elif kind == "resilience":
        wanted = "postgresql" in options.databases.values() and options.selects("server_restart", "concurrency")
        adapters = [a for a in options.adapters if not BY_NAME[a].is_reference] if wanted else []
        metafunc.parametrize("adapter", [pytest.param(a, id=f"{a}-{RESILIENCE_DATABASE}") for a in adapters])


def _matrix(options: BenchOptions, scenario: Scenario) -> list[Any]:
    from harness.bench.runner import loop_time

    levels = options.concurrency if scenario.parameter == "concurrency" else (None,)
    params = []
    for database in options.databases:
        for level in levels:
            suffix = "" if level is None else f"-c{level}"
            marks = [pytest.mark.benchmark(group=f"{scenario.id}{suffix}-{database}", timer=loop_time)]
            if database.startswith("postgresql"):
                marks.append(pytest.mark.postgresql)
            for adapter in options.adapters:
                if BY_NAME[adapter].runs(scenario.id):  # a reference store runs its tier's scenarios only
                    params.append(
                        pytest.param(adapter, database, level, id=f"{adapter}-{database}{suffix}", marks=marks)
                    )
    return params


# --- selection and order -----------------------------------------------------------------------------


def scenario_of(item: pytest.Item) -> Scenario | None:
    """The scenario a benchmark or a statement check runs; None for other tests."""
    if kind_of(item) == "scenario":
        return item.function.scenario  # type: ignore[attr-defined]
    callspec = getattr(item, "callspec", None)
    return None if callspec is None or kind_of(item) != "statements" else callspec.params.get("checked")


def wanted(item: pytest.Item, options: BenchOptions) -> bool:
    """Whether --scenarios selects the item (any test that is not the harness's is kept)."""
    if (scenario := scenario_of(item)) is not None:
        return options.selects(scenario.id, scenario.family)
    if kind_of(item) == "overhead":
        return options.selects("round_overhead", HARNESS_FAMILY)
    return True


def ordered(items: list[pytest.Item], options: BenchOptions) -> list[pytest.Item]:
    """`items` in the order of the module docstring."""
    from scenarios import CATALOGUE

    # Both are parametrized test functions: pytest.Function, with a callspec.
    benchmarks = [i for i in items if isinstance(i, pytest.Function) and kind_of(i) == "scenario"]
    checks = [i for i in items if isinstance(i, pytest.Function) and kind_of(i) == "statements"]
    restarts = [i for i in items if kind_of(i) == "resilience"]
    ordered = [i for i in items if i not in benchmarks and i not in checks and i not in restarts]
    rng = random.Random(options.order_seed)
    catalogue = list(CATALOGUE)
    labels = list(options.databases)
    if options.statements_database not in labels:
        labels.append(options.statements_database)
    for label in labels:
        groups: dict[tuple[int, int], list[pytest.Function]] = {}
        for item in benchmarks:
            params = item.callspec.params
            if params["bench_database"] == label:
                scenario, level = scenario_of(item), params["level"]
                # a benchmark's function carries its scenario; its level is a concurrency or None (_matrix)
                assert scenario is not None and (level is None or isinstance(level, int))
                key = (catalogue.index(scenario.id), level or 0)
                groups.setdefault(key, []).append(item)
        for key in sorted(groups):
            for place, item in enumerate(rng.sample(groups[key], len(groups[key]))):
                item.stash[_POSITION] = place
                ordered.append(item)
        ordered += [i for i in checks if i.callspec.params["bench_database"] == label]
    return ordered + restarts
