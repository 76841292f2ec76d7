"""Measure a benchmark group the way that makes adapters comparable: interleaved rounds, until precise enough.

A group is one scenario (and concurrency level) on one database in one trial, measured for every adapter
selected. The adapters are not measured one after the other: each round runs every adapter once, in a new
random order, so whatever the machine does over seconds and minutes (this one drifts by tens of percent) falls
on all of them alike, and round i of one adapter is paired with round i of another (Abedi and Brecht's
randomized multiple interleaved trials). A run makes `Profile.trials` passes over the suite, each measuring
every group anew; harness/report/results.py pools a benchmark's trials.

One group, in the session's event loop:
1. process state: a full garbage collection, then `gc.freeze()`, so the objects earlier benchmarks left alive
   (every loaded dataset, every record) are no longer traversed by the collections of this group: what the
   collector costs during a round is what the round allocates, whatever ran before it in the process.
2. calibration: each adapter's setup, one call and its honesty check (a wrong scenario fails here, before any
   round; the failure is that adapter's alone). A cheap repeatable scenario (no setup) then times the calls per
   round it declares, `Profile.calls_per_round`, to time the steady state.
3. rounds: (on PostgreSQL) each adapter's settler is prepared, outside the time cap; then each round takes every
   adapter in a new random order: setup, then (a writing scenario on PostgreSQL) `settle` the database, then the
   timed round. The rounds stop when every adapter's median is known to within `Profile.precision`
   (`median_precision`), or the group has spent `Profile.cap` seconds, or at the profile's maximum; each adapter
   records which (`stopped_by`).
4. the last round's result is checked; in the first trial, the probes (statements, memory, pool) follow.
5. restore: each adapter's database holds exactly the dataset again, and (PostgreSQL) is settled once more, so the
   next group starts from the same physical state whatever this one wrote (harness/bench/settle.py).

The samples then reach pytest-benchmark one adapter at a time (`replay`): each adapter's test feeds its
measured per-call times through pytest-benchmark's own timer, so its statistics and storage are of exactly the
rounds measured here.
"""

from __future__ import annotations

import gc
import math
import random
import signal
import statistics
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal

from harness.bench.runner import _CLOCK, BenchmarkFixture, Case, Profile, Round, concurrency_figures
from harness.bench.settle import Settler

StopReason = Literal["precision", "cap", "max_rounds", "one_round"]
Z_95 = 1.959964


@dataclass
class Outcome:
    """One adapter's part of a group in one trial: its case, its timed rounds and what the probes measured, or
    the error that stopped it."""

    case: Case
    rounds: list[Round] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    @property
    def samples(self) -> list[float]:
        return [r.seconds for r in self.rounds]


def median_precision(samples: list[float]) -> float:
    """The half-width of the distribution-free 95 percent interval of the median (order statistics: the ranks
    n/2 -+ 1.96 sqrt(n)/2), over the median; infinite below 6 samples, where no such interval exists."""
    n = len(samples)
    if n < 6:
        return math.inf
    ordered = sorted(samples)
    low = max(math.floor(n / 2 - Z_95 * math.sqrt(n) / 2), 0)
    high = min(math.ceil(n / 2 + Z_95 * math.sqrt(n) / 2), n - 1)
    median = statistics.median(ordered)
    return (ordered[high] - ordered[low]) / (2 * median) if median > 0 else math.inf


@contextmanager
def fresh_process_state() -> Iterator[None]:
    """Collect, then freeze what survives (step 1 of the module docstring); unfrozen again afterwards, so the
    group's own leftovers are collected as usual before the next group freezes."""
    with signals_deferred():
        gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def signals_deferred(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back for the block, then deliver them. A full collection runs many weakref callbacks
    and finalizers, and an exception raised inside one is printed and dropped ("Exception ignored in"): a Ctrl-C
    arriving then would be lost, and the run would go on. Outside the main thread signals are not ours to handle."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: received.append(signum)) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received:
            signal.raise_signal(signum)


async def measure_group(
    cases: Mapping[str, Case], profile: Profile, rng: random.Random, probe: bool
) -> dict[str, Outcome]:
    """Measure the cases of one group (adapter -> case) as the module docstring says; every case is restored."""
    outcomes = {adapter: Outcome(case) for adapter, case in cases.items()}
    settlers = {adapter: Settler.for_case(case) for adapter, case in cases.items()}
    try:
        with fresh_process_state():
            live = await _calibrate(cases, outcomes, profile)
            stopped_by, last = await _rounds(live, outcomes, settlers, profile, rng)
            for adapter, (result, arguments) in last.items():
                await _finish(cases[adapter], outcomes[adapter], (stopped_by, result, arguments), probe)
    finally:
        for adapter, case in cases.items():
            try:
                await case.restore()
                await settlers[adapter].settle()
            except Exception as exc:  # the restore's failure is that adapter's; the others still restore
                outcomes[adapter].error = outcomes[adapter].error or exc
            finally:
                await settlers[adapter].close()
    return outcomes


async def _calibrate(cases: Mapping[str, Case], outcomes: dict[str, Outcome], profile: Profile) -> dict[str, Case]:
    """Step 2: the cases whose checked first call passed, each set to its calls per round."""
    live: dict[str, Case] = {}
    for adapter, case in cases.items():
        if profile.calibrated:
            try:
                await case.calibrate()
            except Exception as exc:
                outcomes[adapter].error = exc
                continue
        # The same calls per round for every adapter of the group: the same work in every round they pair.
        case.calls = profile.calls_per_round(case.scenario)
        live[adapter] = case
    return live


LastRound = tuple[Any, dict[str, Any]]
"""A round's result and the arguments it was called with: what the honesty check reads."""


async def _rounds(
    live: dict[str, Case],
    outcomes: dict[str, Outcome],
    settlers: Mapping[str, Settler],
    profile: Profile,
    rng: random.Random,
) -> tuple[StopReason, dict[str, LastRound]]:
    """Step 3: interleaved rounds until precise, capped or at the maximum: why they stopped, and each adapter's
    last round."""
    last: dict[str, LastRound] = {}
    for adapter in list(live):
        try:
            await settlers[adapter].prepare()
        except Exception as exc:
            outcomes[adapter].error = exc
            del live[adapter]
    start = perf_counter()
    while live:
        for adapter in rng.sample(list(live), len(live)):
            try:
                last[adapter] = await _round(live[adapter], settlers[adapter], outcomes[adapter])
            except Exception as exc:
                outcomes[adapter].error = exc
                del live[adapter]
                last.pop(adapter, None)
        if (reason := _stop(profile, [outcomes[a].samples for a in live], perf_counter() - start)) is not None:
            return reason, last
    return "max_rounds", last


async def _round(case: Case, settler: Settler, outcome: Outcome) -> LastRound:
    arguments = await case.setup()
    await settler.before_round()
    first = len(case.rounds)
    result = await case.call(arguments)
    outcome.rounds.extend(case.rounds[first:])
    return result, arguments


def _stop(profile: Profile, samples: list[list[float]], elapsed: float) -> StopReason | None:
    """Why the rounds stop after this one, or None to go on (every adapter has as many rounds)."""
    least, most = profile.rounds
    done = min((len(s) for s in samples), default=0)
    if most == 1:
        return "one_round"
    if done >= least and all(median_precision(s) <= profile.precision for s in samples):
        return "precision"
    if done >= least and elapsed >= profile.cap:
        return "cap"
    return "max_rounds" if done >= most else None


async def _finish(case: Case, outcome: Outcome, ending: tuple[StopReason, Any, dict[str, Any]], probe: bool) -> None:
    """Step 4: check the last round, then (first trial) probe; an error is the adapter's outcome."""
    stopped_by, result, arguments = ending
    try:
        outcome.measured = {
            "rows_per_op": await case.check(result, arguments),
            "quality": await case.quality(result, arguments),
            "calls_per_round": case.calls,
            "stopped_by": stopped_by,
            "median_precision": _rounded(median_precision(outcome.samples)),
            "concurrency": concurrency_figures(case, outcome.rounds),
        }
        if probe:
            log, pool = await case.statements_and_pool()
            outcome.measured |= {
                "statements": {"round_trips": log.round_trips, "executions": log.executions, "queries": log.queries},
                "memory_peak_bytes": await case.peak_memory(),
                "pool": pool,
            }
    except Exception as exc:
        outcome.error = exc


def _rounded(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 5)


def replay(benchmark: BenchmarkFixture, samples: list[float]) -> None:
    """Give pytest-benchmark the measured per-call times as its rounds: each round of its `pedantic` advances the
    benchmark's timer (`loop_time`) by one sample, so its statistics, and what it stores, are those rounds."""
    pending = iter(samples)

    def one_round() -> None:
        _CLOCK.elapsed += next(pending)

    benchmark.pedantic(one_round, rounds=len(samples), iterations=1, warmup_rounds=0)
