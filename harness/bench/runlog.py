"""A pytest plugin that keeps what a benchmark run measured whatever happens to it (`-p harness.bench.runlog`).

`orm-harness run` loads it into the suite. With `--benchmark-json=DIR/benchmark.json` it:
- appends every finished benchmark to `DIR/benchmark.jsonl` as soon as it is measured (flushed and fsynced),
  so a run killed even by SIGKILL keeps everything measured before; `recover(DIR)` turns that record into a
  `benchmark.json` marked partial;
- makes `benchmark.json` appear atomically: pytest-benchmark writes the path given to `--benchmark-json` at the
  end of the session, in place; the plugin points it at `benchmark.json.partial` and renames that once it is
  complete (never half a file, never an empty one);
- stops the session within seconds when the database server goes away (a connection refused or dropped:
  `harness.core.errors.is_server_gone`), with a one-line reason, rather than failing every remaining benchmark
  against a dead server; the results so far are written and marked partial (`machine_info.harness.partial`);
- turns SIGTERM into KeyboardInterrupt (so the suite unwinds, writes and stops its cluster as on Ctrl-C), and
  asks Linux to send that SIGTERM when the CLI that started the suite dies (PR_SET_PDEATHSIG), so a killed
  CLI does not leave an orphaned suite running.

The record's format and how a killed run is recovered from it: harness/bench/runrecord.py.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.bench.runrecord import PARTIAL_SUFFIX, RECORD_FORMAT, RECORD_SUFFIX, append_line, write_atomic
from harness.core.errors import HarnessError, is_server_gone, redact
from harness.core.versions import require
from harness.databases.pgserver import SIGNALS_RECEIVED, interrupt_on_sigterm

STOP_STATUS = 75
"""The suite's exit status when it stopped because the database server went away (EX_TEMPFAIL; pytest's own
statuses are 0 to 5)."""


# --- the plugin ------------------------------------------------------------------------------------------


@dataclass
class _State:
    final: Path | None = None
    record: Path | None = None
    recorded: set[int] = field(default_factory=set)
    machine_info: dict[str, Any] | None = None
    machine_written: str | None = None
    partial: str | None = None
    server_gone: bool = False


_STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        config.stash[_STATE] = _State()
    return config.stash[_STATE]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before pytest-benchmark reads its options: send its JSON to the `.partial` file, start the record."""
    try:
        require("pytest-benchmark")
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = _state(config)
    interrupt_on_sigterm()
    if os.environ.get("ORM_HARNESS_PROGRESS_FD"):
        _die_with_parent()
    target = getattr(config.option, "benchmark_json", None)
    if target is None:
        return
    state.final = Path(target).resolve()
    config.option.benchmark_json = state.final.with_name(state.final.name + PARTIAL_SUFFIX)
    state.record = state.final.with_suffix(RECORD_SUFFIX)
    state.record.unlink(missing_ok=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield
    _record_new(item.config)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    yield
    if call.excinfo is not None and is_server_gone(call.excinfo.value):
        first = " ".join(str(call.excinfo.value).split())[:200]
        reason = redact(f"the database server went away during {item.nodeid} ({first})")
        if not item.session.shouldstop:
            item.session.shouldstop = f"orm-harness: {reason}; stopping the run, what was measured is kept"
            _state(item.config).server_gone = True
            _stopped(item.config, reason)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    """Around pytest-benchmark writing its JSON (this wrapper is the outermost): first drop the benchmarks cut
    short and note why the run is partial; afterwards move the JSON into place and close the record."""
    state = _state(session.config)
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or SIGNALS_RECEIVED
    if interrupted and state.partial is None:
        _stopped(session.config, "the run was interrupted")
    for metadata in _benchmarks(session.config):
        if id(metadata) not in state.recorded:
            metadata.fixture.has_error = True  # measured only in part: pytest-benchmark leaves it out
    yield
    if state.server_gone:  # pytest says INTERRUPTED (shouldstop) or TESTS_FAILED: say why instead
        session.exitstatus = STOP_STATUS
    _finish(session.config, int(session.exitstatus))


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: dict[str, Any]) -> None:
    partial = _state(config).partial
    if partial is not None:
        output_json.setdefault("machine_info", {}).setdefault("harness", {})["partial"] = partial


def _finish(config: pytest.Config, exitstatus: int) -> None:
    state = _state(config)
    if state.final is None:
        return
    partial = state.final.with_name(state.final.name + PARTIAL_SUFFIX)
    if partial.exists() and partial.stat().st_size > 0:
        write_atomic(state.final, partial.read_bytes())
    partial.unlink(missing_ok=True)
    if state.record is not None and state.record.exists():
        append_line(state.record, {"kind": "finished", "exitstatus": exitstatus})
    state.final = None


def _benchmarks(config: pytest.Config) -> list[Any]:
    session = getattr(config, "_benchmarksession", None)
    return list(getattr(session, "benchmarks", None) or ())


def _record_new(config: pytest.Config) -> None:
    """Append the benchmarks that finished since the last call (with their machine info, if it changed)."""
    state = _state(config)
    fresh = [b for b in _benchmarks(config) if id(b) not in state.recorded and b and not b.has_error]
    if not fresh:
        return
    state.recorded.update(id(b) for b in fresh)
    if state.record is None:
        return
    if not state.record.exists():
        append_line(state.record, _header(config))
    info = _machine_info(config)
    if (encoded := json.dumps(info, sort_keys=True, default=str)) != state.machine_written:
        append_line(state.record, {"kind": "machine_info", "machine_info": info})
        state.machine_written = encoded
    for metadata in fresh:
        append_line(state.record, {"kind": "benchmark", "benchmark": metadata.as_dict(include_data=True)})


def _header(config: pytest.Config) -> dict[str, Any]:
    from pytest_benchmark import __version__

    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    config.hook.pytest_benchmark_update_commit_info(config=config, commit_info=commit_info)
    return {"kind": "header", "format": RECORD_FORMAT, "version": __version__, "commit_info": commit_info}


def _machine_info(config: pytest.Config) -> dict[str, Any]:
    """pytest-benchmark's machine info, generated once (it probes the CPU, slowly), updated by the hooks every
    time (the suite adds its run-level facts, which grow as databases are loaded)."""
    state = _state(config)
    if state.machine_info is None:
        state.machine_info = config.hook.pytest_benchmark_generate_machine_info(config=config)
    info = copy.deepcopy(state.machine_info)
    config.hook.pytest_benchmark_update_machine_info(config=config, machine_info=info)
    return info


def _stopped(config: pytest.Config, reason: str) -> None:
    state = _state(config)
    state.partial = reason
    print(f"\norm-harness: {reason}", file=sys.stderr)
    if state.record is not None and state.record.exists():
        append_line(state.record, {"kind": "stopped", "reason": reason})


# --- signals ---------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent (the CLI) dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the call
            os.kill(os.getpid(), signal.SIGTERM)
