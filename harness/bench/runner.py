"""Benchmark one scenario on one loaded database: calibrate, time rounds, then measure what timing cannot.

One benchmark, all of it in the session's one event loop:
1. trial (full profile): setup, one timed call, the honesty check. A wrong scenario fails here, before any
   round; the trial's time calibrates the number of rounds (`Profile.calibrate`). The quick profile runs one
   round and no trial.
2. timed rounds through pytest-benchmark's `pedantic`: warmup rounds, then the rounds, each after an untimed
   setup. A round is timed inside the event loop (`loop_time`, given to pytest-benchmark as its timer), so
   driving the loop from synchronous code (15-30 us a round here) stays out of the figures.
3. the last round's result is checked, and its quality measured where the scenario has a measure of it (an
   approximate search's recall).
4. two untimed probe rounds, each after its own setup: one observes the statements sent (asserted where the count
   is the point) and, on a pooled database, the pool; the other the memory the operation allocates
   (`allocated_by`, below), which tracemalloc would slow down for the first.
5. restore: the database holds exactly the dataset again.

The benchmark's `extra_info` is built by harness/bench/extra_info.py, which lists its keys.

Memory. tracemalloc's plain peak measured the driver on PostgreSQL, not the ORM: 262-274 KiB per get_by_pk or
insert_one for every adapter, raw included. Snapshots show where: asyncio's socket transport reads with
`sock.recv(max_size)` (asyncio/selector_events.py, `_read_ready__data_received`), which allocates a 256 KiB bytes
object for every read, shrinks it to what arrived and frees it once asyncpg has copied it into its buffer. It is
per read, not a one-time growth (2-3 KiB are still allocated after the call), and it is all of the excess: the
peak is 6 KiB plus the read size (70 KiB at 64 KiB reads, 10 KiB at 4 KiB, 7 KiB at 1 KiB, raw's get_by_pk).
A tracemalloc filter cannot remove it (filters apply to snapshots, not to the traced peak), so the probe round
reads the socket in `PROBE_READ_SIZE` chunks instead (`allocated_by`); aiosqlite has no such buffer.
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal, Protocol

from harness.bench.extra_info import HARNESS_FAMILY, RunFacts, extra_info
from harness.bench.pool import PoolObserver, observe_pool
from harness.bench.workload import Workload
from harness.core.concurrency import percentiles
from harness.core.contract import BaseORMProvider
from harness.core.dataset import DatasetSize
from harness.core.statements import StatementLog, capture
from scenarios.base import Scenario, ScenarioFailed


@dataclass(frozen=True)
class Profile:
    """How much to measure: the dataset, each parameterised scenario's size (declared with it, `size`), and
    the rounds (harness/bench/interleave.py runs them).

    trials: passes over the whole suite per database dialect; each measures every benchmark anew, in a new random
        adapter order. A run's ratio between two adapters is the mean of its trials', and runs disagree by about what
        its trials do over the square root of their number (little more: not much else differs from run to run). A
        PostgreSQL trial moves more (the server's speed against the client's), so it gets 4 where SQLite gets 2
        (README "How far to trust a scenario table").
    precision: the rounds of a group go on until every adapter's median is known to within this fraction (the
        half-width of its 95 percent interval over the median) ...
    cap: ... or until the group's rounds (setups included) have taken this many seconds, whichever comes first;
        `rounds` bounds their number either way. The precision needs 6 rounds at least (no interval of the median
        below), and so does the cap in the full profile: a group whose rounds take seconds (10,000 inserts, 64
        concurrent transfers) runs 6 per trial whatever they cost. At 3, as it was, such a group's ratio between
        two adapters moved by a median of 10 to 25% from run to run, against 4 to 8% for the groups with more than
        5 rounds (README "How far to trust a scenario table").
    """

    name: Literal["quick", "full"]
    dataset: DatasetSize
    trials: dict[str, int]
    precision: float
    cap: float
    rounds: tuple[int, int]

    def size(self, scenario: Scenario) -> int:
        """The scenario's rows (`size`) or operations per round (`concurrency`) in this profile; 0 without."""
        return 0 if scenario.sizes is None else int(getattr(scenario.sizes, self.name))

    @property
    def calibrated(self) -> bool:
        """Whether a checked, untimed first call calibrates the rounds (else one fixed round, no trial call)."""
        return self.rounds[1] > 1

    def calls_per_round(self, scenario: Scenario) -> int:
        """How many calls a round of `scenario` times: its declared `calls` (scenarios/base.py), one where a round is
        not timed for its steady state (the quick profile's single round)."""
        return scenario.calls if self.calibrated else 1


FULL = Profile(
    "full",
    DatasetSize(
        users=1000,
        tasks_per_user=10,
        comments_per_task=2,
        tags=50,
        tags_per_task=2,
        audit_events=30_000,
        documents=5000,
        follows_per_user=10,
        communities=10,
        cache_entries=10_000,
    ),
    trials={"sqlite": 2, "postgresql": 4},
    precision=0.03,
    cap=1.5,
    rounds=(6, 300),
)
QUICK = Profile(
    "quick",
    DatasetSize(
        users=40,
        tasks_per_user=5,
        comments_per_task=2,
        tags=10,
        tags_per_task=2,
        audit_events=300,
        documents=500,
        follows_per_user=4,
        communities=4,
        cache_entries=100,
    ),
    trials={"sqlite": 1, "postgresql": 1},
    precision=float("inf"),
    cap=0.0,
    rounds=(1, 1),
)


class LoopClock:
    """Seconds spent inside timed coroutines: the clock pytest-benchmark reads around each round."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    async def timed(self, function: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> Any:
        start = perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            self.elapsed += perf_counter() - start


_CLOCK = LoopClock()


def loop_time() -> float:
    """pytest-benchmark's timer for these benchmarks (`@pytest.mark.benchmark(timer=loop_time)`): it advances
    only while a round's coroutine runs, so a round reads as the time spent inside the event loop."""
    return _CLOCK.elapsed


class BenchmarkFixture(Protocol):
    """What is used of pytest-benchmark's `benchmark` fixture."""

    extra_info: dict[str, Any]

    def pedantic(self, target: Callable[..., Any], **options: Any) -> Any: ...


@dataclass(frozen=True)
class Round:
    """One call's time inside the loop, and (concurrency runs) each operation's latency, in seconds."""

    seconds: float
    latencies: list[float]


@dataclass
class Case:
    """One benchmark: a scenario on a loaded database, with its parameter's arguments, and its rounds so far."""

    scenario: Scenario
    workload: Workload
    arguments: dict[str, Any] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    calls: int = 1
    """Calls per timed round (`Profile.calls_per_round`); a round records the time per call."""

    @classmethod
    def build(cls, scenario: Scenario, workload: Workload, profile: Profile, concurrency: int | None = None) -> Case:
        """The case of `scenario` with its parameter's arguments: the profile's size, or `concurrency` tasks
        sharing the profile's operations per round."""
        if scenario.parameter == "concurrency":
            arguments = {"concurrency": concurrency, "operations": profile.size(scenario)}
        else:
            arguments = {"size": profile.size(scenario)} if scenario.parameter == "size" else {}
        return cls(scenario, workload, arguments)

    @property
    def parameter(self) -> dict[str, int]:
        if self.scenario.parameter == "concurrency":
            return {"concurrency": self.arguments["concurrency"]}
        return {"size": self.arguments["size"]} if self.scenario.parameter == "size" else {}

    async def setup(self) -> dict[str, Any]:
        """The round's arguments, after the scenario's setup has put the data in place."""
        arguments = dict(self.arguments)
        if self.scenario.setup is not None:
            arguments.update(
                await self.scenario.setup(self.workload.provider, self.workload.dataset, **arguments) or {}
            )
        return arguments

    async def call(self, arguments: Mapping[str, Any]) -> Any:
        """One timed round of `calls` calls, recorded in `rounds` as the time per call (concurrency runs also
        record each operation's latency); returns the last call's result."""
        latencies: list[float] = []
        extra = {"latencies": latencies} if self.scenario.parameter == "concurrency" else {}
        run, p, data = self.scenario.run, self.workload.provider, self.workload.dataset
        before = loop_time()
        result = await _CLOCK.timed(run, p, data, **arguments, **extra)
        for _ in range(self.calls - 1):
            result = await _CLOCK.timed(run, p, data, **arguments, **extra)
        self.rounds.append(Round((loop_time() - before) / self.calls, latencies))
        return result

    async def check(self, result: Any, arguments: Mapping[str, Any]) -> int:
        return await self.scenario.check(self.workload.provider, self.workload.dataset, result, **arguments)

    async def quality(self, result: Any, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
        """The scenario's figures of the answer's quality (`Scenario.quality`), or None where it has none."""
        if self.scenario.quality is None:
            return None
        return await self.scenario.quality(self.workload.provider, self.workload.dataset, result, **arguments)

    async def calibrate(self) -> Round:
        """One checked, untimed call (it also warms the path up): its time, from which the rounds are planned.
        A wrong scenario fails here, before any round."""
        arguments = await self.setup()
        result = await self.call(arguments)
        await self.check(result, arguments)
        return self.rounds.pop()

    async def single_call(self, arguments: Mapping[str, Any]) -> Any:
        """One call, not recorded: what the probes measure."""
        extra: dict[str, list[float]] = {"latencies": []} if self.scenario.parameter == "concurrency" else {}
        return await self.scenario.run(self.workload.provider, self.workload.dataset, **arguments, **extra)

    async def statements(self) -> StatementLog:
        """The statements of one call, asserted against the scenario's expected count where it has one."""
        log, _ = await self.statements_and_pool()
        return log

    async def statements_and_pool(self) -> tuple[StatementLog, dict[str, Any] | None]:
        """One call's statements (as `statements`) and its pool metrics (None where the adapter has no pool),
        observed on the same untimed call: neither observation sends a statement or takes a connection."""
        arguments = await self.setup()
        p, data = self.workload.provider, self.workload.dataset
        expected = None if self.scenario.expected_queries is None else await self.scenario.expected_queries(p, data)
        async with capture() as log, _pool_observed(p) as observer:
            result = await self.single_call(arguments)
        await self.check(result, arguments)
        if expected is not None and log.queries != expected:
            sent = "\n  ".join(s.sql[:160] for s in log.statements)
            raise ScenarioFailed(f"{self.scenario.id} sent {log.queries} queries, expected {expected}:\n  {sent}")
        return log, None if observer is None else observer.summary()

    async def peak_memory(self) -> int:
        """Bytes one round allocates at its peak, net of the driver's socket read buffer (`allocated_by`)."""
        arguments = await self.setup()
        return await allocated_by(self.single_call, arguments)

    async def restore(self) -> None:
        if self.scenario.restore is not None:
            await self.scenario.restore(self.workload.provider, self.workload.dataset)


@asynccontextmanager
async def _pool_observed(provider: BaseORMProvider) -> AsyncIterator[PoolObserver | None]:
    if provider.pool_status() is None:
        yield None
        return
    async with observe_pool(provider) as observer:
        yield observer


PROBE_READ_SIZE = 1024
"""Bytes per socket read during the memory probe (asyncio's default, 256 KiB, is the transport's buffer)."""


@contextmanager
def small_socket_reads(size: int = PROBE_READ_SIZE) -> Iterator[None]:
    """asyncio's socket transports read at most `size` bytes at a time (every transport of the selector event
    loop, so every adapter alike); more reads, the same data, and a read buffer too small to count."""
    transport = asyncio.selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
    own = vars(transport).get("max_size")  # a class attribute (of its base): no transport sets its own
    transport.max_size = size
    try:
        yield
    finally:
        if own is None:
            del transport.max_size
        else:
            transport.max_size = own


async def allocated_by(function: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> int:
    """Peak bytes allocated (tracemalloc) while `function(*args, **kwargs)` runs, above what was allocated just
    before, with the socket transport's read buffer cut to `PROBE_READ_SIZE` (see the module docstring): what
    the ORM and the driver allocate for the operation (rows, objects, statements), not the 256 KiB transient
    read buffer every PostgreSQL operation has in common. The result is dropped after the peak is read."""
    with small_socket_reads():
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            await function(*args, **kwargs)
            return max(tracemalloc.get_traced_memory()[1] - before, 0)
        finally:
            tracemalloc.stop()


def case_info(facts: RunFacts, case: Case, trial: int, order_position: int) -> dict[str, Any]:
    """The extra_info keys that say which benchmark this is (harness/bench/extra_info.py lists them all)."""
    return extra_info(
        facts,
        adapter=case.workload.adapter,
        database=case.workload.database,
        scenario=case.scenario.id,
        family=case.scenario.family,
        label=case.scenario.label,
        parameter=case.parameter,
        versions=case.workload.versions,
        connection_model=case.workload.provider.capabilities.connection_model,
        order_position=order_position,
        trial=trial,
    )


def concurrency_figures(case: Case, timed: list[Round]) -> dict[str, Any] | None:
    """Throughput at the median round time, latency percentiles over every operation of the timed rounds."""
    if case.scenario.parameter != "concurrency":
        return None
    operations = case.arguments["operations"]
    median_seconds = statistics.median(r.seconds for r in timed)
    latency = percentiles([x for r in timed for x in r.latencies], (50, 95, 99))
    return {
        "tasks": case.arguments["concurrency"],
        "operations": operations,
        "throughput_ops_s": round(operations / median_seconds, 2),
        "latency_ms": {k: None if v is None else round(v * 1000, 4) for k, v in latency.items()},
    }


async def _nothing() -> None:
    return None


def run_overhead(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, rounds: int, facts: RunFacts
) -> float | None:
    """Time an empty round through exactly the path a scenario's round takes: what the harness adds to every
    figure. Its extra_info has every key of a scenario's (None or zero where nothing applies; adapter and
    database None, family `HARNESS_FAMILY`), plus `driving_median_us`: the cost of driving the loop from
    synchronous code (run_until_complete), which `loop_time` leaves out of every figure. Returns that cost's
    median in seconds."""
    driving: list[float] = []

    def target() -> None:
        start = perf_counter()
        loop.run_until_complete(_CLOCK.timed(_nothing))
        driving.append(perf_counter() - start)

    benchmark.pedantic(target, setup=lambda: ((), {}), rounds=rounds, warmup_rounds=min(rounds // 10, 10))
    driving_median = percentiles(driving, (50,))["p50"]
    benchmark.extra_info.update(
        extra_info(
            facts,
            adapter=None,
            database=None,
            scenario="round_overhead",
            family=HARNESS_FAMILY,
            label="An empty round through the harness's round path",
            parameter={},
            versions={"python": platform.python_version()},
            connection_model=None,
            rows_per_op=0,
            statements={"round_trips": 0, "executions": 0, "queries": 0},
            memory_peak_bytes=0,
            pool=None,
            concurrency=None,
            quality=None,
            driving_median_us=None if driving_median is None else round(driving_median * 1e6, 3),
        )
    )
    return driving_median
