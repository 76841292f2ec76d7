"""The loader: pytest-benchmark JSON -> one tidy table, with its refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.report.results import (
    BASELINE,
    BENCHMARK_FILE,
    COLUMNS,
    FAMILY_ORDER,
    METRICS,
    RESULTS_SCHEMA,
    UNSTABLE_CV,
    ResultsError,
    load_run,
    samples,
    time_summary,
    trial_samples,
)
from tests.reports.conftest import ADAPTERS, SmallRun


def test_table_is_long_and_tidy(small_run: SmallRun) -> None:
    run = load_run(small_run.directory)
    table = run.table
    assert list(table.columns) == COLUMNS
    assert set(table["adapter"]) == set(ADAPTERS.split(","))
    assert set(table["database"]) == set(small_run.databases)
    assert (table["unit"] == table["metric"].map(METRICS)).all()
    assert table["value"].notna().all()
    assert set(table.loc[table["scenario"] == "concurrent_get_by_pk", "parameter"]) == {
        "concurrency=1",
        "concurrency=8",
    }


def test_every_raw_sample_is_kept(small_run: SmallRun) -> None:
    document = json.loads((small_run.directory / BENCHMARK_FILE).read_text())
    run = load_run(small_run.directory)
    kept = samples(run.table)
    for bench in document["benchmarks"]:
        info = bench["extra_info"]
        if info.get("family") not in FAMILY_ORDER:  # the harness's own benchmarks are not results
            continue
        parameter = ",".join(f"{k}={v}" for k, v in sorted(info["parameter"].items()))
        key = (info["adapter"], info["database"], info["scenario"], parameter)
        assert kept[key] == bench["stats"]["data"]


def test_the_samples_are_split_into_the_run_s_trials(reference_run: Path) -> None:
    """The reference run has two trials on SQLite and four on PostgreSQL: each benchmark's samples split back into each
    trial's, in trial order."""
    document = json.loads((reference_run / BENCHMARK_FILE).read_text())
    run = load_run(reference_run)
    found, trials_on = trial_samples(run.table), run.environment["harness"]["trials"]
    assert trials_on == {"sqlite": 2, "postgresql": 4}
    checked = 0
    for bench in document["benchmarks"]:
        info = bench["extra_info"]
        if info.get("family") not in FAMILY_ORDER:
            continue
        parameter = ",".join(f"{k}={v}" for k, v in sorted(info["parameter"].items()))
        trials = found[(info["adapter"], info["database"], info["scenario"], parameter)]
        assert len(trials) == trials_on[info["database"]] and trials[info["trial"] - 1] == bench["stats"]["data"]
        checked += 1
    assert checked > 400


def test_environment_records_the_run(small_run: SmallRun) -> None:
    env = load_run(small_run.directory).environment
    assert env["schema_version"] == RESULTS_SCHEMA
    assert env["profile"] == "quick" and env["order_seed"] == 7
    assert env["adapters"]["tortoise"]["sqlite"]["orm_version"]
    assert env["scenarios"]["get_by_pk"]["family"] == "crud"


def test_summary_ratios_and_flags(small_run: SmallRun) -> None:
    summary = time_summary(load_run(small_run.directory).table)
    assert np.allclose(summary.loc[summary["adapter"] == BASELINE, "ratio_to_raw"], 1.0)
    orms = summary[summary["adapter"] != BASELINE]
    assert np.allclose(orms.groupby(["database", "scenario", "parameter"])["ratio_to_fastest"].min(), 1.0)
    assert (orms["adapter"] == orms["fastest"]).any() and BASELINE not in set(summary["fastest"])
    assert (summary["unstable"] == (summary["time_cv"] >= UNSTABLE_CV)).all()


def _rewrite(directory: Path, change: Callable[[dict[str, Any]], object]) -> None:
    path = directory / BENCHMARK_FILE
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_newer_schema_is_refused(run_copy: Path) -> None:
    _rewrite(run_copy, lambda d: d["benchmarks"][0]["extra_info"].update(harness_schema=RESULTS_SCHEMA + 1))
    with pytest.raises(ResultsError, match="newer than this orm-harness reads"):
        load_run(run_copy)


def test_corrupt_json_is_refused(run_copy: Path) -> None:
    path = run_copy / BENCHMARK_FILE
    path.write_text(path.read_text()[:1000])
    with pytest.raises(ResultsError, match="corrupt"):
        load_run(run_copy)


def test_a_benchmark_missing_its_facts_is_refused(run_copy: Path) -> None:
    _rewrite(run_copy, lambda d: d["benchmarks"][0]["extra_info"].pop("scenario"))
    with pytest.raises(ResultsError, match=r"corrupt: benchmark .* 'scenario'"):
        load_run(run_copy)


def test_foreign_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / BENCHMARK_FILE).write_text(json.dumps({"benchmarks": [{"name": "x", "extra_info": {}}]}))
    with pytest.raises(ResultsError, match="no orm-harness benchmarks"):
        load_run(tmp_path)
    with pytest.raises(ResultsError, match="no results file"):
        load_run(tmp_path / "missing")
