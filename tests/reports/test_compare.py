"""Comparing two runs: medians, Mann-Whitney U on the raw samples, regressions first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.compare import compare_runs, counts, write_comparison
from harness.results import BENCHMARK_FILE, load_run
from tests.reports.conftest import SmallRun


def test_a_run_against_itself_changes_nothing(small_run: SmallRun, tmp_path: Path) -> None:
    run = load_run(small_run.directory)
    comparison = compare_runs(run, run)
    assert set(comparison.changes["status"]) == {"unchanged"}
    assert np.allclose(comparison.changes["change"], 0)
    markdown, page = write_comparison(comparison, tmp_path)
    assert (tmp_path / "compare.png").stat().st_size > 10_000 and "unchanged" in markdown.read_text()
    assert page.read_text().count("data:image/png;base64,") == 1


def _slowed(source: Path, target: Path) -> tuple[str, str, float]:
    """A copy of the run whose first benchmark of 3 rounds is slower in every round than it was in any, by a
    factor it returns with its (adapter, scenario)."""
    target.mkdir()
    document = json.loads((source / BENCHMARK_FILE).read_text())
    bench = next(b for b in document["benchmarks"] if "adapter" in b["extra_info"] and len(b["stats"]["data"]) == 3)
    factor = 1.5 * max(bench["stats"]["data"]) / min(bench["stats"]["data"])
    bench["stats"]["data"] = [x * factor for x in bench["stats"]["data"]]
    for stat in ("min", "max", "mean", "median", "q1", "q3", "stddev", "iqr"):
        bench["stats"][stat] *= factor
    (target / BENCHMARK_FILE).write_text(json.dumps(document))
    return bench["extra_info"]["adapter"], bench["extra_info"]["scenario"], factor


def test_a_slower_benchmark_is_listed_first_as_a_regression(small_run: SmallRun, tmp_path: Path) -> None:
    adapter, scenario, factor = _slowed(small_run.directory, tmp_path / "b")
    a, b = load_run(small_run.directory), load_run(tmp_path / "b")
    # Three rounds against three: the exact two-sided p is 0.1 at best, so test at alpha 0.2.
    comparison = compare_runs(a, b, threshold=0.1, alpha=0.2)
    first = comparison.changes.iloc[0]
    assert (first["status"], first["adapter"], first["scenario"]) == ("regression", adapter, scenario)
    assert first["change"] == pytest.approx(factor - 1)
    assert counts(comparison)["regression"] == 1
    assert counts(compare_runs(a, b, threshold=0.1, alpha=0.05))["regression"] == 0
