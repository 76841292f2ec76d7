"""A small real run, made once per session by `orm-harness run`, for the results, report, CLI and notebook tests.

The small run is the real suite in its quick profile, cut down to a few adapters and scenarios that between them
draw every chart: SQLite always, PostgreSQL too where server binaries are found (for the pool chart).
Tests that change files work on a copy (`run_copy`). Tests that need many rounds per benchmark (the quick
profile times one) read the committed reference run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.databases.pgserver import find_binaries
from harness.report.results import BENCHMARK_FILE

REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference"
"""The committed reference run (full profile): real samples of many rounds, where the quick profile has one."""
ADAPTERS = "raw,sqlalchemy,tortoise"
SCENARIOS = (
    "get_by_pk,n_plus_one,one_level,insert_1k,transfer,concurrent_get_by_pk,add_due_date,email_lookup,audit_scan,"
    "adapter_tax"
)


@dataclass(frozen=True)
class SmallRun:
    directory: Path
    stdout: str
    stderr: str
    databases: tuple[str, ...]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    databases = ("sqlite", "postgresql") if find_binaries() is not None else ("sqlite",)
    out = tmp_path_factory.mktemp("small") / "run"
    command = [sys.executable, "-m", "harness", "run", "--quick", "--adapters", ADAPTERS]
    command += ["--scenarios", SCENARIOS, "--concurrency", "1,8", "--order-seed", "7", "--out", str(out)]
    command += [f"--db={db}" for db in databases]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    log = (out / "pytest.log").read_text()[-3000:] if (out / "pytest.log").exists() else ""
    assert done.returncode == 0, f"orm-harness run failed:\n{done.stderr}\n{log}"
    return SmallRun(out, done.stdout, done.stderr, databases)


@pytest.fixture
def run_copy(small_run: SmallRun, tmp_path: Path) -> Path:
    """A copy of the small run's JSON alone, in a directory of its own."""
    directory = tmp_path / "run"
    directory.mkdir()
    shutil.copy(small_run.directory / BENCHMARK_FILE, directory / BENCHMARK_FILE)
    return directory


@pytest.fixture(scope="session")
def reference_run() -> Path:
    if not (REFERENCE / BENCHMARK_FILE).exists():
        pytest.skip(f"no reference run at {REFERENCE} (make one: orm-harness run --db sqlite --db postgresql --out it)")
    return REFERENCE


def trials_of(document: dict[str, Any], bench: dict[str, Any]) -> list[dict[str, Any]]:
    """Every trial's record of `bench`'s benchmark (a run stores one per trial; the loader pools them)."""
    key = ("adapter", "database", "scenario", "parameter")
    return [b for b in document["benchmarks"] if all(b["extra_info"].get(k) == bench["extra_info"].get(k) for k in key)]


def scaled(document: dict[str, Any], bench: dict[str, Any], factor: float) -> None:
    """Multiply every time of `bench`'s benchmark, in every trial, by `factor`."""
    for record in trials_of(document, bench):
        stats = record["stats"]
        stats["data"] = [x * factor for x in stats["data"]]
        for stat in ("min", "max", "mean", "median", "q1", "q3", "stddev", "iqr"):
            stats[stat] *= factor
