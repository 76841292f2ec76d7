"""concurrency: throughput of a short read and of a transfer from 1 to 64 concurrent tasks over a fixed pool.

A round is `operations` calls shared by `concurrency` tasks (harness.core.concurrency.run_concurrently); with
`latencies`, each call's duration is recorded for the latency percentiles.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from harness.core.concurrency import run_concurrently
from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset
from scenarios.base import Scenario, Sizes, expect
from scenarios.transactions import check_balances, move_money, reset_accounts

Move = tuple[int, int, Decimal]


async def concurrent_get_by_pk(
    p: BaseORMProvider, data: Dataset, concurrency: int, operations: int, latencies: list[float] | None = None
) -> list[Any]:
    """Primary-key reads of users from concurrent tasks."""
    User, users = p.models.User, len(data.users)
    return await run_concurrently(lambda i: p.get(User, {"id": i % users + 1}), concurrency, operations, latencies)


async def concurrent_transfer(
    p: BaseORMProvider,
    data: Dataset,
    concurrency: int,
    operations: int,
    moves: list[Move],
    latencies: list[float] | None = None,
) -> list[Any]:
    """Money transfers under row locks from concurrent tasks."""
    return await run_concurrently(lambda i: move_money(p, *moves[i]), concurrency, operations, latencies)


# --- untimed steps -----------------------------------------------------------------------------------


async def _check_reads(p: BaseORMProvider, data: Dataset, users: list[Any], concurrency: int, operations: int) -> int:
    expect([u.id for u in users], [i % len(data.users) + 1 for i in range(operations)], "users read")
    return operations


def _moves(data: Dataset, operations: int) -> list[Move]:
    """The same transfers every round: random pairs of accounts, small amounts (a seeded generator)."""
    rng = random.Random(operations)
    accounts = range(1, len(data.accounts) + 1)

    def move() -> Move:
        source, target = rng.sample(accounts, 2)
        return source, target, Decimal(rng.randint(1, 500)) / 100

    return [move() for _ in range(operations)]


async def _prepare_transfers(p: BaseORMProvider, data: Dataset, concurrency: int, operations: int) -> dict[str, Any]:
    await reset_accounts(p, data)
    return {"moves": _moves(data, operations)}


async def _check_transfers(p: BaseORMProvider, data: Dataset, results: list[Any], operations: int, **rest: Any) -> int:
    await check_balances(p, data, operations)
    return 5 * operations


SCENARIOS = (
    Scenario(
        concurrent_get_by_pk, "concurrency", _check_reads, parameter="concurrency", sizes=Sizes(quick=32, full=128)
    ),
    Scenario(
        concurrent_transfer,
        "concurrency",
        _check_transfers,
        setup=_prepare_transfers,
        restore=reset_accounts,
        parameter="concurrency",
        sizes=Sizes(quick=16, full=64),
    ),
)
