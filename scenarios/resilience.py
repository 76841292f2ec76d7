"""resilience: how an adapter lives through a restart of the database server, without restarting the process.

`server_restart` keeps `concurrency` tasks reading users by primary key through one connected provider, asks
for a server restart (`restart`, supplied by the caller: the throwaway cluster's `restart()`), and watches what
the adapter makes of it: how many operations failed, how long from the restart until it served again, and
whether it recovered at all within `window` seconds, on its own (the provider is never reconnected).

A failed operation is retried by its task after `backoff` seconds (as an application's retry loop would), and
an operation that has not returned after `op_timeout` seconds counts as failed, so a stuck adapter shows up as
failures and a late recovery rather than as a hung run. `failed_ops` therefore depends on how fast an adapter
fails (a refused connection fails in a millisecond, a dead socket may take longer): read it with `total_ops`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from time import perf_counter
from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset

FAMILY = "resilience"
"""Not a family of the catalogue: `server_restart` needs a server it may restart (harness/bench/suite.py)."""
DEFAULT_CONCURRENCY = 8


@dataclass
class Resilience:
    """What one restart did to one adapter. Times are seconds from the moment the restart was asked for."""

    total_ops: int = 0
    failed_ops: int = 0
    server_down_s: float | None = None
    """How long the restart itself took (the server was unavailable at most this long)."""
    recovery_s: float | None = None
    """Until the first operation that succeeded after the server was back; None if none did."""
    recovered: bool = False
    """Served again within the window, through the same provider (no reconnect, no new process)."""
    failed_after_recovery: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    """Failures by exception type (the harness's own where the contract translates them)."""
    examples: dict[str, str] = field(default_factory=dict)
    """The first message of each exception type."""

    def as_dict(self) -> dict[str, Any]:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in asdict(self).items()}


@dataclass
class _Watch:
    restart_asked: float | None = None
    server_back: float | None = None
    first_success: float | None = None
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    outcome: Resilience = field(default_factory=Resilience)

    def success(self, finished: float) -> None:
        self.outcome.total_ops += 1
        if self.server_back is not None and self.first_success is None:
            self.first_success = finished

    def failure(self, exc: BaseException) -> None:
        self.outcome.total_ops += 1
        self.outcome.failed_ops += 1
        name = type(exc).__name__
        self.errors[name] += 1
        self.examples.setdefault(name, " ".join(str(exc).split())[:200] or name)
        if self.first_success is not None:
            self.outcome.failed_after_recovery += 1


async def server_restart(
    p: BaseORMProvider,
    data: Dataset,
    restart: Callable[[], Awaitable[None]],
    concurrency: int = DEFAULT_CONCURRENCY,
    before: float = 0.5,
    window: float = 10.0,
    after: float = 0.5,
    backoff: float = 0.02,
    op_timeout: float = 5.0,
) -> Resilience:
    """Concurrent primary-key reads while the database server restarts."""
    User, users = p.models.User, len(data.users)
    watch, stop = _Watch(), asyncio.Event()

    async def worker(offset: int) -> None:
        i = offset
        while not stop.is_set():
            i += concurrency
            try:
                await asyncio.wait_for(p.get(User, {"id": i % users + 1}), op_timeout)
            except Exception as exc:  # every failure is data here: counted by type, then retried
                watch.failure(exc)
                await asyncio.sleep(backoff)
            else:
                watch.success(perf_counter())

    tasks = [asyncio.create_task(worker(n)) for n in range(concurrency)]
    try:
        await asyncio.sleep(before)
        watch.restart_asked = perf_counter()
        await restart()
        watch.server_back = perf_counter()
        deadline = watch.server_back + window
        while watch.first_success is None and perf_counter() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(after)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return _summary(watch)


def _summary(watch: _Watch) -> Resilience:
    outcome, asked = watch.outcome, watch.restart_asked or 0.0
    outcome.server_down_s = None if watch.server_back is None else watch.server_back - asked
    outcome.recovered = watch.first_success is not None
    outcome.recovery_s = None if watch.first_success is None else watch.first_success - asked
    outcome.errors = dict(watch.errors.most_common())
    outcome.examples = dict(watch.examples)
    return outcome
