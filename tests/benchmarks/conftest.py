"""The benchmark matrix: adapter x database x scenario (x concurrency), ordered, driven and recorded.

- Parametrization (`pytest_generate_tests`): every test function carrying a `scenario` attribute runs for each
  selected adapter and database (and concurrency level), with ids like `[tortoise-postgresql-c8]`; its
  pytest-benchmark group is the scenario (plus level) and the database, so each table sets the adapters side
  by side, and its timer is `harness.bench.runner.loop_time` (time spent inside the event loop).
- Order (`pytest_collection_modifyitems`): the adapters of one group run back to back, in an order shuffled
  with the order seed (recorded), so the machine's drift favours none of them; databases one after another.
- The session's one event loop drives every round (`loop.run_until_complete`); `bench_database` holds one
  target's loaded databases (harness.bench.workload) and is parametrized by database label.
- Run-level facts go into pytest-benchmark's machine_info under "harness" (with each adapter's migration facts,
  where the run times the migrations family).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.bench.environment import cpu, machine_identity, package_versions
from harness.bench.runner import Case, RunFacts, loop_time, run_benchmark
from harness.bench.workload import Workloads, sqlite_target_in_ram
from harness.core.dataset import generate
from harness.core.factory import adapter_class
from harness.core.versions import pinned_status
from harness.databases.pgserver import SERVER_SETTINGS
from harness.databases.targets import SqliteTarget, Target, open_target
from scenarios import CATALOGUE, Scenario
from tests.benchmarks.options import HARNESS_FAMILY, BenchOptions, bench_options

_POSITION = pytest.StashKey[int]()
_RUN = pytest.StashKey[dict[str, Any]]()


# --- parametrization and order ----------------------------------------------------------------------


_SESSION_DATABASE: dict[str, Any] = {"indirect": ["bench_database"], "scope": "session"}
"""Without scope="session", a parametrization that mixes direct and indirect arguments is function-scoped, and
pytest would set `bench_database` up (loading every adapter's dataset) anew for every test."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    options = bench_options(metafunc.config)
    if (scenario := getattr(metafunc.function, "scenario", None)) is not None:
        metafunc.parametrize(("adapter", "bench_database", "level"), _matrix(options, scenario), **_SESSION_DATABASE)
    elif getattr(metafunc.function, "statement_check", False):
        database = options.statements_database
        params = [
            pytest.param(adapter, database, s, id=f"{adapter}-{s.id}", marks=pytest.mark.postgresql)
            for adapter in options.adapters
            for s in CATALOGUE.values()
            if s.prepare is None  # a schema change on a database of its own: DDL, not the statements compared
        ]
        metafunc.parametrize(("adapter", "bench_database", "checked"), params, **_SESSION_DATABASE)


def _matrix(options: BenchOptions, scenario: Scenario) -> list[Any]:
    levels = options.concurrency if scenario.parameter == "concurrency" else (None,)
    params = []
    for database in options.databases:
        for level in levels:
            suffix = "" if level is None else f"-c{level}"
            marks = [pytest.mark.benchmark(group=f"{scenario.id}{suffix}-{database}", timer=loop_time)]
            if database.startswith("postgresql"):
                marks.append(pytest.mark.postgresql)
            for adapter in options.adapters:
                params.append(pytest.param(adapter, database, level, id=f"{adapter}-{database}{suffix}", marks=marks))
    return params


def _scenario_of(item: pytest.Item) -> Scenario | None:
    """The scenario a benchmark or a statement check runs; None for other tests."""
    if (scenario := getattr(getattr(item, "function", None), "scenario", None)) is not None:
        return scenario
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("checked")


def _is_statement_check(item: pytest.Item) -> bool:
    return bool(getattr(getattr(item, "function", None), "statement_check", False))


def _wanted(item: pytest.Item, options: BenchOptions) -> bool:
    if (scenario := _scenario_of(item)) is not None:
        return options.selects(scenario.id, scenario.family)
    if getattr(item, "originalname", None) == "test_round_overhead":
        return options.selects("round_overhead", HARNESS_FAMILY)
    return True


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect what --scenarios leaves out, then order the benchmarks (`_ordered`)."""
    options = bench_options(config)
    kept = [item for item in items if _wanted(item, options)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = _ordered(kept, options)


def _ordered(items: list[pytest.Item], options: BenchOptions) -> list[pytest.Item]:
    """Other tests first, in their order; then database by database its benchmarks, scenario by scenario (and
    level by level), the adapters of each group back to back in a seeded random order; each database's
    pg_stat_statements checks right after its benchmarks, while its loaded databases are still open."""
    # Both are parametrized test functions: pytest.Function, with a callspec.
    benchmarks = [i for i in items if isinstance(i, pytest.Function) and hasattr(i.function, "scenario")]
    checks = [i for i in items if isinstance(i, pytest.Function) and _is_statement_check(i)]
    ordered = [i for i in items if i not in benchmarks and i not in checks]
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
                scenario, level = _scenario_of(item), params["level"]
                # a benchmark's function carries its scenario; its level is a concurrency or None (_matrix)
                assert scenario is not None and (level is None or isinstance(level, int))
                key = (catalogue.index(scenario.id), level or 0)
                groups.setdefault(key, []).append(item)
        for key in sorted(groups):
            for position, item in enumerate(rng.sample(groups[key], len(groups[key]))):
                item.stash[_POSITION] = position
                ordered.append(item)
        ordered += [i for i in checks if i.callspec.params["bench_database"] == label]
    return ordered


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def options(pytestconfig: pytest.Config) -> BenchOptions:
    return bench_options(pytestconfig)


@pytest.fixture(scope="session")
def run_facts(options: BenchOptions) -> RunFacts:
    """The run-level facts every benchmark's extra_info repeats."""
    return RunFacts(options.profile.name, options.order_seed, options.pool_size)


@pytest.fixture(scope="session")
async def bench_loop() -> asyncio.AbstractEventLoop:
    """The session's event loop, borrowed by the synchronous benchmark tests to drive each round."""
    return asyncio.get_running_loop()


@pytest.fixture(scope="session")
def bench_database(
    request: pytest.FixtureRequest, bench_loop: asyncio.AbstractEventLoop, options: BenchOptions
) -> Iterator[Workloads]:
    """One database target's loaded databases (one per adapter, loaded on first use), for the session."""
    label: str = request.param
    spec = options.spec(label)
    if spec == "postgresql":
        # The contract tests' cluster (tests/conftest.py), shared: one throwaway cluster per session, skipped
        # without server binaries, a failure under CI.
        target: Target = request.getfixturevalue("postgresql_target")
    else:
        target = sqlite_target_in_ram() if spec == "sqlite" else open_target(spec)
    workloads = Workloads(target, generate(options.profile.dataset), options.pool_size)
    yield workloads
    bench_loop.run_until_complete(workloads.close())
    _record_database(request.config, label, workloads)
    if spec != "postgresql":
        bench_loop.run_until_complete(target.close())


@pytest.fixture
def measure_scenario(
    request: pytest.FixtureRequest,
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    bench_database: Workloads,
    adapter: str,
    level: int | None,
    options: BenchOptions,
    run_facts: RunFacts,
) -> Callable[[], None]:
    """Run the test's scenario as one benchmark (harness.bench.runner.run_benchmark)."""
    scenario: Scenario = request.function.scenario

    def measure() -> None:
        run = bench_loop.run_until_complete
        own = scenario.prepare is not None
        size = options.profile.sizes.get(scenario.id, 0)
        workload = run(bench_database.own(adapter, scenario, size) if own else bench_database.get(adapter))
        _record_database(request.config, request.node.callspec.params["bench_database"], bench_database)
        try:
            case = Case.build(scenario, workload, options.profile, level)
            position = request.node.stash.get(_POSITION, 0)
            run_benchmark(benchmark, bench_loop, case, options.profile, run_facts, position)
        finally:
            if own:
                run(bench_database.release(workload))

    return measure


# --- run-level facts ---------------------------------------------------------------------------------


def _run_facts(config: pytest.Config) -> dict[str, Any]:
    if _RUN not in config.stash:
        options = bench_options(config)
        config.stash[_RUN] = {
            "harness_schema": 1,
            "run_id": uuid.uuid4().hex[:12],
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "profile": options.profile.name,
            "dataset": vars(options.profile.dataset),
            "sizes": dict(options.profile.sizes),
            "order_seed": options.order_seed,
            "adapters": list(options.adapters),
            "scenarios": [s.id for s in CATALOGUE.values() if options.selects(s.id, s.family)],
            "pool_size": options.pool_size,
            "concurrency": list(options.concurrency),
            "timer": "harness.bench.runner.loop_time: seconds inside the event loop (driving the loop left out)",
            "databases": {},
            "versions": package_versions(),
            "pinned": pinned_status(),
            "cpu": cpu(),
            "migrations": _migration_facts(options),
        }
    return config.stash[_RUN]


def _migration_facts(options: BenchOptions) -> dict[str, dict[str, Any]]:
    """Each adapter's `migration_facts` (its tool, autogenerate, downgrade, SQLite, transactional DDL, the files of
    revision 0002), recorded with a run that times the migrations family, for the report's migration section."""
    if not any(s.family == "migrations" and options.selects(s.id, s.family) for s in CATALOGUE.values()):
        return {}
    return {adapter: asdict(adapter_class(adapter).migration_facts) for adapter in options.adapters}


def _record_database(config: pytest.Config, label: str, workloads: Workloads) -> None:
    if not workloads.facts:
        return
    facts = {"dialect": workloads.dialect, **workloads.facts}
    spec = bench_options(config).spec(label)
    if spec == "postgresql":
        facts["throwaway_cluster_settings"] = dict(SERVER_SETTINGS)
    elif spec == "sqlite" and isinstance(workloads.target, SqliteTarget):
        facts["directory"] = str(workloads.target.directory)
    _run_facts(config)["databases"][label] = facts


def pytest_configure(config: pytest.Config) -> None:
    _run_facts(config)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    machine_info["harness"] = _run_facts(config)


@pytest.hookimpl(wrapper=True)
def pytest_benchmark_compare_machine_info(
    config: pytest.Config, benchmarksession: Any, machine_info: dict[str, Any], compared_benchmark: dict[str, Any]
) -> Iterator[None]:
    """`--benchmark-compare` warns when the machines differ, not on every run: pytest-benchmark's own check
    compares the whole machine_info, whose run-level facts (run id, time, databases) differ every time, so
    both sides are reduced, in place, to what identifies a machine before it runs."""
    for info in (machine_info, compared_benchmark.setdefault("machine_info", {})):
        identity = machine_identity(info)
        info.clear()
        info.update(identity)
    return (yield)
