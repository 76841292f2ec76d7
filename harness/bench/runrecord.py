"""What a benchmark run leaves on disk, written so that no kill can leave half a file, and read back after one.

The suite's plugin (harness/bench/runlog.py) appends every finished benchmark to `benchmark.jsonl` next to the run's
`benchmark.json`. That record, format 1, is one JSON object per line, each with a `kind`:
- `{"kind": "header", "format": 1, "version": <pytest-benchmark's version>, "commit_info": {...}}`, first;
- `{"kind": "machine_info", "machine_info": {...}}` whenever the machine info changed (the last one counts);
- `{"kind": "benchmark", "benchmark": {...}}` per benchmark, exactly an entry of pytest-benchmark's `benchmarks`;
- `{"kind": "stopped", "reason": "..."}` if the run stopped early (server gone, interrupted);
- `{"kind": "finished", "exitstatus": N}` once the suite finished and `benchmark.json` was written.
A last line cut short by a kill is ignored. `recover(directory)` writes `benchmark.json` from the record when the
run never wrote it, marked partial (`machine_info.harness.partial` says why), so `load_run` reads it as usual.
This module imports neither pytest nor pytest-benchmark: the report commands use it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RECORD_SUFFIX = ".jsonl"
PARTIAL_SUFFIX = ".partial"
RECORD_FORMAT = 1


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `path` so that it holds either its old content or all of `data`, never a part (temporary file in
    the same directory, fsync, rename)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def append_line(path: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line and make it durable before returning."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=True, default=repr) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_record(path: Path) -> dict[str, Any] | None:
    """The pytest-benchmark document a record holds (marked partial unless the run finished), or None if the
    record holds no benchmark."""
    header: dict[str, Any] = {}
    machine_info: dict[str, Any] = {}
    benchmarks: list[dict[str, Any]] = []
    reason, finished = None, False
    for entry in _entries(path):
        kind = entry.get("kind")
        if kind == "header":
            header = entry
        elif kind == "machine_info":
            machine_info = entry.get("machine_info") or {}
        elif kind == "benchmark":
            benchmarks.append(entry["benchmark"])
        elif kind == "stopped":
            reason = entry.get("reason")
        elif kind == "finished":
            finished = True
    if not benchmarks:
        return None
    if reason is None and not finished:
        reason = "the run was killed before it finished"
    if reason is not None:
        machine_info.setdefault("harness", {})["partial"] = reason
    return {
        "machine_info": machine_info,
        "commit_info": header.get("commit_info") or {},
        "benchmarks": benchmarks,
        "datetime": datetime.now(UTC).isoformat(),
        "version": header.get("version"),
    }


def _entries(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # cut short by a kill
            if isinstance(entry, dict):
                yield entry


def recover(directory: str | Path, name: str = "benchmark.json") -> Path | None:
    """Make `directory/benchmark.json` readable after a run that was killed: if it is missing or empty and the
    record `benchmark.jsonl` holds benchmarks, write it (atomically) from the record, marked partial. Returns
    the path of `benchmark.json` if it exists now, else None. Leaves a complete `benchmark.json` alone."""
    final = Path(directory) / name
    if final.is_file() and final.stat().st_size > 0:
        return final
    record = final.with_suffix(RECORD_SUFFIX)
    document = read_record(record) if record.is_file() else None
    if document is None:
        return None
    write_atomic(final, json.dumps(document, indent=4, default=str))
    return final


def partial_reason(document: dict[str, Any]) -> str | None:
    """Why a run's results are partial (`machine_info.harness.partial`), or None for a complete run."""
    return ((document.get("machine_info") or {}).get("harness") or {}).get("partial")
