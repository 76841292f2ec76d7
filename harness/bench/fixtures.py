"""The benchmark engine's fixtures, registered by the harness's pytest plugin (harness/bench/plugin.py).

- `options`, `run_facts`: the session's parsed options and the facts every benchmark's extra_info repeats.
- `bench_loop`: the session's one event loop (pytest-asyncio's), which the synchronous benchmarks drive round by
  round (`loop.run_until_complete`).
- `harness_cluster`: the throwaway PostgreSQL cluster, one per session (the repository's contract tests use it
  too); skipped without server binaries, a failure under CI (CI=true).
- `bench_database`: one database target's loaded databases (harness.bench.workload), parametrized by label.
- `measure_scenario`: runs the test's scenario as one benchmark (harness.bench.runner.run_benchmark); a reference
  store's on its own throwaway server (skipped without redis-server, a failure under CI).
- `restart_cluster`: a throwaway cluster of its own for the server-restart benchmark, whose restarts then disturb
  no other benchmark.

Like the plugin, light to import: the engine is imported inside the fixtures, which only harness tests request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from harness.bench import run_info
from harness.bench.extra_info import RunFacts
from harness.bench.matrix import position
from harness.bench.options import BenchOptions, bench_options

if TYPE_CHECKING:
    from harness.bench.workload import Workloads
    from harness.databases.targets import PostgresTarget, Target


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
    from harness.databases.pgserver import find_binaries
    from harness.databases.targets import PostgresTarget, open_target

    if find_binaries() is None:
        reason = "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
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
    from harness.bench.runner import Case, run_benchmark
    from harness.core.adapters import BY_NAME

    scenario = request.function.scenario
    reference = BY_NAME[adapter].is_reference
    if reference:
        _require_redis_server()

    def measure() -> None:
        run = bench_loop.run_until_complete
        own = scenario.prepare is not None
        size = options.profile.size(scenario)
        if reference:
            workload: Any = run(bench_database.reference(adapter))
        else:
            workload = run(bench_database.own(adapter, scenario, size) if own else bench_database.get(adapter))
        run_info.record_database(request.config, request.node.callspec.params["bench_database"], bench_database)
        try:
            case = Case.build(scenario, workload, options.profile, level)
            run_benchmark(benchmark, bench_loop, case, options.profile, run_facts, position(request.node))
        finally:
            if own:
                run(bench_database.release(workload))

    return measure


def _require_redis_server() -> None:
    """Skip a reference store's benchmark without redis-server, with the reason; under CI (CI=true), fail."""
    from harness.databases.redisserver import find_server

    if find_server() is None:
        reason = "no redis-server on PATH or in /usr/bin (apt-get install redis-server) for the Redis reference line"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs redis-server: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def restart_cluster(bench_loop: asyncio.AbstractEventLoop, options: BenchOptions) -> Iterator[Workloads]:
    """A throwaway cluster of its own, with the dataset loaded once per adapter (the restarts run last)."""
    from harness.bench.workload import Workloads
    from harness.core.dataset import generate
    from harness.databases.targets import PostgresTarget, open_target

    target = open_target("postgresql")
    assert isinstance(target, PostgresTarget) and target.server is not None
    workloads = Workloads(target, generate(options.profile.dataset), options.pool)
    yield workloads
    bench_loop.run_until_complete(workloads.close())
    bench_loop.run_until_complete(target.close())
