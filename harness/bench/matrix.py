"""Which harness tests run, with which parameters, in which order: the benchmark matrix.

A test function is the harness's when `harness_test(kind)` marked it (the suite's, harness/bench/suite.py, and the
repository's pg_stat_statements check); the plugin parametrizes, selects and orders only those:
- "scenario": a benchmark of `function.scenario`, for each selected adapter and database (and concurrency level)
  and trial, ids like `[tortoise-postgresql-c8-t2]` (no `-tN` with one trial); its pytest-benchmark group is the
  scenario (plus level) and the database, so each table sets the adapters side by side, and its timer
  `harness.bench.runner.loop_time` (time inside the loop). A reference store (harness/core/adapters.py) has one
  only for the families it declares, skipped with the reason where its server is missing (under CI, not skipped:
  its group fails saying what to install), and it takes no part in the statement checks or the restarts.
- "overhead": the harness's own cost per round, selected like a scenario `round_overhead` of family "harness".
- "resilience": the server restart per adapter, where the throwaway cluster is benchmarked and the concurrency
  family selected.
- "statements": the pg_stat_statements check per adapter and scenario, on the first PostgreSQL database.
- "tax": the adapter tax (harness/bench/tax.py) per adapter and database, selected like a scenario `adapter_tax` of
  family "harness".

Order: other tests first, in their order; then database by database its benchmarks, trial by trial (each trial a
pass over every scenario), scenario by scenario (and level by level), the adapters of each group back to back:
the first of them measures the whole group, interleaved round by round (harness/bench/interleave.py), and each
then records its own rounds. Each database's adapter taxes and statement checks follow its benchmarks, while its
loaded databases are still open; the server restarts last, on a cluster of their own.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pytest

from harness.bench.extra_info import ADAPTER_TAX, HARNESS_FAMILY
from harness.bench.options import BenchOptions
from harness.core.adapters import BY_NAME

if TYPE_CHECKING:
    from scenarios import Scenario

Kind = Literal["scenario", "overhead", "resilience", "statements", "tax"]
_KIND = "orm_harness_kind"
_POSITION = pytest.StashKey[int]()
_GROUP = pytest.StashKey["Group"]()
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


@dataclass(frozen=True)
class Group:
    """The benchmarks measured together, interleaved (harness/bench/interleave.py): one scenario and level on one
    database in one trial, for `adapters`."""

    trial: int
    database: str
    scenario: str
    level: int | None
    adapters: tuple[str, ...]


def group_of(item: pytest.Item) -> Group:
    """The group of a benchmark (set when the benchmarks were ordered)."""
    return item.stash[_GROUP]


# --- parametrization ---------------------------------------------------------------------------------


def parametrize(metafunc: pytest.Metafunc, options: BenchOptions) -> None:
    from scenarios import CATALOGUE

    kind = kind_of(metafunc.function)
    if kind == "scenario":
        params = _matrix(options, metafunc.function.scenario)
        metafunc.parametrize(("adapter", "bench_database", "level", "trial"), params, **SESSION_DATABASE)
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
    elif kind == "tax":
        params = [
            pytest.param(adapter, database, id=f"{adapter}-{database}", marks=_tax_marks(database))
            for database in options.databases
            for adapter in options.adapters
            if not BY_NAME[adapter].is_reference  # a reference store has no ORM to tax
        ]
        metafunc.parametrize(("adapter", "bench_database"), params, **SESSION_DATABASE)
    elif kind == "resilience":
        wanted = "postgresql" in options.databases.values() and options.selects("server_restart", "concurrency")
        adapters = [a for a in options.adapters if not BY_NAME[a].is_reference] if wanted else []
        metafunc.parametrize("adapter", [pytest.param(a, id=f"{a}-{RESILIENCE_DATABASE}") for a in adapters])


def _tax_marks(database: str) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.benchmark(group=f"{ADAPTER_TAX}-{database}")]
    return [*marks, pytest.mark.postgresql] if database.startswith("postgresql") else marks


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
            trials = options.trials[database]
            for trial in range(1, trials + 1):
                name = f"{database}{suffix}" + (f"-t{trial}" if trials > 1 else "")
                for adapter in options.adapters:
                    if BY_NAME[adapter].runs(scenario.family):
                        own = marks + _reference_marks(adapter)
                        params.append(pytest.param(adapter, database, level, trial, id=f"{adapter}-{name}", marks=own))
    return params


def _reference_marks(adapter: str) -> list[Any]:
    """A skip, with the reason, for a reference store whose server is missing (none under CI, where it must run)."""
    from harness.databases.redisserver import find_server

    if not BY_NAME[adapter].is_reference or find_server() is not None or os.environ.get("CI"):
        return []
    return [pytest.mark.skip(reason=f"no redis-server (apt-get install redis-server) for the {adapter} reference line")]


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
    if kind_of(item) == "tax":
        return options.selects(ADAPTER_TAX, HARNESS_FAMILY)
    return True


def ordered(items: list[pytest.Item], options: BenchOptions) -> list[pytest.Item]:
    """`items` in the order of the module docstring."""
    from scenarios import CATALOGUE

    # Both are parametrized test functions: pytest.Function, with a callspec.
    benchmarks = [i for i in items if isinstance(i, pytest.Function) and kind_of(i) == "scenario"]
    checks = [i for i in items if isinstance(i, pytest.Function) and kind_of(i) == "statements"]
    restarts = [i for i in items if kind_of(i) == "resilience"]
    taxes = [i for i in items if isinstance(i, pytest.Function) and kind_of(i) == "tax"]
    ordered = [i for i in items if i not in benchmarks and i not in checks and i not in restarts and i not in taxes]
    rng = random.Random(options.order_seed)
    catalogue = list(CATALOGUE)
    labels = list(options.databases)
    if options.statements_database not in labels:
        labels.append(options.statements_database)
    for label in labels:
        groups: dict[tuple[int, int, int], list[pytest.Function]] = {}
        for item in benchmarks:
            params = item.callspec.params
            if params["bench_database"] == label:
                scenario, level, trial = scenario_of(item), params["level"], params["trial"]
                # a benchmark's function carries its scenario; its level is a concurrency or None (_matrix)
                assert scenario is not None and (level is None or isinstance(level, int)) and isinstance(trial, int)
                key = (trial, catalogue.index(scenario.id), level or 0)
                groups.setdefault(key, []).append(item)
        for key in sorted(groups):
            members = rng.sample(groups[key], len(groups[key]))
            # a skipped benchmark (a reference store without its server) is not measured with its group
            measured = [item for item in members if item.get_closest_marker("skip") is None]
            adapters = tuple(str(item.callspec.params["adapter"]) for item in measured)
            level = members[0].callspec.params["level"]
            group = Group(key[0], label, catalogue[key[1]], level if isinstance(level, int) else None, adapters)
            for place, item in enumerate(members):
                item.stash[_POSITION] = place
                item.stash[_GROUP] = group
                ordered.append(item)
        ordered += [i for i in taxes if i.callspec.params["bench_database"] == label]
        ordered += [i for i in checks if i.callspec.params["bench_database"] == label]
    return ordered + restarts
