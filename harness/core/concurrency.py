"""Run an operation from many concurrent tasks, and summarise latencies.

A round of a concurrency benchmark is `operations` calls shared by `tasks` workers: each worker takes the
next call as soon as it is free, so the pool sees a steady `tasks` callers until the queue runs dry.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter
from typing import Any


async def run_concurrently(
    operation: Callable[[int], Awaitable[Any]],
    tasks: int,
    operations: int,
    latencies: list[float] | None = None,
) -> list[Any]:
    """Call `operation(0)` ... `operation(operations - 1)` from `tasks` concurrent workers and return the results
    in call order. With `latencies`, the duration of every call (seconds) is appended to it: two perf_counter
    reads per call, well under a microsecond next to a database round trip."""
    results: list[Any] = [None] * operations
    indexes = iter(range(operations))  # shared by the workers: safe, next() never awaits

    async def worker() -> None:
        for i in indexes:
            if latencies is None:
                results[i] = await operation(i)
                continue
            start = perf_counter()
            results[i] = await operation(i)
            latencies.append(perf_counter() - start)

    await asyncio.gather(*(worker() for _ in range(min(tasks, operations))))
    return results


def percentiles(values: Sequence[float], points: Sequence[int]) -> dict[str, float | None]:
    """Nearest-rank percentiles, keyed `p50`, `p99`, ...; None for every point when there are no values."""
    ordered = sorted(values)
    return {
        f"p{point}": ordered[max(0, math.ceil(point / 100 * len(ordered)) - 1)] if ordered else None for point in points
    }
