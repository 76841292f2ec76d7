"""Faults during a run, against real PostgreSQL throwaway clusters.

The suite runs as a subprocess, as `orm-harness run` starts it (`-p harness.bench.runlog`, `--benchmark-json`), in a
session of its own; the test then kills its database server, interrupts it (SIGINT to the process group, as
Ctrl-C does) or kills it (SIGKILL), and checks what is left: the results measured before, readable and marked
partial, and nothing of the throwaway cluster once the next run has started.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench.runlog import STOP_STATUS
from harness.bench.runrecord import append_line, read_record, recover, write_atomic
from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.dataset import DatasetSize, generate, load
from harness.core.factory import adapter_class
from harness.databases.ownership import owned_tempdir, owner_of, reap_dead
from harness.databases.pgserver import PREFIX, ThrowawayPostgres, _stop_cluster, find_binaries
from harness.databases.targets import PostgresTarget
from harness.report.results import BENCHMARK_FILE, load_run
from scenarios.resilience import server_restart

REPOSITORY = Path(__file__).resolve().parent.parent
RECORD = "benchmark.jsonl"
SUITE = ["--quick", "--trials=20", "--adapters=raw,sqlalchemy", "--scenarios=crud,eager", "--order-seed=1"]
"""Twenty passes of the quick profile: long enough that a signal sent after the first benchmarks finds it running."""


def _need_postgres() -> None:
    if find_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL server binaries")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")


class Suite:
    """The benchmark suite running in a subprocess (a session of its own) against a throwaway cluster."""

    def __init__(self, out: Path, arguments: list[str] = SUITE) -> None:
        _need_postgres()
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pytest", "tests/benchmarks", "--benchmark-only", "--db=postgresql"]
        command += [*arguments, "-p", "harness.bench.runlog", "-p", "no:cacheprovider", "-q"]
        command += [f"--benchmark-json={out / BENCHMARK_FILE}"]
        self.log = (out / "pytest.log").open("w")
        self.process = subprocess.Popen(
            command, cwd=REPOSITORY, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def benchmarks_recorded(self) -> int:
        record = self.out / RECORD
        if not record.exists():
            return 0
        return sum('"kind": "benchmark"' in line for line in record.read_text().splitlines())

    def wait_for_benchmarks(self, count: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.benchmarks_recorded() < count:
            assert self.process.poll() is None, f"the suite ended early:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"no benchmark recorded in time:\n{self.output()[-3000:]}"
            time.sleep(0.1)

    def cluster(self) -> Path:
        """The throwaway cluster's directory: the one whose owner file names the suite's process."""
        found = [d for d in Path(tempfile.gettempdir()).glob(f"{PREFIX}*") if _owned_by(d, self.process.pid)]
        assert len(found) == 1, found
        return found[0]

    def wait(self, timeout: float) -> tuple[int, float]:
        start = time.monotonic()
        status = self.process.wait(timeout=timeout)
        return status, time.monotonic() - start

    def output(self) -> str:
        self.log.flush()
        return (self.out / "pytest.log").read_text()

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def _owned_by(directory: Path, pid: int) -> bool:
    owner = owner_of(directory)
    return owner is not None and owner.pid == pid


def _server_processes(directory: Path) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if str(directory) in line and "postgres" in line]


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[Suite]:
    running = Suite(tmp_path / "run")
    yield running
    running.close()


# --- atomic files and the record -------------------------------------------------------------------------


def test_an_atomic_write_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "benchmark.json"
    write_atomic(path, "old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["benchmark.json"]  # no temporary file left


def test_a_record_cut_short_by_a_kill_still_reads(tmp_path: Path) -> None:
    record = tmp_path / RECORD
    append_line(record, {"kind": "header", "format": 1, "version": "5", "commit_info": {}})
    append_line(record, {"kind": "machine_info", "machine_info": {"harness": {"run_id": "r"}}})
    append_line(record, {"kind": "benchmark", "benchmark": {"name": "a"}})
    with record.open("a") as handle:
        handle.write('{"kind": "benchmark", "benchm')  # the kill came mid-line
    document = read_record(record)
    assert document is not None and [b["name"] for b in document["benchmarks"]] == ["a"]
    assert document["machine_info"]["harness"]["partial"] == "the run was killed before it finished"
    assert recover(tmp_path) == tmp_path / BENCHMARK_FILE
    assert json.loads((tmp_path / BENCHMARK_FILE).read_text())["benchmarks"] == [{"name": "a"}]


# --- the database server dies mid-run --------------------------------------------------------------------


def test_server_death_stops_the_run_within_seconds_and_keeps_the_results(suite: Suite) -> None:
    suite.wait_for_benchmarks(2)
    cluster = suite.cluster()
    binaries = find_binaries()
    assert binaries is not None  # the suite fixture started a cluster with them
    _stop_cluster(binaries, cluster / "data")  # immediate shutdown: as a crash, for the clients
    status, seconds = suite.wait(timeout=60)
    output = suite.output()
    assert status == STOP_STATUS, output[-3000:]
    assert seconds < 20, f"took {seconds:.1f} s to stop"
    assert "the database server went away" in output
    run = load_run(suite.out)
    assert "the database server went away" in run.environment["harness"]["partial"]
    assert len(run.table[["adapter", "scenario"]].drop_duplicates()) >= 2
    assert not list(suite.out.glob("*.partial"))


# --- the harness is interrupted or killed ----------------------------------------------------------------


def test_sigint_keeps_the_results_and_leaves_no_cluster(suite: Suite) -> None:
    suite.wait_for_benchmarks(1)
    cluster = suite.cluster()
    os.killpg(suite.process.pid, signal.SIGINT)  # what Ctrl-C at the terminal does
    status, seconds = suite.wait(timeout=60)
    assert status == pytest.ExitCode.INTERRUPTED, suite.output()[-3000:]
    assert seconds < 30
    assert not cluster.exists(), "the throwaway cluster's directory was left behind"
    assert not _server_processes(cluster), "a server process of the throwaway cluster was left running"
    run = load_run(suite.out)  # benchmark.json was written in full, atomically
    assert run.environment["harness"]["partial"] == "the run was interrupted"


def test_sigkill_keeps_the_record_and_the_next_run_starts_clean(suite: Suite) -> None:
    suite.wait_for_benchmarks(2)
    recorded = suite.benchmarks_recorded()
    cluster = suite.cluster()
    os.killpg(suite.process.pid, signal.SIGKILL)
    suite.process.wait()
    assert not (suite.out / BENCHMARK_FILE).exists()  # never an empty or half file
    assert recover(suite.out) == suite.out / BENCHMARK_FILE
    run = load_run(suite.out)
    assert run.environment["harness"]["partial"] == "the run was killed before it finished"
    assert len(run.table[["adapter", "scenario"]].drop_duplicates()) >= min(recorded, 2)
    assert cluster.exists()  # nothing could stop it: its owner died at once
    server = ThrowawayPostgres.start_new()  # the next run: cleans up first
    try:
        assert not cluster.exists()
        assert not _server_processes(cluster)
    finally:
        server.stop()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_interrupted_or_killed_cli_stops_its_suite_cleanly_and_the_report_says_partial(
    signum: int, tmp_path: Path
) -> None:
    """SIGINT or SIGKILL to `orm-harness run`: its suite is told (the CLI passes a SIGINT on; a SIGKILL reaches
    it as SIGTERM through PR_SET_PDEATHSIG), writes what it measured and stops its cluster; `orm-harness report`
    then builds the report of the partial run."""
    _need_postgres()
    out = tmp_path / "run"
    command = [sys.executable, "-m", "harness", "run", "--db", "postgresql", *SUITE, "--out", str(out)]
    cli = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while '"kind": "benchmark"' not in _read(out / RECORD):
            assert cli.poll() is None and time.monotonic() < deadline, _read(out / "pytest.log")[-3000:]
            time.sleep(0.1)
        clusters = [d for d in Path(tempfile.gettempdir()).glob(f"{PREFIX}*") if _owner_is_child_of(d, cli.pid)]
        cli.send_signal(signum)
        status = cli.wait(timeout=60)
        deadline = time.monotonic() + 60
        while any(d.exists() for d in clusters) or '"kind": "finished"' not in _read(out / RECORD):
            assert time.monotonic() < deadline, "the suite did not stop after its CLI was killed"
            time.sleep(0.2)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert len(clusters) == 1
    assert status == (130 if signum == signal.SIGINT else -signal.SIGKILL)
    report = subprocess.run(
        [sys.executable, "-m", "harness", "report", str(out)], cwd=REPOSITORY, capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    assert "**Partial run**: the run was interrupted" in (out / "report.md").read_text()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _owner_is_child_of(directory: Path, parent: int) -> bool:
    owner = owner_of(directory)
    if owner is None:
        return False
    try:
        return Path(f"/proc/{owner.pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(parent)
    except OSError:
        return False


def test_reaping_removes_only_the_directories_of_dead_owners() -> None:
    prefix = f"orm-harness-reaptest-{os.getpid()}-"
    live, dead = owned_tempdir(prefix), owned_tempdir(prefix)
    (dead / "owner").write_text(f"{socket.gethostname()}@999999999:1\n")  # above any pid_max: never alive
    foreign = Path(tempfile.mkdtemp(prefix=prefix))  # no owner file: not the harness's, or older
    try:
        assert reap_dead(prefix) == [dead]
        assert live.exists() and foreign.exists() and not dead.exists()
    finally:
        shutil.rmtree(live)
        shutil.rmtree(foreign)


# --- resilience: a server restart during concurrent reads --------------------------------------------------


@pytest.fixture(scope="module")
def restartable() -> Iterator[PostgresTarget]:
    """A throwaway cluster of its own: restarting it disturbs no other test's connections."""
    _need_postgres()
    server = ThrowawayPostgres.start_new()
    yield PostgresTarget(server.url(), server)
    server.stop()


@pytest.mark.postgresql
@pytest.mark.parametrize("adapter", list(CONTRACT))
async def test_every_adapter_recovers_from_a_server_restart_without_reconnecting(
    adapter: str, restartable: PostgresTarget
) -> None:
    data = generate(DatasetSize(users=20, tasks_per_user=1, comments_per_task=0, tags=2, tags_per_task=0))
    url = await restartable.new_database(f"restart_{adapter}")
    provider = adapter_class(adapter)(DatabaseConfig(url, pool_min=4, pool_max=4))
    await provider.connect()
    try:
        await provider.create_schema()
        await load(provider, data)
        server = restartable.server
        assert server is not None
        outcome = await server_restart(provider, data, lambda: asyncio.to_thread(server.restart), concurrency=8)
    finally:
        await provider.disconnect()
    assert outcome.recovered, outcome
    assert outcome.server_down_s is not None and outcome.recovery_s is not None
    assert outcome.recovery_s >= 0 and outcome.total_ops > outcome.failed_ops
    assert outcome.failed_after_recovery <= outcome.failed_ops
    assert sum(outcome.errors.values()) == outcome.failed_ops
