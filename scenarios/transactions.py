"""transactions: a committed batch, a rollback that must leave nothing, a savepoint, and a money transfer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harness.core.contract import BaseORMProvider
from harness.core.dataset import STARTING_BALANCE, Dataset
from scenarios.base import Scenario, delete_added, expect
from scenarios.crud import middle

BATCH = 10
AMOUNT = Decimal("1.00")


class RolledBack(Exception):
    """Raised inside a scenario's transaction to roll it back on purpose."""


async def move_money(p: BaseORMProvider, source: int, target: int, amount: Decimal) -> None:
    """Move `amount` between two accounts in one transaction, locking both rows (in id order, so concurrent
    transfers cannot deadlock) and logging the transfer."""
    Account = p.models.Account
    async with p.transaction():
        first, second = sorted((source, target))
        locked = {a: await p.get(Account, {"id": a}, for_update=True) for a in (first, second)}
        source_row, target_row = locked[source], locked[target]
        if source_row is None or target_row is None:
            raise LookupError(f"no account with id {source if source_row is None else target}")
        await p.update(Account, {"id": source}, {"balance": source_row.balance - amount})
        await p.update(Account, {"id": target}, {"balance": target_row.balance + amount})
        await p.create(p.models.TransferLog, {"from_account_id": source, "to_account_id": target, "amount": amount})


async def commit_batch(p: BaseORMProvider, data: Dataset) -> int:
    """Insert 10 tasks one at a time in one transaction and commit."""
    async with p.transaction():
        for i in range(BATCH):
            await p.create(p.models.Task, {"user_id": 1, "title": f"batch task {i}"})
    return BATCH


async def rollback(p: BaseORMProvider, data: Dataset) -> None:
    """Insert, update and delete in one transaction, then roll it all back."""
    try:
        async with p.transaction():
            await p.create(p.models.Task, {"user_id": 1, "title": "rolled back"})
            await p.update(p.models.Task, {"id": middle(data.tasks)}, {"title": "rolled back too"})
            await p.delete(p.models.Comment, {"id": 1})
            raise RolledBack
    except RolledBack:
        pass


async def savepoint(p: BaseORMProvider, data: Dataset) -> None:
    """A transaction whose nested savepoint is rolled back while the outer work commits."""
    async with p.transaction():
        await p.create(p.models.Task, {"user_id": 1, "title": "savepoint outer"})
        try:
            async with p.transaction():
                await p.create(p.models.Task, {"user_id": 1, "title": "savepoint inner"})
                raise RolledBack
        except RolledBack:
            pass


async def transfer(p: BaseORMProvider, data: Dataset) -> None:
    """Move money between two accounts under row locks and log it, in one transaction."""
    await move_money(p, 1, 2, AMOUNT)


# --- untimed steps -----------------------------------------------------------------------------------


async def _drop_new_tasks(p: BaseORMProvider, data: Dataset) -> None:
    await delete_added(p, data, "Task")


async def _new_task_titles(p: BaseORMProvider, data: Dataset) -> list[str]:
    return sorted(t.title for t in await p.get_many(p.models.Task, {"id__gt": len(data.tasks)}))


async def _check_commit_batch(p: BaseORMProvider, data: Dataset, result: int) -> int:
    expect(await _new_task_titles(p, data), sorted(f"batch task {i}" for i in range(BATCH)), "tasks committed")
    return BATCH


async def _check_rollback(p: BaseORMProvider, data: Dataset, result: None) -> int:
    expect(await _new_task_titles(p, data), [], "tasks left by the rollback")
    task = await p.get(p.models.Task, {"id": middle(data.tasks)})
    title = None if task is None else task.title
    expect(title, data.tasks[middle(data.tasks) - 1]["title"], "title after the rollback")
    expect(await p.exists(p.models.Comment, {"id": 1}), True, "comment 1 after the rollback")
    return 3


async def _check_savepoint(p: BaseORMProvider, data: Dataset, result: None) -> int:
    expect(await _new_task_titles(p, data), ["savepoint outer"], "tasks after the savepoint's rollback")
    return 2


async def reset_accounts(p: BaseORMProvider, data: Dataset, **parameter: Any) -> None:
    """Every account back to its starting balance, no transfer logged."""
    await p.update_many(p.models.Account, {}, {"balance": STARTING_BALANCE})
    await p.delete(p.models.TransferLog, {"id__gt": 0})


async def _reset_pair(p: BaseORMProvider, data: Dataset) -> None:
    # Only the two accounts `transfer` touches: resetting all of them would make the untimed part of a round
    # the longest.
    await p.update_many(p.models.Account, {"id__in": [1, 2]}, {"balance": STARTING_BALANCE})
    await p.delete(p.models.TransferLog, {"id__gt": 0})


async def check_balances(p: BaseORMProvider, data: Dataset, transfers: int) -> None:
    """The money is all there, and every transfer left its log row."""
    balances = [a.balance for a in await p.get_many(p.models.Account)]
    expect(sum(balances, Decimal("0.00")), data.total_balance, "sum of the balances")
    expect(await p.count(p.models.TransferLog), transfers, "transfer_log rows")


async def _check_transfer(p: BaseORMProvider, data: Dataset, result: None) -> int:
    await check_balances(p, data, 1)
    accounts = await p.get_many(p.models.Account, {"id__in": [1, 2]}, order_by="id")
    expect([a.balance for a in accounts], [STARTING_BALANCE - AMOUNT, STARTING_BALANCE + AMOUNT], "balances")
    return 5


SCENARIOS = (
    Scenario(commit_batch, "transactions", _check_commit_batch, setup=_drop_new_tasks, restore=_drop_new_tasks),
    Scenario(rollback, "transactions", _check_rollback),
    Scenario(savepoint, "transactions", _check_savepoint, setup=_drop_new_tasks, restore=_drop_new_tasks),
    Scenario(transfer, "transactions", _check_transfer, setup=_reset_pair, restore=reset_accounts),
)
