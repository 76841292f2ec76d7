"""What a new user installs works: the command, the suite's plugin with today's pytest-benchmark, the version
checks, and pytest-benchmark's own options (histogram, compare) on the harness's benchmarks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench.runrecord import PARTIAL_SUFFIX, RECORD_SUFFIX
from harness.core import versions
from harness.core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
ONE_BENCHMARK = ["tests/benchmarks", "--benchmark-only", "--quick", "--adapters", "raw", "--scenarios", "count"]


def _pytest(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *ONE_BENCHMARK, *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_python_dash_m_harness_is_the_command() -> None:
    done = subprocess.run([sys.executable, "-m", "harness", "list"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("adapters")


def test_the_suite_plugin_writes_its_results_with_the_installed_pytest_benchmark(tmp_path: Path) -> None:
    """The run's JSON (moved into place whole), its incremental record and a histogram (pygal, from the extra)."""
    target = tmp_path / "benchmark.json"
    done = _pytest(
        "-p", "harness.bench.runlog", f"--benchmark-json={target}", f"--benchmark-histogram={tmp_path / 'h'}"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    names = [b["name"] for b in json.loads(target.read_text())["benchmarks"]]
    assert names == ["test_count[raw-sqlite]"]
    record = [json.loads(line) for line in target.with_suffix(RECORD_SUFFIX).read_text().splitlines()]
    assert [entry["kind"] for entry in record][-2:] == ["benchmark", "finished"]
    assert not target.with_name(target.name + PARTIAL_SUFFIX).exists()
    assert list(tmp_path.glob("h*.svg")), "no histogram written"


def test_compare_warns_only_when_the_machine_differs(tmp_path: Path) -> None:
    """The run-level facts in machine_info differ every run; `--benchmark-compare` must not call that a new
    machine, and must when the machine does differ."""
    storage = f"--benchmark-storage=file://{tmp_path}"
    assert _pytest("--benchmark-autosave", storage).returncode == 0
    same = _pytest("--benchmark-compare", storage)
    assert same.returncode == 0, same.stdout[-3000:]
    assert "Comparing against benchmarks from" in same.stdout + same.stderr
    assert "machine_info is different" not in same.stdout + same.stderr
    saved = next(tmp_path.rglob("*.json"))
    document = json.loads(saved.read_text())
    document["machine_info"]["node"] = "another-machine"
    saved.write_text(json.dumps(document))
    other = _pytest("--benchmark-compare", storage)
    assert "machine_info is different" in other.stdout + other.stderr


@pytest.fixture
def fake_version(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    found: dict[str, str] = {}
    real = versions.installed_version
    monkeypatch.setattr(versions, "installed_version", lambda name: found.get(name) or real(name))
    versions.require.cache_clear()
    yield found
    versions.require.cache_clear()


@pytest.mark.parametrize("distribution", sorted(versions.INTERNALS))
def test_a_version_whose_internals_are_unknown_is_refused_in_one_line(
    distribution: str, fake_version: dict[str, str]
) -> None:
    allowed = versions.supported_range(distribution)
    assert allowed is not None and any(s.operator == "<" for s in allowed), f"no upper bound for {distribution}"
    versions.require(distribution)  # the installed version is in range
    fake_version[distribution] = "99.0"
    versions.require.cache_clear()  # a check runs once per process: this one is new
    with pytest.raises(ConfigurationError) as refused:
        versions.require(distribution)
    message = str(refused.value)
    assert "\n" not in message
    assert f"{distribution} 99.0 is not supported" in message and str(allowed) in message


def test_the_environment_is_the_pinned_set_or_says_what_differs(tmp_path: Path) -> None:
    status = versions.pinned_status()
    assert status["constraints"] == "constraints.txt"
    pins = versions.pinned_versions()
    assert {"sqlalchemy", "tortoise-orm", "piccolo", "asyncpg", "aiosqlite", "pytest-benchmark"} <= set(pins)
    other = tmp_path / "constraints.txt"
    other.write_text(f"# a comment\nasyncpg==0.0.1\npytest=={pytest.__version__}\nnot-installed-anywhere==1.0\n")
    status = versions.pinned_status(other)
    assert status["pinned"] is False
    assert status["differs"] == {"asyncpg": {"installed": versions.installed_version("asyncpg"), "pinned": "0.0.1"}}
    assert versions.pinned_status(tmp_path / "missing.txt")["pinned"] is None
