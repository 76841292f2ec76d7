"""The benchmark engine is a pytest plugin (harness/bench/plugin.py, the `orm_harness` entry point): `orm-harness run`
works from any directory, it and `pytest --benchmark-only` in the clone write the same benchmark records, and a
pytest session that runs no harness test is left as it would be without the plugin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.core.factory import TIER_POOL_SIZES, DatabaseType
from harness.report.results import BENCHMARK_FILE

ROOT = Path(__file__).resolve().parents[1]
SELECTION = ["--quick", "--adapters", "raw", "--scenarios", "count", "--order-seed", "3"]


@dataclass(frozen=True)
class Outside:
    directory: Path
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Outside:
    """`orm-harness run` (as `python -m harness`) started in a directory outside the repository."""
    directory = tmp_path_factory.mktemp("elsewhere")
    assert not directory.is_relative_to(ROOT)
    command = [sys.executable, "-m", "harness", "run", *SELECTION]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=600)
    return Outside(directory, done)


def _documents(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The benchmarks of a pytest-benchmark JSON by name, and its machine_info."""
    document = json.loads(path.read_text())
    return {b["name"]: b for b in document["benchmarks"]}, document["machine_info"]


def test_run_from_any_directory_writes_its_results_there(outside: Outside) -> None:
    assert outside.done.returncode == 0, outside.done.stderr
    runs = list((outside.directory / "results").glob(f"*/{BENCHMARK_FILE}"))
    assert len(runs) == 1, runs
    assert re.fullmatch(r"\d{8}-\d{6}", runs[0].parent.name)
    assert {"report.md", "report.html", "pytest.log"} <= {p.name for p in runs[0].parent.iterdir()}
    assert sorted(p.name for p in outside.directory.iterdir()) == ["results"]  # nothing else left where it ran


def test_pytest_in_the_clone_and_the_command_write_the_same_records(outside: Outside, tmp_path: Path) -> None:
    target = tmp_path / BENCHMARK_FILE
    command = [sys.executable, "-m", "pytest", "--benchmark-only", *SELECTION, f"--benchmark-json={target}"]
    done = subprocess.run([*command, "-p", "no:cacheprovider", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    (run,) = (outside.directory / "results").glob(f"*/{BENCHMARK_FILE}")
    from_pytest, pytest_machine = _documents(target)
    from_command, command_machine = _documents(run)
    assert sorted(from_pytest) == sorted(from_command) == ["test_count[raw-sqlite]"]
    for name, benchmark in from_pytest.items():
        assert sorted(benchmark["extra_info"]) == sorted(from_command[name]["extra_info"]), name
        assert benchmark["extra_info"]["order_seed"] == from_command[name]["extra_info"]["order_seed"] == 3
    assert sorted(pytest_machine["harness"]) == sorted(command_machine["harness"])


FOREIGN = """
import pytest

def test_zeta(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("orm_harness")

@pytest.mark.parametrize("checked", [2, 1])  # a parameter name the harness's statement checks use too
def test_alpha(checked):
    assert checked

def test_timed(benchmark):
    benchmark(sum, [1, 2, 3])

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

def test_fails():
    assert False
"""
FOREIGN_ORDER = ["test_zeta", "test_alpha[2]", "test_alpha[1]", "test_timed", "test_skipped", "test_fails"]


def test_the_plugin_is_inert_in_a_session_without_harness_tests(pytester: pytest.Pytester) -> None:
    """A project's own tests, in a session where the entry point loaded the plugin: every test kept, in its order,
    with its outcome; pytest-benchmark's machine_info and extra_info as pytest-benchmark writes them, and its
    machine comparison still telling a different machine."""
    pytester.makepyfile(test_foreign=FOREIGN)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", "--benchmark-json=out.json")
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    ran = [line.split("::")[1].split()[0] for line in result.outlines if line.startswith("test_foreign.py::")]
    assert ran == FOREIGN_ORDER
    assert "deselected" not in result.parseoutcomes()
    assert "orm-harness benchmarks" not in result.stdout.str()  # the line of a session with harness tests
    benchmarks, machine_info = _documents(pytester.path / "out.json")
    assert "harness" not in machine_info
    assert benchmarks["test_timed"]["extra_info"] == {}

    saved = pytester.runpytest_subprocess("-k", "timed", "--benchmark-autosave", "-p", "no:cacheprovider")
    saved.assert_outcomes(passed=1)
    (stored,) = (pytester.path / ".benchmarks").rglob("*.json")
    document = json.loads(stored.read_text())
    document["machine_info"]["node"] = "another-machine"
    stored.write_text(json.dumps(document))
    compared = pytester.runpytest_subprocess("-k", "timed", "--benchmark-compare", "-p", "no:cacheprovider")
    assert "machine_info is different" in compared.stdout.str() + compared.stderr.str()


def test_pool_size_of_a_tier_comes_from_the_factory(tmp_path: Path) -> None:
    """`--pool-size USERS`: every provider gets the USERS tier's pool configuration, as the tier will run."""
    target = tmp_path / BENCHMARK_FILE
    selection = ["--quick", "--adapters", "raw,tortoise", "--scenarios", "get_by_pk", "--db", "postgresql"]
    command = [sys.executable, "-m", "pytest", "tests/benchmarks", "--benchmark-only", *selection]
    command += ["--pool-size", "users", f"--benchmark-json={target}", "-p", "no:cacheprovider", "-q"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    benchmarks, machine = _documents(target)
    size = TIER_POOL_SIZES[DatabaseType.USERS]
    assert machine["harness"]["pool_tier"] == "USERS" and machine["harness"]["pool_size"] == size
    assert len(benchmarks) == 2
    for benchmark in benchmarks.values():
        assert benchmark["extra_info"]["pool"]["max"] == size, benchmark["name"]


def test_pool_size_that_is_neither_a_number_nor_a_tier_is_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", "tests/benchmarks", "--benchmark-only", "--pool-size", "HUGE"]
    done = subprocess.run([*command, "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--pool-size takes a number or a tier: unknown tier 'HUGE'" in done.stderr


def _collected(*selection: str) -> list[str]:
    command = [sys.executable, "-m", "pytest", "harness/bench/suite.py", "--benchmark-only", "--collect-only", "-q"]
    command += ["--adapters", "raw", "--scenarios", "get_by_pk", "--db", "sqlite", "--db", "postgresql", *selection]
    done = subprocess.run([*command, "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    return re.findall(r"test_get_by_pk\[(.*)\]", done.stdout)


def test_the_full_profile_gives_postgresql_twice_the_trials_of_sqlite_and_trials_overrides_both() -> None:
    """A PostgreSQL trial's ratios move more than a SQLite one's, so it gets 4 trials to SQLite's 2
    (`Profile.trials`); `--trials N` is N for every database."""
    assert _collected() == [f"raw-sqlite-t{t}" for t in (1, 2)] + [f"raw-postgresql-t{t}" for t in (1, 2, 3, 4)]
    assert _collected("--trials", "3") == [f"raw-{db}-t{t}" for db in ("sqlite", "postgresql") for t in (1, 2, 3)]
    assert _collected("--quick") == ["raw-sqlite", "raw-postgresql"]
