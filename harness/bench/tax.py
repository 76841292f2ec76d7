"""The adapter tax: what the provider contract costs each adapter over its own ORM called directly.

Each operation of `TAXED` runs two ways on the same loaded database:
- provider: the contract call of a catalogue scenario (`get_by_pk`, `filter_page`, `insert_one`, `one_level`), with
  the values the scenario takes from the dataset passed as arguments: the public method and the adapter's hooks;
- direct: the adapter's control, the same operation written straight against its ORM (raw: its driver) as the ORM's
  documentation shows it, on the provider's own engine or pool and model classes. Controls live with each backend
  (backends/<orm>/controls.py, reached through the registry: `harness.core.factory.adapter_controls`): a plain
  `async def <scenario id>(provider, **arguments)` per operation, and optionally `current(provider)`, a context
  manager for what an application sets up once rather than per call (Tortoise's context), entered untimed.

One operation at a time, inside one coroutine (so both ways run in the same task), with the process state of the
benchmarks' groups (`fresh_process_state`: earlier garbage frozen out of the collector) and, on the throwaway
PostgreSQL cluster, client and server on CPUs of their own as there (harness/bench/affinity.py, applied by the
suite's test): `warmup` pairs, not counted; then the pairs, each running both ways in an order drawn from a seeded
generator (shuffled pairs), each call after the scenario's untimed setup and timed alone with `perf_counter`, until
both medians are precise enough or the profile's cap is spent (`TaxProfile`). Then one checked call each way: the
scenario's `check` must pass on both results, and both calls, captured at the drivers (harness/core/statements.py),
must send the same SQL (values aside), else `ScenarioFailed`: the control does the provider's work and returns the
same rows. The scenario's restore leaves the dataset as it was.

The figures per operation (`extra_info["adapter_tax"]`, keys in harness/bench/extra_info.py): both medians, the tax
`median(provider) / median(direct) - 1`, the pairs and why they stopped, and every timed call. The report
(harness/report/tax.py) draws the tax's 95% interval from those samples with the bootstrap of the report's other
ratios (harness/report/statistics.py, in a layer this one may not import), paired call by call.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import statistics
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from time import perf_counter
from types import ModuleType
from typing import Any, Literal

from harness.bench.extra_info import ADAPTER_TAX, HARNESS_FAMILY, RunFacts, extra_info
from harness.bench.interleave import fresh_process_state, median_precision
from harness.bench.runner import BenchmarkFixture
from harness.bench.workload import Workload
from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset
from harness.core.factory import adapter_controls
from harness.core.statements import StatementLog, capture
from scenarios import CATALOGUE, Scenario, ScenarioFailed, crud, eager

WAYS = ("provider", "direct")
_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
LABEL = "The contract's cost: each operation through the provider over the same ORM called directly"


# The provider way's calls return the contract method's coroutine rather than awaiting it in one of their own: the
# direct way awaits the control itself, so a coroutine of the harness's on one side only would be taxed on the
# contract (a level of awaiting costs the get by key about 1% on SQLite).


def _get_by_pk(p: BaseORMProvider, user_id: int) -> Awaitable[Any]:
    return p.get(p.models.User, {"id": user_id})


def _filter_page(p: BaseORMProvider, completed: bool, min_priority: int, limit: int, offset: int) -> Awaitable[Any]:
    filters = {"completed": completed, "priority__gte": min_priority}
    return p.get_many(p.models.Task, filters, limit=limit, offset=offset, order_by="-created_at")


def _insert_one(p: BaseORMProvider, username: str, email: str) -> Awaitable[Any]:
    return p.create(p.models.User, {"username": username, "email": email})


def _one_level(p: BaseORMProvider, last_user_id: int) -> Awaitable[Any]:
    return p.get_many_optimized(p.models.User, {"id__lte": last_user_id}, relations=["tasks"])


@dataclass(frozen=True)
class Taxed:
    """An operation measured both ways: `call(provider, **arguments)` is the scenario's contract call, with its values
    as keyword arguments (`arguments(dataset)`), which the control (`<scenario id>(provider, **arguments)`) takes too;
    the scenario (`Scenario.id`) gives the untimed setup, the check of both results and the restore."""

    scenario: str
    call: Callable[..., Awaitable[Any]]
    arguments: Callable[[Dataset], dict[str, Any]]


TAXED = (
    Taxed("get_by_pk", _get_by_pk, lambda data: {"user_id": crud.middle(data.users)}),
    Taxed(
        "filter_page",
        _filter_page,
        lambda data: {
            "completed": crud.PAGE_FILTER["completed"],
            "min_priority": crud.PAGE_FILTER["priority__gte"],
            "limit": crud.PAGE_SIZE,
            "offset": crud.PAGE_SIZE,
        },
    ),
    Taxed("insert_one", _insert_one, lambda data: dict(crud.NEW_USER_ROW)),
    Taxed("one_level", _one_level, lambda data: {"last_user_id": eager.users_filter(data)["id__lte"]}),
)
"""The operations taxed: a read by key, a page, a write, an eager load."""


@dataclass(frozen=True)
class TaxProfile:
    """How long to measure each operation: pairs until both ways' medians are known to within `precision` (the
    benchmarks' criterion, `median_precision`), or the pairs (setups included) have taken `cap` seconds, within
    `pairs` (fewest, most); after `warmup` pairs that are not counted."""

    precision: float
    cap: float
    pairs: tuple[int, int]
    warmup: int

    def stop(self, samples: dict[str, list[float]], seconds: float) -> StopReason | None:
        """Why the pairs so far are enough, if they are."""
        done = len(samples[WAYS[0]])
        if done >= self.pairs[1]:
            return "max_pairs"
        if done < self.pairs[0]:
            return None
        if seconds >= self.cap:
            return "cap"
        precise = done % PRECISION_EVERY == 0 and all(median_precision(s) <= self.precision for s in samples.values())
        return "precision" if precise else None


StopReason = Literal["precision", "cap", "max_pairs"]
PRECISION_EVERY = 10
"""Pairs between two tests of the precision (each sorts every sample)."""
TAX_PROFILES = {
    "quick": TaxProfile(precision=math.inf, cap=0.0, pairs=(10, 10), warmup=1),
    "full": TaxProfile(precision=0.01, cap=1.0, pairs=(40, 1000), warmup=10),
}
"""Per profile. The full one: 1% on each median (about 1.5% on the tax) or a second per operation, so the 8
adapter-database benchmarks take about half a minute on the 2-core dev machine; 1,000 pairs at most keep the
report's bootstrap of each tax (2,000 resamples) to a few tens of milliseconds."""


@dataclass(frozen=True)
class Way:
    """One way of running an operation: `call(setup arguments)` is timed, `around()` entered untimed around it."""

    call: Callable[[dict[str, Any]], Awaitable[Any]]
    around: Callable[[], AbstractContextManager[Any]]


def run_tax(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, workload: Workload, profile: str, facts: RunFacts
) -> dict[str, dict[str, Any]]:
    """Measure every operation of `TAXED` both ways on `workload` as one benchmark round, fill its extra_info, and
    return the figures per operation."""
    controls = adapter_controls(workload.adapter)
    tax_profile = TAX_PROFILES[profile]
    figures: dict[str, dict[str, Any]] = {}

    def measure_all() -> None:
        for taxed in TAXED:
            seed = f"{facts.order_seed}-{workload.adapter}-{workload.database}-{taxed.scenario}"
            with fresh_process_state():
                figures[taxed.scenario] = loop.run_until_complete(
                    measure(workload, taxed, controls, tax_profile, random.Random(seed))
                )

    benchmark.pedantic(measure_all, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(
        extra_info(
            facts,
            adapter=workload.adapter,
            database=workload.database,
            scenario=ADAPTER_TAX,
            family=HARNESS_FAMILY,
            label=LABEL,
            parameter={},
            versions=workload.versions,
            connection_model=workload.provider.capabilities.connection_model,
            adapter_tax=figures,
        )
    )
    return figures


async def measure(
    workload: Workload, taxed: Taxed, controls: ModuleType, profile: TaxProfile, order: random.Random
) -> dict[str, Any]:
    """One operation's figures (see the module docstring); the dataset is restored afterwards."""
    scenario = CATALOGUE[taxed.scenario]
    ways = ways_of(workload, taxed, controls)
    try:
        for _ in range(profile.warmup):
            await _pair(workload, scenario, ways, order)
        samples: dict[str, list[float]] = {name: [] for name in WAYS}
        start = perf_counter()
        while (stopped_by := profile.stop(samples, perf_counter() - start)) is None:
            for name, seconds in (await _pair(workload, scenario, ways, order)).items():
                samples[name].append(seconds)
        queries = await same_work(workload, scenario, ways)
    finally:
        if scenario.restore is not None:
            await scenario.restore(workload.provider, workload.dataset)
    medians = {name: statistics.median(samples[name]) for name in WAYS}
    return {
        "pairs": len(samples["provider"]),
        "stopped_by": stopped_by,
        "provider_median_us": round(medians["provider"] * 1e6, 3),
        "direct_median_us": round(medians["direct"] * 1e6, 3),
        "tax": round(medians["provider"] / medians["direct"] - 1, 5),
        "queries": queries,
        "provider_us": [round(s * 1e6, 3) for s in samples["provider"]],
        "direct_us": [round(s * 1e6, 3) for s in samples["direct"]],
    }


def ways_of(workload: Workload, taxed: Taxed, controls: ModuleType) -> dict[str, Way]:
    """The two ways of `taxed` on `workload`: "provider" and "direct" (the control of `controls`)."""
    p = workload.provider
    arguments = taxed.arguments(workload.dataset)
    control = getattr(controls, taxed.scenario)
    current: Callable[[Any], AbstractContextManager[Any]] = getattr(controls, "current", lambda _: nullcontext())

    async def provider(setup: dict[str, Any]) -> Any:
        return await taxed.call(p, **arguments, **setup)

    async def direct(setup: dict[str, Any]) -> Any:
        return await control(p, **arguments, **setup)

    return {"provider": Way(provider, nullcontext), "direct": Way(direct, lambda: current(p))}


async def setup_round(workload: Workload, scenario: Scenario) -> dict[str, Any]:
    """The scenario's untimed setup before a call; the arguments it adds."""
    if scenario.setup is None:
        return {}
    return await scenario.setup(workload.provider, workload.dataset) or {}


async def _pair(workload: Workload, scenario: Scenario, ways: dict[str, Way], order: random.Random) -> dict[str, float]:
    """Both ways once, in a random order, each after the scenario's setup: their seconds."""
    seconds = {}
    for name in order.sample(WAYS, len(WAYS)):
        setup = await setup_round(workload, scenario)
        with ways[name].around():
            start = perf_counter()
            await ways[name].call(setup)
            seconds[name] = perf_counter() - start
    return seconds


def _shape(sql: str) -> str:
    """A statement without its values: sqlite3's trace shows the bound values inlined (a timestamp of now differs
    from call to call)."""
    return _LITERALS.sub("?", sql)


async def same_work(workload: Workload, scenario: Scenario, ways: dict[str, Way]) -> int:
    """One checked, captured call each way: both must pass the scenario's check and send the same SQL; returns
    the queries of one call."""
    logs: dict[str, StatementLog] = {}
    for name in WAYS:
        setup = await setup_round(workload, scenario)
        with ways[name].around():
            async with capture() as log:
                result = await ways[name].call(setup)
        try:
            await scenario.check(workload.provider, workload.dataset, result, **setup)
        except ScenarioFailed as exc:
            raise ScenarioFailed(f"{scenario.id}, {name} way on {workload.adapter}: {exc}") from exc
        logs[name] = log
    sent = {name: [_shape(statement.sql) for statement in log.statements] for name, log in logs.items()}
    if sent["provider"] != sent["direct"]:
        lines = "\n  ".join(f"{name}: {sql}" for name in WAYS for sql in sent[name])
        raise ScenarioFailed(f"{scenario.id} on {workload.adapter}: the control sends other statements:\n  {lines}")
    return logs["provider"].queries
