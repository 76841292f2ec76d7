"""A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory, on a free loopback port.

Used by the tests and by benchmark runs that are given no server URL. As root (sessions and CI run as root),
initdb refuses to run, so the server binaries run as the `postgres` user, who then owns the directory.
The cluster preloads pg_stat_statements so statement counts can be checked against the server's own.
The cluster is stopped and its directory removed by `stop()`, at interpreter exit, and on SIGTERM.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigurationError

SERVER_SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "max_connections": "300",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
"""Durability is off: the cluster is thrown away, and it makes writes cheaper and less noisy. Recorded with
every run's environment because it is unlike production."""


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: $PG_BINDIR, then PATH, then /usr/lib/postgresql/*/bin."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(os.path.realpath(initdb)).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in filter(None, candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayPostgres:
    """One disposable cluster. `start()` it, build URLs with `url(database)`, `stop()` it."""

    bindir: Path
    port: int = field(default_factory=_free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="orm-harness-pg-")))
    user: str = "postgres"

    @classmethod
    def start_new(cls) -> ThrowawayPostgres:
        bindir = find_binaries()
        if bindir is None:
            raise ConfigurationError(
                "no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or in /usr/lib/postgresql/*/bin: "
                "install them (apt-get install postgresql) or pass a server URL"
            )
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
        atexit.register(self.stop)
        self._run("initdb", "-D", str(self.data_dir), "-U", self.user, "-A", "trust", "--no-sync", "-E", "UTF8")
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
        options += f" -p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.directory / "log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory. Safe to call twice."""
        if self.data_dir.exists():
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.directory, ignore_errors=True)

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "restart")

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bindir / program), *args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(self._command(program, *args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.directory / "log"
            detail = log.read_text()[-2000:] if log.exists() else result.stderr[-2000:]
            raise ConfigurationError(f"{program} failed (exit {result.returncode}): {detail.strip()}")


async def create_database(server_url: str, name: str) -> None:
    """Create database `name` on the server of `server_url`, with pg_stat_statements available in it."""
    import asyncpg

    admin = await asyncpg.connect("postgresql://" + server_url.split("://", 1)[1])
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = server_url.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await conn.close()
