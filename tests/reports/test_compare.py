"""Comparing two runs: medians, Mann-Whitney U on the raw samples, regressions first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.report.compare import compare_runs, counts, write_comparison
from harness.report.results import BENCHMARK_FILE, FAMILY_ORDER, load_run
from tests.reports.conftest import SmallRun, scaled, trials_of


def test_a_run_against_itself_changes_nothing(small_run: SmallRun, tmp_path: Path) -> None:
    run = load_run(small_run.directory)
    comparison = compare_runs(run, run)
    assert set(comparison.changes["status"]) == {"unchanged"}
    assert np.allclose(comparison.changes["change"], 0)
    markdown, page = write_comparison(comparison, tmp_path)
    assert (tmp_path / "compare.png").stat().st_size > 10_000 and "unchanged" in markdown.read_text()
    assert page.read_text().count("data:image/png;base64,") == 1


def _slowed(source: Path, target: Path, rounds: int) -> tuple[str, str, float]:
    """A copy of the run whose first benchmark of `rounds` or more rounds is slower in every round than it was
    in any, by a factor it returns with its (adapter, scenario)."""
    target.mkdir()
    document = json.loads((source / BENCHMARK_FILE).read_text())
    bench = next(
        b
        for b in document["benchmarks"]
        if b["extra_info"].get("family") in FAMILY_ORDER and len(b["stats"]["data"]) >= rounds
    )
    data = [x for record in trials_of(document, bench) for x in record["stats"]["data"]]
    factor = 1.5 * max(data) / min(data)
    scaled(document, bench, factor)
    (target / BENCHMARK_FILE).write_text(json.dumps(document))
    return bench["extra_info"]["adapter"], bench["extra_info"]["scenario"], factor


def test_a_slower_benchmark_is_listed_first_as_a_regression(reference_run: Path, tmp_path: Path) -> None:
    adapter, scenario, factor = _slowed(reference_run, tmp_path / "b", rounds=5)
    a, b = load_run(reference_run), load_run(tmp_path / "b")
    comparison = compare_runs(a, b)
    first = comparison.changes.iloc[0]
    assert (first["status"], first["adapter"], first["scenario"]) == ("regression", adapter, scenario)
    assert first["change"] == pytest.approx(factor - 1) and first["p_value"] < 0.05
    assert first["p_value"] <= first["q_value"] < 0.05  # significant after the Benjamini-Hochberg adjustment
    assert (comparison.changes["q_value"].dropna() >= comparison.changes["p_value"].dropna()).all()
    assert counts(comparison)["regression"] == 1 and counts(comparison)["improvement"] == 0


def test_one_round_each_is_never_significant(small_run: SmallRun, tmp_path: Path) -> None:
    """The quick profile times one round: a change, however large, cannot be significant, and is not listed."""
    _, _, factor = _slowed(small_run.directory, tmp_path / "b", rounds=1)
    comparison = compare_runs(load_run(small_run.directory), load_run(tmp_path / "b"))
    assert factor >= 1.5 and comparison.changes["change"].max() == pytest.approx(factor - 1)
    assert set(comparison.changes["status"]) == {"unchanged"}
