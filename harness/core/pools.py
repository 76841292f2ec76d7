"""The gauges of an asyncpg pool, the pool under three adapters on PostgreSQL (raw, Tortoise, Piccolo).

Written once here so that the pool figures of those adapters are computed alike; SQLAlchemy's own QueuePool has
gauges of its own (backends/sqlalchemy/provider.py).
"""

from __future__ import annotations

from typing import Any


def asyncpg_pool_gauges(pool: Any) -> dict[str, int]:
    """`pool_status()`'s dict for an `asyncpg.Pool`: min, max, size, checked_out, idle, overflow."""
    size, idle, minimum = pool.get_size(), pool.get_idle_size(), pool.get_min_size()
    return {
        "min": minimum,
        "max": pool.get_max_size(),
        "size": size,
        "checked_out": size - idle,
        "idle": idle,
        "overflow": max(0, size - minimum),  # asyncpg has no overflow of its own: connections beyond min_size
    }
