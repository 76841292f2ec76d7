"""The benchmark engine's fixtures, registered by the harness's pytest plugin (harness/bench/plugin.py).

- `options`, `run_facts`: the session's parsed options and the facts every benchmark's extra_info repeats.
- `bench_loop`: the session's one event loop (pytest-asyncio's), which the synchronous benchmarks drive round by
  round (`loop.run_until_complete`).
- `harness_cluster`: the throwaway PostgreSQL cluster, one per session (the repository's contract tests use it
  too); skipped without server binaries, a failure under CI (CI=true).
- `bench_database`: one database target's loaded databases (harness.bench.workload), parametrized by label.
- `measure_scenario`: records the test's benchmark, its group measured interleaved (harness.bench.interleave);
  `measured_groups` holds the outcomes of a group until each of its adapters' tests has recorded its own. A
  reference store (harness/core/adapters.py) is measured on a throwaway server of its own (Workloads.reference).
- `restart_cluster`: a throwaway cluster of its own for the server-restart benchmark, whose restarts then disturb
  no other benchmark.

Like the plugin, light to import: the engine is imported inside the fixtures, which only harness tests request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from harness.bench import run_info
from harness.bench.extra_info import RunFacts
from harness.bench.matrix import Group, group_of, position
from harness.bench.options import BenchOptions, bench_options

if TYPE_CHECKING:
    from harness.bench.interleave import Outcome
    from harness.bench.workload import Workloads
    from harness.databases.targets import PostgresTarget, Target
    from scenarios.base import Scenario


@pytest.fixture(scope="session")
def options(pytestconfig: pytest.Config) -> BenchOptions:
    return bench_options(pytestconfig)


@pytest.fixture(scope="session")
def run_facts(options: BenchOptions) -> RunFacts:
    return RunFacts(options.profile.name, options.order_seed, options.pool_size)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def bench_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def harness_cluster() -> AsyncIterator[PostgresTarget]:
    from harness.databases.pgserver import NO_BINARIES, find_binaries
    from harness.databases.targets import PostgresTarget, open_target

    if find_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {NO_BINARIES}")
        pytest.skip(NO_BINARIES)
    target = open_target("postgresql")
    assert isinstance(target, PostgresTarget)
    yield target
    await target.close()


@pytest.fixture(scope="session")
def bench_database(
    request: pytest.FixtureRequest, bench_loop: asyncio.AbstractEventLoop, options: BenchOptions
) -> Iterator[Workloads]:
    """One database target's loaded databases (one per adapter, loaded on first use), for the session."""
    from harness.bench.workload import Workloads, sqlite_target_in_ram
    from harness.core.dataset import generate
    from harness.databases.targets import open_target

    label: str = request.param
    spec = options.spec(label)
    if spec == "postgresql":
        target: Target = request.getfixturevalue("harness_cluster")
    else:
        target = sqlite_target_in_ram() if spec == "sqlite" else open_target(spec)
    workloads = Workloads(target, generate(options.profile.dataset), options.pool)
    yield workloads
    bench_loop.run_until_complete(workloads.close())
    run_info.record_database(request.config, label, workloads)
    if spec != "postgresql":
        bench_loop.run_until_complete(target.close())


@pytest.fixture(scope="session")
def measured_groups() -> dict[Group, dict[str, Outcome]]:
    """The outcomes of the groups measured so far, each adapter's until its own test has recorded it."""
    return {}


@pytest.fixture
def measure_scenario(
    request: pytest.FixtureRequest,
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    bench_database: Workloads,
    measured_groups: dict[Group, dict[str, Outcome]],
    adapter: str,
    level: int | None,  # not read: a parameter of the benchmark's, which pytest requires a fixture to take
    trial: int,
    options: BenchOptions,
    run_facts: RunFacts,
) -> Callable[[], None]:
    """Record the test's benchmark: its group is measured by whichever of its adapters' tests comes first
    (harness.bench.interleave), then each test gives its own adapter's rounds to pytest-benchmark. Skip it, recording
    why, where the adapter declares one of its operations unavailable on the database."""
    from harness.bench.interleave import replay
    from harness.bench.runner import case_info

    group = group_of(request.node)

    def measure() -> None:
        if (reason := _unavailable(bench_loop, bench_database, request.function.scenario, adapter)) is not None:
            run_info.record_skip(request.config, group.database, adapter, group.scenario, reason)
            pytest.skip(reason)
        if group not in measured_groups:
            measured_groups[group] = _measure_group(request, bench_loop, bench_database, group, options)
        outcomes = measured_groups[group]
        outcome = outcomes.pop(adapter)
        if not outcomes:
            del measured_groups[group]
        if outcome.error is not None:
            raise outcome.error
        replay(benchmark, outcome.samples)
        info = case_info(run_facts, outcome.case, trial, position(request.node))
        benchmark.extra_info.update(info | outcome.measured)

    return measure


def _measure_group(
    request: pytest.FixtureRequest,
    loop: asyncio.AbstractEventLoop,
    workloads: Workloads,
    group: Group,
    options: BenchOptions,
) -> dict[str, Outcome]:
    """Measure every adapter of `group` on its loaded database (a database of its own for a schema-changing
    scenario, released afterwards), interleaved; the probes run in the first trial."""
    import random

    from harness.bench.interleave import measure_group
    from harness.bench.runner import Case
    from harness.core.adapters import BY_NAME

    scenario = request.function.scenario
    own = scenario.prepare is not None
    size = options.profile.size(scenario)
    run = loop.run_until_complete
    cases = {}
    try:
        for adapter in group.adapters:
            if _unavailable(loop, workloads, scenario, adapter) is not None:
                continue  # its own test skips, saying why
            if BY_NAME[adapter].is_reference:
                workload: Any = run(workloads.reference(adapter))
            else:
                workload = run(workloads.own(adapter, scenario, size) if own else workloads.get(adapter))
            cases[adapter] = Case.build(scenario, workload, options.profile, group.level)
        run_info.record_database(request.config, group.database, workloads)
        order = random.Random(f"{options.order_seed}-{group}")
        with cpu_placement(workloads.target, options.affinity):
            return run(measure_group(cases, options.profile, order, probe=group.trial == 1))
    finally:
        if own:
            for case in cases.values():
                run(workloads.release(case.workload))


def _unavailable(loop: asyncio.AbstractEventLoop, workloads: Workloads, scenario: Scenario, adapter: str) -> str | None:
    """Why the adapter cannot run the scenario on this database (an operation it declares unavailable), or None."""
    from harness.core.adapters import BY_NAME

    if not scenario.operations:
        return None
    if BY_NAME[adapter].is_reference:
        return scenario.unavailable(loop.run_until_complete(workloads.reference(adapter)).provider)
    return scenario.unavailable(loop.run_until_complete(workloads.get(adapter)).provider)


def cpu_placement(target: Target, enabled: bool) -> AbstractContextManager[None]:
    """Where a group runs (harness/bench/affinity.py): the whole process on one CPU for SQLite, client and server
    apart for the throwaway cluster; left to the scheduler for a server given by URL or with `--affinity off`."""
    from harness.bench.affinity import one_cpu, separate_cpus

    if not enabled:
        return nullcontext()
    if target.dialect == "sqlite":
        return one_cpu()
    return separate_cpus(local_server(target))


def local_server(target: Target) -> Path | None:
    """The data directory of the throwaway cluster behind `target`; None for SQLite or a server given by URL."""
    from harness.databases.targets import PostgresTarget

    if isinstance(target, PostgresTarget) and target.server is not None:
        return target.server.data_dir
    return None


@pytest.fixture(scope="session")
def restart_cluster(bench_loop: asyncio.AbstractEventLoop, options: BenchOptions) -> Iterator[Workloads]:
    """A throwaway cluster of its own, with the dataset's users, tasks and comments loaded once per adapter (the
    restarts run last)."""
    from harness.bench.workload import Workloads
    from harness.core.dataset import generate
    from harness.databases.targets import PostgresTarget, open_target

    target = open_target("postgresql")
    assert isinstance(target, PostgresTarget) and target.server is not None
    # The restarts read users only: loading the tier workloads' rows too would take longer than the benchmark.
    workloads = Workloads(target, generate(options.profile.dataset.without_tier_rows()), options.pool)
    yield workloads
    bench_loop.run_until_complete(workloads.close())
    bench_loop.run_until_complete(target.close())
