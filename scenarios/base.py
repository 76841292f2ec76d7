"""The `Scenario` record: one scenario function and the untimed steps the benchmark wraps around it.

A scenario function is `async def name(p, data, **arguments)`: `p` is a connected provider, `data` the
`Dataset` loaded into it, and `arguments` the scenario's parameter (`size=`, or `concurrency=` and
`operations=`) plus whatever its `setup` returned. It calls only the provider contract and returns what it
read or wrote. The first line of its docstring is its label in reports.

Between benchmarks the database holds exactly the dataset. A scenario that writes keeps it so: rows it adds
get ids above the dataset's (the dataset's rows are numbered 1..N and never deleted), so `restore` finds
them by id; rows it changes are put back from the dataset. `setup` runs before every round, so every round
starts from the same state and does the same work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from harness.core.contract import BaseDatabaseProvider, BaseORMProvider
from harness.core.dataset import Dataset

Family = Literal[
    "crud",
    "eager",
    "bulk",
    "transactions",
    "concurrency",
    "migrations",
    "users",
    "audit",
    "embeddings",
    "graph",
    "cache",
]
Parameter = Literal["size", "concurrency"]
Step = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Sizes:
    """A parameterised scenario's size in each profile (harness/bench/runner.py names them): rows for a `size`
    scenario, operations per round for a `concurrency` one."""

    quick: int
    full: int


class Prepare(Protocol):
    """`prepare(p, size)`: fills a scenario's own database (harness/bench/workload.py passes `size=` by keyword)."""

    def __call__(self, p: BaseORMProvider, size: int) -> Awaitable[None]: ...


@dataclass(frozen=True)
class Scenario:
    """A scenario of the catalogue and the untimed steps around its timed call.

    run: the timed operation (`run(p, data, **arguments)`).
    setup: before every round: puts the data into the state the round starts from and returns extra
        keyword arguments for `run` (e.g. the id of the row it deletes), or None.
    check: after a round, `check(p, data, result, **arguments)`: raises `ScenarioFailed` unless the round did
        what it claims (rows returned, rows written, nothing left by a rollback, ...); returns the rows the
        round read or wrote.
    restore: after the benchmark: leaves the database holding exactly the dataset again.
    expected_queries: where the statement count is the point, `expected_queries(p, data)` is the number of
        queries (`StatementLog.queries`) one round must send.
    parameter: `size` (rows) or `concurrency` (tasks, from the command line), if any.
    sizes: with a parameter, its `Sizes`: the rows, or the operations per round, in each profile.
    prepare: set for a scenario that changes the schema: it runs on a database of its own, not on the dataset's;
        the database is created at head by the adapter's migrate, filled once by `prepare(p, size)`, and dropped
        with its provider after the benchmark (harness/bench/workload.py, `Workloads.own`).
    operations: the tier operations `run` calls (harness/core/workloads/): where the adapter declares one of them
        `unavailable` on the database (`Capabilities.paths`), the benchmark is skipped with the declared reason,
        which the run records.
    quality: after the last timed round, `quality(p, data, result, **arguments)` returns figures of the answer's
        quality that timing cannot show (an approximate search's recall), recorded with the benchmark.
    calls: how many calls a round of the full profile times, for a repeatable scenario (no setup, no concurrency),
        so that a cheap read's round times its steady state rather than one cold call after the other adapters'
        rounds (harness/bench/interleave.py). Declared, not calibrated from a timed call: calibrated, the count
        moved between 1 and 4 from run to run with the machine's noise, and with it the times (raw's SQLite
        `get_by_pk` about 115 us at 1 call a round, 54 to 89 us at 4), so runs and a family run alone measured
        different states. About 2 ms of the median adapter's work a round on this machine.
    """

    run: Step
    family: Family
    check: Step
    setup: Step | None = None
    restore: Step | None = None
    expected_queries: Callable[[BaseORMProvider, Dataset], Awaitable[int]] | None = None
    parameter: Parameter | None = None
    sizes: Sizes | None = None
    prepare: Prepare | None = None
    operations: tuple[str, ...] = ()
    quality: Step | None = None
    calls: int = 1

    def __post_init__(self) -> None:
        if (self.parameter is None) != (self.sizes is None):
            raise TypeError(f"scenario {self.id}: a parameter needs its sizes, and sizes a parameter")
        if self.calls < 1 or (self.calls > 1 and (self.setup is not None or self.parameter == "concurrency")):
            raise TypeError(f"scenario {self.id}: calls={self.calls}: only a repeatable scenario makes several a round")

    @property
    def id(self) -> str:
        return self.run.__name__

    def unavailable(self, p: BaseDatabaseProvider) -> str | None:
        """Why `p` cannot run this scenario (one of its `operations` declared unavailable there), or None."""
        for operation in self.operations:
            path = p.capabilities.paths.get(operation)
            if path is not None and path.kind == "unavailable":
                return f"{p.name} on {p.dialect} has no {operation}: {path.note}"
        return None

    @property
    def label(self) -> str:
        return (self.run.__doc__ or self.id).strip().splitlines()[0]


class ScenarioFailed(AssertionError):
    """A scenario's honesty check found that a round did not do what it claims."""


def expect(actual: Any, expected: Any, what: str) -> None:
    """Raise `ScenarioFailed` naming `what` unless actual == expected (works under `python -O` too)."""
    if actual != expected:
        raise ScenarioFailed(f"{what}: expected {expected!r}, got {actual!r}")


async def delete_added(p: BaseORMProvider, data: Dataset, model_name: str) -> None:
    """Remove the rows a scenario added to one table: every id above the dataset's."""
    rows = {
        "User": data.users,
        "Task": data.tasks,
        "Comment": data.comments,
        "Tag": data.tags,
        "AuditEvent": data.audit_events,
    }[model_name]
    await p.delete(getattr(p.models, model_name), {"id__gt": len(rows)})
