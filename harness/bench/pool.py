"""Pool metrics of one measured run: checked-out peak, size, idle, overflow, and how long callers waited.

`async with observe_pool(provider) as observer:` times every connection checkout while the block runs and
samples `provider.pool_status()` (the contract's gauges) right after each checkout, when a new peak can form,
and every millisecond besides. Like harness/core/statements.py it patches nothing outside the block, so the timed
rounds run on untouched code; the benchmarks observe the pool on a separate, untimed round.

Checkouts are timed in two ways, both active during the block:
- asyncpg's `Pool._acquire` (what `pool.acquire()` and `pool.fetch()` await) is wrapped at class level: this
  covers every adapter whose pool is asyncpg's (raw, Tortoise and Piccolo on PostgreSQL). Only the measured
  provider runs during the block, so every checkout timed is its own.
- any other pool (SQLAlchemy's QueuePool) is timed by the adapter itself, through the optional contract hook
  `BaseORMProvider.pool_wait_probe(record)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from asyncpg.pool import Pool

from harness.core.concurrency import percentiles
from harness.core.contract import BaseORMProvider
from harness.core.versions import require

require("asyncpg")

SAMPLE_INTERVAL = 0.001


@dataclass
class PoolObserver:
    """What one observed run did to the pool."""

    provider: BaseORMProvider
    waits: list[float] = field(default_factory=list)
    peaks: dict[str, int] = field(default_factory=dict)
    last: dict[str, int] | None = None

    def record_wait(self, seconds: float) -> None:
        """One checkout that waited `seconds` for its connection (called once the connection is out)."""
        self.waits.append(seconds)
        self.sample()

    def sample(self) -> None:
        status = self.provider.pool_status()
        if status is None:
            return
        self.last = status
        for gauge in ("size", "checked_out", "overflow"):
            self.peaks[gauge] = max(self.peaks.get(gauge, 0), status[gauge])

    def summary(self) -> dict[str, Any] | None:
        """The `pool` entry of a benchmark's extra_info; None where the adapter has no pool."""
        self.sample()
        if self.last is None:
            return None
        wait = percentiles(self.waits, (50, 99))
        return {
            "min": self.last["min"],
            "max": self.last["max"],
            "size": self.peaks["size"],
            "checked_out_peak": self.peaks["checked_out"],
            "idle": self.last["idle"],
            "overflow": self.peaks["overflow"],
            "acquire_wait_p50_ms": None if wait["p50"] is None else round(wait["p50"] * 1000, 4),
            "acquire_wait_p99_ms": None if wait["p99"] is None else round(wait["p99"] * 1000, 4),
            "acquires": len(self.waits),
        }


@contextlib.contextmanager
def _timed_asyncpg_acquire(record: Callable[[float], None]) -> Iterator[None]:
    original = Pool._acquire

    async def _acquire(self: Pool, timeout: float | None) -> Any:
        start = perf_counter()
        connection = await original(self, timeout)
        record(perf_counter() - start)
        return connection

    Pool._acquire = _acquire
    try:
        yield
    finally:
        Pool._acquire = original


async def _sample_forever(observer: PoolObserver) -> None:
    while True:
        observer.sample()
        await asyncio.sleep(SAMPLE_INTERVAL)


@contextlib.asynccontextmanager
async def observe_pool(provider: BaseORMProvider) -> AsyncIterator[PoolObserver]:
    """Time checkouts and sample the pool gauges while the block runs."""
    observer = PoolObserver(provider)
    with _timed_asyncpg_acquire(observer.record_wait), provider.pool_wait_probe(observer.record_wait):
        sampler = asyncio.create_task(_sample_forever(observer))
        try:
            yield observer
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
