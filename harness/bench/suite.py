"""The benchmarks `orm-harness run` drives: one per scenario of the catalogue, the round overhead, the adapter tax,
the server restart.

Plain test functions that the harness's pytest plugin (harness/bench/plugin.py) parametrizes, orders and gives their
fixtures, so they run wherever the package is installed: `orm-harness run` passes this file's path to pytest (an
explicit path is collected whatever `python_files` says). In a clone, tests/benchmarks/test_scenarios.py and
test_resilience.py import them, so `pytest --benchmark-only` collects these very functions among the repository's
tests: one definition, two ways in, the same benchmark records. The protocol of one benchmark (trial, timed rounds,
honesty checks, statement, memory and pool probes) is harness/bench/runner.py's. Ids: `test_one_level[raw-sqlite]`,
`test_concurrent_transfer[tortoise-postgresql-c8]`, `test_adapter_tax[piccolo-sqlite]`,
`test_server_restart[tortoise-postgresql]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from harness.bench import run_info
from harness.bench.environment import versions
from harness.bench.extra_info import RunFacts, extra_info
from harness.bench.fixtures import cpu_placement
from harness.bench.matrix import RESILIENCE_DATABASE, harness_test
from harness.bench.options import BenchOptions
from harness.bench.runner import loop_time, run_overhead
from harness.bench.tax import TAXED, run_tax
from harness.bench.workload import Workloads
from harness.databases.targets import PostgresTarget
from scenarios import CATALOGUE, Scenario
from scenarios.resilience import DEFAULT_CONCURRENCY, server_restart
from scenarios.resilience import FAMILY as RESILIENCE_FAMILY

OVERHEAD_ROUNDS = {"quick": 50, "full": 2000}


def _benchmark(scenario: Scenario) -> Callable[..., None]:
    @harness_test("scenario")
    def test(measure_scenario: Callable[[], None]) -> None:
        measure_scenario()

    test.__name__ = test.__qualname__ = f"test_{scenario.id}"
    test.__doc__ = scenario.label
    test.scenario = scenario  # type: ignore[attr-defined]
    return test


SCENARIO_BENCHMARKS = {f"test_{s.id}": _benchmark(s) for s in CATALOGUE.values()}
globals().update(SCENARIO_BENCHMARKS)


@harness_test("overhead")
@pytest.mark.benchmark(group="round_overhead", timer=loop_time)
def test_round_overhead(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, options: BenchOptions, run_facts: RunFacts
) -> None:
    """The harness's own cost per round: an empty coroutine through the round path of every scenario.

    A benchmark (its figure is the report's "harness overhead per round"), asserting what that figure rests on:
    every round was timed, and the timer, inside the event loop, leaves out the cost of driving the loop from
    synchronous code, so it reads less than that cost."""
    rounds = OVERHEAD_ROUNDS[options.profile.name]
    driving_median = run_overhead(benchmark, bench_loop, rounds, run_facts)
    timed = benchmark.stats.stats
    assert timed.rounds == rounds
    assert driving_median is not None and 0 < timed.median < driving_median


@harness_test("tax")
def test_adapter_tax(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    bench_database: Workloads,
    adapter: str,
    options: BenchOptions,
    run_facts: RunFacts,
    request: pytest.FixtureRequest,
) -> None:
    """What the provider contract costs the adapter: each taxed operation through the provider and through the
    adapter's control (the same ORM called directly), interleaved (harness/bench/tax.py). One round; the figures are
    in `extra_info["adapter_tax"]`, and each control passed the scenario's check and sent the provider's SQL."""
    workload = bench_loop.run_until_complete(bench_database.get(adapter))
    run_info.record_database(request.config, request.node.callspec.params["bench_database"], bench_database)
    with cpu_placement(bench_database.target, options.affinity):
        figures = run_tax(benchmark, bench_loop, workload, options.profile.name, run_facts)
    assert list(figures) == [taxed.scenario for taxed in TAXED]


@harness_test("resilience")
@pytest.mark.benchmark(group=f"server_restart-{RESILIENCE_DATABASE}")
@pytest.mark.postgresql
def test_server_restart(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    restart_cluster: Workloads,
    adapter: str,
    run_facts: RunFacts,
) -> None:
    """Concurrent primary-key reads while the database server restarts (scenarios/resilience.py).

    It runs when the suite benchmarks the throwaway cluster (`--db postgresql`) and the concurrency family is
    selected (the default). One round per adapter; the figures that matter are in `extra_info["resilience"]`:
    `total_ops`, `failed_ops`, `server_down_s`, `recovery_s`, `recovered` (served again through the same provider,
    never reconnected), `failed_after_recovery`, `errors` (count by type) and `examples` (a message per type)."""
    workload = bench_loop.run_until_complete(restart_cluster.get(adapter))
    target = restart_cluster.target
    assert isinstance(target, PostgresTarget) and target.server is not None  # the restart_cluster fixture's own
    server = target.server
    outcome: dict[str, Any] = {}

    def restart_during_reads() -> None:
        result = bench_loop.run_until_complete(
            server_restart(workload.provider, workload.dataset, lambda: asyncio.to_thread(server.restart))
        )
        outcome.update(result.as_dict())

    benchmark.pedantic(restart_during_reads, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(
        extra_info(
            run_facts,
            adapter=adapter,
            database=RESILIENCE_DATABASE,
            scenario=server_restart.__name__,
            family=RESILIENCE_FAMILY,
            label=server_restart.__doc__.strip().splitlines()[0],  # type: ignore[union-attr]
            parameter={"concurrency": DEFAULT_CONCURRENCY},
            versions=versions(adapter, RESILIENCE_DATABASE, restart_cluster.facts.get("server", "")),
            connection_model=workload.provider.capabilities.connection_model,
            resilience=outcome,
        )
    )
    assert outcome["recovered"], f"{adapter} did not serve again within the window after the restart: {outcome}"
