"""The harness's statement counts agree with PostgreSQL's pg_stat_statements, for every scenario and adapter.

A normal test (it runs in the README's test command, not under --benchmark-only), on the first PostgreSQL
database given with --db, else the throwaway cluster. Ids: `[tortoise-two_level]`.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.bench.matrix import harness_test
from harness.bench.options import BenchOptions
from harness.bench.pgstat import compare_round
from harness.bench.runner import Case
from harness.bench.workload import Workloads
from scenarios import Scenario

CONCURRENCY = 8


@harness_test("statements")  # parametrized by the harness's plugin (harness/bench/matrix.py)
def test_statements_match_pg_stat_statements(
    bench_loop: asyncio.AbstractEventLoop,
    bench_database: Workloads,
    adapter: str,
    checked: Scenario,
    options: BenchOptions,
) -> None:
    run = bench_loop.run_until_complete
    workload = run(bench_database.get(adapter))
    if (reason := checked.unavailable(workload.provider)) is not None:
        pytest.skip(reason)
    case = Case.build(checked, workload, options.profile, CONCURRENCY)
    comparison = run(compare_round(case, workload.provider.config.postgres_dsn))
    assert comparison.log.executions > 0
    assert not comparison.disagreements(), comparison.explain()
