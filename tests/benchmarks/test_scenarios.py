"""One benchmark per scenario of the catalogue, run for every adapter x database (x concurrency).

The matrix, the order and the ids come from conftest.py; the protocol of one benchmark (trial, timed rounds,
honesty checks, statement, memory and pool probes) from harness/bench/runner.py. Ids: `test_one_level[raw-sqlite]`,
`test_concurrent_transfer[tortoise-postgresql-c8]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from harness.bench.runner import RunFacts, loop_time, run_overhead
from scenarios import CATALOGUE, Scenario
from tests.benchmarks.options import BenchOptions

OVERHEAD_ROUNDS = {"quick": 50, "full": 2000}


def _benchmark(scenario: Scenario) -> Callable[..., None]:
    def test(measure_scenario: Callable[[], None]) -> None:
        measure_scenario()

    test.__name__ = test.__qualname__ = f"test_{scenario.id}"
    test.__doc__ = scenario.label
    test.scenario = scenario  # type: ignore[attr-defined]
    return test


globals().update({f"test_{s.id}": _benchmark(s) for s in CATALOGUE.values()})


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
