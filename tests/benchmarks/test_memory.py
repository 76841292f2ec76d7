"""The memory probe measures the operation, not the driver: on PostgreSQL it separates the adapters.

tracemalloc's plain peak was 262-274 KiB for every adapter on PostgreSQL, raw included: asyncio's 256 KiB socket
read buffer (harness/bench/runner.py's docstring). The runner's probe, `Case.peak_memory` (`allocated_by`), leaves
it out; these tests run that probe on the throwaway cluster, each adapter on a database of this test's own with
the quick dataset. Measured here (KiB, quick profile, read_large of 200 rows): raw 67, tortoise 124, piccolo 144,
sqlalchemy 245; get_by_pk: raw 7, tortoise 13, piccolo 14, sqlalchemy 24. At 10,000 rows (full profile): raw
4,719, tortoise 6,630, piccolo 8,477, sqlalchemy 13,601.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from harness.bench.runner import QUICK, Case, allocated_by, small_socket_reads
from harness.bench.workload import Workload
from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import generate, load
from harness.core.factory import adapter_class
from harness.databases.targets import PostgresTarget
from scenarios import CATALOGUE

pytestmark = pytest.mark.postgresql

DATA = generate(QUICK.dataset)
KIB = 1024
OLD_BASELINE = 262 * KIB
"""What the plain tracemalloc peak gave raw's get_by_pk on PostgreSQL: the socket read buffer and 6 KiB."""


@pytest.fixture(scope="module")
async def workloads(postgresql_target: PostgresTarget) -> AsyncIterator[dict[str, Workload[BaseORMProvider]]]:
    """Every adapter on a database of its own (not the benchmarks' `bench_*`), the quick dataset loaded."""
    loaded: dict[str, Workload[BaseORMProvider]] = {}
    try:
        for adapter in CONTRACT:
            url = await postgresql_target.new_database(f"memory_{adapter}")
            provider = adapter_class(adapter)(DatabaseConfig.from_mapping({"url": url, "pool_size": 10}))
            await provider.connect()
            loaded[adapter] = Workload(adapter, "postgresql", provider, DATA, {})
            await provider.create_schema()
            await load(provider, DATA)
        yield loaded
    finally:
        for workload in loaded.values():
            await workload.provider.disconnect()


async def probe(workload: Workload[BaseORMProvider], scenario: str) -> int:
    """The runner's memory probe on one checked round of `scenario` (after a first, warming round)."""
    case = Case.build(CATALOGUE[scenario], workload, QUICK)
    await case.calibrate()
    await case.restore()
    try:
        return await case.peak_memory()
    finally:
        await case.restore()


async def test_read_large_separates_the_orms_from_raw(workloads: dict[str, Workload[BaseORMProvider]]) -> None:
    memory = {adapter: await probe(workload, "read_large") for adapter, workload in workloads.items()}
    raw = memory.pop("raw")
    shown = {adapter: round(value / KIB, 1) for adapter, value in memory.items()} | {"raw": round(raw / KIB, 1)}
    # Model instances cost more than raw's dataclasses: SQLAlchemy's 3.6x here (2.9x at 10,000 rows), Tortoise's
    # 1.9x (1.4x), Piccolo's 2.1x (1.8x).
    assert memory["sqlalchemy"] >= 2 * raw, shown
    assert all(value >= 1.25 * raw for value in memory.values()), shown


async def test_a_small_operation_is_far_below_the_read_buffer(workloads: dict[str, Workload[BaseORMProvider]]) -> None:
    memory = {adapter: await probe(workload, "get_by_pk") for adapter, workload in workloads.items()}
    shown = {adapter: round(value / KIB, 1) for adapter, value in memory.items()}
    assert memory["raw"] < OLD_BASELINE / 8, shown  # 7 KiB
    assert all(value < OLD_BASELINE / 4 for value in memory.values()), shown  # 7 to 24 KiB
    assert memory["sqlalchemy"] > 2 * memory["raw"], shown  # the ORM's work shows: 24 KiB against 7


async def test_the_read_buffer_was_the_excess(workloads: dict[str, Workload[BaseORMProvider]]) -> None:
    """With asyncio's default reads (256 KiB) the same probe gives the old figure back: the buffer, not the
    operation, made the 262 KiB."""
    workload = workloads["raw"]
    case = Case.build(CATALOGUE["get_by_pk"], workload, QUICK)
    await case.calibrate()
    default = asyncio.selector_events._SelectorSocketTransport.max_size  # type: ignore[attr-defined]
    arguments = await case.setup()
    small = await allocated_by(case.call, arguments)

    async def at_default_reads() -> None:
        with small_socket_reads(default):
            await case.call(arguments)

    assert await allocated_by(at_default_reads) >= default > small * 8
