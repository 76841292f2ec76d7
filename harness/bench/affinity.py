"""Where the measured code runs (Linux CPU affinity): the same CPUs for every round of every adapter.

On a small machine the harness process and the PostgreSQL backend serving it otherwise compete for the same
cores, and the scheduler's choice of who waits differs from round to round. While a PostgreSQL group is measured
(harness/bench/interleave.py), `separate_cpus` pins the throwaway cluster's processes (the postmaster and every
backend it has forked) to the last CPU and every thread of this process to the others, then restores both.

SQLite runs in this process: every statement is a hop from the event loop to an aiosqlite thread and back. Left
to the scheduler, that thread runs on the loop's CPU in some rounds and on another in others, and waking a thread
on another (idle) CPU of this virtual machine costs tens of microseconds: raw `get_by_pk` read 55 or 120 us per
round, one mode or the other, and the medians of whole runs moved by up to 50% (2.8x for `concurrent_transfer`).
`one_cpu` puts every thread of the process on the first CPU while a SQLite group is measured (threads started
meanwhile inherit it), so every hop is a switch on one CPU, the same in every round; measured on the crud and
concurrency families, it halved the median coefficient of variation between rounds (13% to 6%).

Both apply only where they can: Linux, at least 2 CPUs, and for PostgreSQL a server the harness started (a server
given by URL may run anywhere). `describe()` is what a run records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def available() -> bool:
    return hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2


def split() -> tuple[set[int], set[int]]:
    """(client CPUs, server CPUs): the last CPU for the server, the others for the client."""
    cpus = sorted(os.sched_getaffinity(0))
    return set(cpus[:-1]), {cpus[-1]}


def sqlite_cpu() -> int:
    """The CPU of every thread while SQLite is measured: the first of the client's."""
    return min(split()[0])


def describe(enabled: bool) -> dict[str, object]:
    if not enabled:
        return {"enabled": False}
    if not available():
        return {"enabled": False, "reason": "needs Linux CPU affinity and at least 2 CPUs"}
    client, server = split()
    return {"enabled": True, "client_cpus": sorted(client), "server_cpus": sorted(server), "sqlite_cpu": sqlite_cpu()}


def server_pids(data_dir: Path) -> list[int]:
    """The postmaster (first line of postmaster.pid) and its children (backends and auxiliary processes)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    children: list[int] = []
    for task in Path(f"/proc/{postmaster}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [postmaster, *children]


def _pin_process(pids: list[int], cpus: set[int]) -> None:
    for pid in pids:
        try:
            os.sched_setaffinity(pid, cpus)
        except ProcessLookupError:  # a backend that exited meanwhile
            continue


def _own_threads() -> list[int]:
    return [int(tid) for tid in os.listdir("/proc/self/task")]


@contextmanager
def separate_cpus(data_dir: Path | None) -> Iterator[None]:
    """Client and server apart for the block (see the module docstring); nothing without a local server or where
    affinity is unavailable."""
    if data_dir is None or not available():
        yield
        return
    everything = os.sched_getaffinity(0)
    client, server = split()
    _pin_process(server_pids(data_dir), server)
    _pin_process(_own_threads(), client)
    try:
        yield
    finally:
        _pin_process(_own_threads(), everything)
        _pin_process(server_pids(data_dir), everything)


@contextmanager
def one_cpu() -> Iterator[None]:
    """Every thread of this process on the first CPU for the block (see the module docstring), then on all again;
    nothing where affinity is unavailable."""
    if not available():
        yield
        return
    everything = os.sched_getaffinity(0)
    _pin_process(_own_threads(), {sqlite_cpu()})
    try:
        yield
    finally:
        _pin_process(_own_threads(), everything)
