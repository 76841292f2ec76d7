"""The resilience scenario (scenarios/resilience.py) as a benchmark: each adapter through a server restart.

It runs when the suite benchmarks the throwaway cluster (`--db postgresql`) and the concurrency family is
selected (the default), on a throwaway cluster of its own, so the restarts disturb no other benchmark. One
round per adapter; the figures that matter are in `extra_info["resilience"]`: `total_ops`, `failed_ops`,
`server_down_s`, `recovery_s`, `recovered` (served again through the same provider, never reconnected),
`failed_after_recovery`, `errors` (count by type) and `examples` (a message per type). Ids:
`test_server_restart[tortoise-postgresql]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from harness.bench.environment import versions
from harness.bench.runner import HARNESS_SCHEMA
from harness.bench.workload import Workloads
from harness.core.dataset import generate
from harness.databases.targets import PostgresTarget
from scenarios.resilience import DEFAULT_CONCURRENCY, server_restart
from tests.benchmarks.options import BenchOptions, bench_options

SCENARIO = "server_restart"
FAMILY = "resilience"
DATABASE = "postgresql"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ != "test_server_restart":
        return
    options = bench_options(metafunc.config)
    wanted = "postgresql" in options.databases.values() and options.selects(SCENARIO, "concurrency")
    adapters = options.adapters if wanted else ()
    metafunc.parametrize("adapter", [pytest.param(a, id=f"{a}-{DATABASE}") for a in adapters])


@pytest.fixture(scope="module")
def restart_cluster(bench_loop: asyncio.AbstractEventLoop, options: BenchOptions) -> Iterator[Workloads]:
    """A throwaway cluster of its own, with the dataset loaded once per adapter."""
    from harness.databases.targets import open_target

    target = open_target("postgresql")
    assert isinstance(target, PostgresTarget) and target.server is not None
    workloads = Workloads(target, generate(options.profile.dataset), options.pool_size)
    yield workloads
    bench_loop.run_until_complete(workloads.close())
    bench_loop.run_until_complete(target.close())


@pytest.mark.benchmark(group=f"{SCENARIO}-{DATABASE}")
@pytest.mark.postgresql
def test_server_restart(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    restart_cluster: Workloads,
    adapter: str,
    options: BenchOptions,
) -> None:
    """Concurrent primary-key reads while the database server restarts."""
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
        {
            "harness_schema": HARNESS_SCHEMA,
            "adapter": adapter,
            "database": DATABASE,
            "scenario": SCENARIO,
            "family": FAMILY,
            "label": server_restart.__doc__.strip().splitlines()[0],  # type: ignore[union-attr]
            "parameter": {"concurrency": DEFAULT_CONCURRENCY},
            "resilience": outcome,
            "versions": versions(adapter, DATABASE, restart_cluster.facts.get("server", "")),
            "connection_model": workload.provider.capabilities.connection_model,
            "profile": options.profile.name,
            "order_seed": options.order_seed,
            "pool_size": options.pool_size,
        }
    )
    assert outcome["recovered"], f"{adapter} did not serve again within the window after the restart: {outcome}"
