"""`orm-harness stability`: the ranking across repeated runs, from the committed reference run and a changed copy."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from harness.cli.entry import main
from harness.report.results import BASELINE, BENCHMARK_FILE, FAMILY_ORDER, load_run
from harness.report.stability import STABILITY_CSV, STABILITY_MD, stability
from tests.reports.conftest import scaled


def test_two_copies_agree_fully(reference_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = load_run(reference_run)
    result = stability([run, run])
    assert len(result.cases) > 20 and result.cases["same_fastest"].all()
    assert (result.fastest_frame()["share"] == "100%").all()
    pairs = result.pairs_frame()
    assert (pairs["share"] == "100%").all() and (pairs["reversed beyond noise"] == 0).all()
    assert (result.cases[[f"spread {orm}" for orm in result.orms]] == 0).all().all()
    assert set(result.machine["run 2"]) == {"1.00x"} and set(result.machine["spread"]) == {"0.0%"}
    assert main(["stability", str(reference_run), str(reference_run), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "fastest ORM the same in every run" in printed and "100%" in printed
    assert "the machine's speed in each run" in printed and "how far the runs' trials say it can" in printed
    assert "Fastest ORM" in (tmp_path / STABILITY_MD).read_text() and (tmp_path / STABILITY_CSV).exists()


def _doubled(source: Path, target: Path) -> tuple[str, str, str, str]:
    """A copy of the run where the fastest ORM of the first well-sampled, decided case is twice as slow in every
    round; returns (adapter, database, scenario, runner-up)."""
    target.mkdir()
    document = json.loads((source / BENCHMARK_FILE).read_text())
    benches = [b for b in document["benchmarks"] if b["extra_info"].get("family") in FAMILY_ORDER]
    by_case: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for b in benches:
        info = b["extra_info"]
        if info["adapter"] != BASELINE and not info.get("parameter") and info.get("trial", 1) == 1:
            by_case.setdefault((info["database"], info["scenario"], ""), []).append(b)
    ranked = next(
        ranked
        for ranked in (sorted(found, key=lambda b: b["stats"]["median"]) for found in by_case.values())
        if len(ranked) >= 2
        and min(len(b["stats"]["data"]) for b in ranked) >= 20
        and ranked[1]["stats"]["median"] / ranked[0]["stats"]["median"] < 1.5
    )
    fastest = ranked[0]
    database, scenario = fastest["extra_info"]["database"], fastest["extra_info"]["scenario"]
    scaled(document, fastest, 2)
    (target / BENCHMARK_FILE).write_text(json.dumps(document))
    return fastest["extra_info"]["adapter"], database, scenario, ranked[1]["extra_info"]["adapter"]


def test_a_changed_copy_disagrees(reference_run: Path, tmp_path: Path) -> None:
    adapter, database, scenario, runner_up = _doubled(reference_run, tmp_path / "b")
    result = stability([load_run(reference_run), load_run(tmp_path / "b")])
    cases = result.cases.set_index(["database", "scenario", "parameter"])
    case = cases.loc[(database, scenario, "")]
    assert not case["same_fastest"] and case["fastest"].startswith(f"{adapter} | ")
    assert cases["same_fastest"].sum() == len(cases) - 1
    pair = next(p for p in (f"{adapter}/{runner_up}", f"{runner_up}/{adapter}") if f"order_agrees {p}" in cases)
    assert not case[f"order_agrees {pair}"] and case[f"reversal {pair}"]
    assert case[f"spread {adapter}"] == pytest.approx(1.0)
    assert result.pairs_frame().set_index("pair").loc[pair, "reversed beyond noise"] >= 1
    assert result.fastest_frame()["share"].iloc[0] != "100%"


def test_a_slower_machine_shows_in_raw_s_times(reference_run: Path, tmp_path: Path) -> None:
    """A copy whose raw baseline on one database is 1.5 times slower in every benchmark: the machine ran 1.5 times
    slower there, as the baseline saw it, and at the same speed on the other database."""
    (tmp_path / "b").mkdir()
    document = json.loads((reference_run / BENCHMARK_FILE).read_text())
    slowed, other = "postgresql", "sqlite"
    for bench in document["benchmarks"]:
        info = bench["extra_info"]
        if info.get("adapter") == BASELINE and info.get("database") == slowed and info.get("trial", 1) == 1:
            scaled(document, bench, 1.5)
    (tmp_path / "b" / BENCHMARK_FILE).write_text(json.dumps(document))
    machine = stability([load_run(reference_run), load_run(tmp_path / "b")]).machine.set_index("database")
    assert machine.loc[slowed, "run 2"] == "1.50x" and machine.loc[slowed, "spread"] == "50.0%"
    assert machine.loc[other, "run 2"] == "1.00x"


def test_runs_are_set_against_what_their_trials_say(reference_run: Path, tmp_path: Path) -> None:
    """A run against itself: the runs agree exactly, though its trials say a run's ratio can move. Against a copy whose
    ORMs are 1.3x slower on PostgreSQL in every trial: every PostgreSQL ratio to raw moves by log 1.3 between the runs
    (a standard deviation of log(1.3) / sqrt(2)), beyond what the trials say, which stays as it was; SQLite does not
    move."""
    run = load_run(reference_run)
    same = stability([run, run]).agreement.set_index("database")
    assert set(same["between runs"]) == {"0.0%"} and (same["from the trials"] != "0.0%").all()
    (tmp_path / "b").mkdir()
    document = json.loads((reference_run / BENCHMARK_FILE).read_text())
    for bench in document["benchmarks"]:
        info = bench["extra_info"]
        if (
            info.get("family") in FAMILY_ORDER
            and info["adapter"] != BASELINE
            and info["database"] == "postgresql"
            and info.get("trial", 1) == 1
        ):
            scaled(document, bench, 1.3)
    (tmp_path / "b" / BENCHMARK_FILE).write_text(json.dumps(document))
    moved = stability([run, load_run(tmp_path / "b")]).agreement.set_index("database")
    assert moved.loc["postgresql", "between runs"] == f"{math.log(1.3) / math.sqrt(2):.1%}"
    assert moved.loc["sqlite", "between runs"] == "0.0%"
    assert (moved["from the trials"] == same["from the trials"]).all()
