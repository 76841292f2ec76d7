"""The orm-harness command: the run made by the session fixture, and one-line refusals of bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli.entry import main
from harness.report.results import BENCHMARK_FILE, RESULTS_SCHEMA, below_the_floor, load_run, time_summary
from tests.reports.conftest import SmallRun


def test_run_writes_the_run_directory_and_prints_the_tier_table(small_run: SmallRun) -> None:
    files = {p.relative_to(small_run.directory).as_posix() for p in small_run.directory.rglob("*")}
    assert {BENCHMARK_FILE, "results.csv", "environment.json", "report.md", "report.html", "pytest.log"} <= files
    assert "charts/ratio_to_raw.png" in files and "charts/family_crud.png" in files
    lines = small_run.stdout.splitlines()
    assert lines[0] == f"report: {small_run.directory / 'report.html'}"
    assert lines[2].split()[:2] == ["tier", "database"] and "recommended" in lines[2]
    assert {line.split()[0] for line in lines[3:]} == {"PRIMARY", "USERS", "AUDIT", "CACHE", "EMBEDDINGS", "GRAPH"}
    assert "benchmarks done" in small_run.stderr


def test_report_and_tiers_of_an_existing_run(run_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run_copy)]) == 0
    assert (run_copy / "report.html").exists() and "report:" in capsys.readouterr().out
    assert main(["tiers", str(run_copy), "--tier", "cache"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:]] == ["CACHE"] * load_run(run_copy).table["database"].nunique()
    assert main(["tiers", str(run_copy), str(run_copy), "--tier", "cache"]) == 0
    assert "across the 2 runs" in capsys.readouterr().out


def test_compare_lists_changes(small_run: SmallRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", str(small_run.directory), str(small_run.directory), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "unchanged" in printed and "no significant change" in printed
    assert (out / "compare.html").exists() and (out / "compare.csv").exists()


def test_tiers_and_list_without_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tiers"]) == 0
    assert capsys.readouterr().out.startswith("PRIMARY: ")
    assert main(["list"]) == 0
    printed = capsys.readouterr().out
    for expected in ("adapters", "sqlalchemy", "scenarios: eager", "n_plus_one", "GRAPH"):
        assert expected in printed


def _bad_tiers(tmp_path: Path) -> str:
    (tmp_path / "bad.toml").write_text("[CACHE.weights]\nget_by_pk = -2\n")
    return str(tmp_path / "bad.toml")


def _newer(run_copy: Path) -> str:
    document = json.loads((run_copy / BENCHMARK_FILE).read_text())
    for bench in document["benchmarks"]:
        bench["extra_info"]["harness_schema"] = RESULTS_SCHEMA + 1
    (run_copy / BENCHMARK_FILE).write_text(json.dumps(document))
    return str(run_copy)


def _corrupt(run_copy: Path) -> str:
    (run_copy / BENCHMARK_FILE).write_text("{not json")
    return str(run_copy)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (lambda p, r: ["run", "--adapters", "raw,django"], "unknown adapter django"),
        (lambda p, r: ["run", "--scenarios", "crud,teleport"], "unknown scenario or family teleport"),
        (lambda p, r: ["run", "--pool-size", "HUGE"], "unknown tier 'HUGE'"),
        (lambda p, r: ["run", "--db", "mysql://u:pw@h/db"], "unsupported database URL"),
        (lambda p, r: ["run", "--db", "postgresql://u:hunter2@h"], "names no database"),
        (lambda p, r: ["tiers", "--tier", "ARCHIVE"], "unknown tier ARCHIVE"),
        (lambda p, r: ["tiers", "--tiers", _bad_tiers(p)], "weight of get_by_pk must be a finite number"),
        (lambda p, r: ["report", _newer(r)], "newer than this orm-harness reads"),
        (lambda p, r: ["report", _corrupt(r)], "is corrupt"),
        (lambda p, r: ["compare", str(r), str(p / "nowhere")], "no run"),
        (lambda p, r: ["compare", str(r), str(r), "--alpha", "2"], "--alpha must be between 0 and 1"),
        (lambda p, r: ["stability", str(r)], "stability needs two runs or more, got 1"),
        (lambda p, r: ["stability", str(r), str(p / "nowhere")], "no run"),
        (lambda p, r: ["stability"], "the following arguments are required: RUN"),
        (lambda p, r: ["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    arguments: Callable[[Path, Path], list[str]],
    message: str,
    tmp_path: Path,
    run_copy: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(arguments(tmp_path, run_copy)))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert "Traceback" not in err and "hunter2" not in err and ":pw@" not in err


def test_a_run_where_an_orm_beats_raw_fails_its_honesty_check(
    reference_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` (like `run`) prints the finding on stderr, puts it first among the report's warnings, exits 1."""
    copy = tmp_path / "run"
    copy.mkdir()
    document = json.loads((reference_run / BENCHMARK_FILE).read_text())
    trials = [b for b in document["benchmarks"] if b["name"].startswith("test_get_by_pk[tortoise-postgresql")]
    assert trials  # one benchmark per trial: test_get_by_pk[tortoise-postgresql-t1], ...
    for benchmark in trials:
        stats = benchmark["stats"]
        stats["data"] = [x / 5 for x in stats["data"]]
        for key in ("min", "max", "mean", "median", "q1", "q3", "iqr", "stddev"):
            stats[key] /= 5
    (copy / BENCHMARK_FILE).write_text(json.dumps(document))
    assert main(["report", str(copy)]) == 1
    expected = "honesty check failed: tortoise beat the raw baseline on `get_by_pk` (postgresql) beyond the noise"
    assert f"orm-harness: {expected}" in capsys.readouterr().err
    assert expected in (copy / "report.md").read_text()


def test_the_reference_run_passes_its_honesty_check(reference_run: Path) -> None:
    assert below_the_floor(time_summary(load_run(reference_run).table)) == []
