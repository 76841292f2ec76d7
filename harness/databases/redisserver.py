"""A throwaway Redis server: redis-server in a temporary directory, on a free loopback port, persistence off.

The benchmarks' Redis reference line of the CACHE tier (harness/core/adapters.py) runs on one, started on first use
and stopped with the databases of its run, as the throwaway PostgreSQL cluster is (harness/databases/pgserver.py):
`stop()` ends the server and removes its directory, at interpreter exit too and on SIGTERM (turned into
KeyboardInterrupt). The server runs in a session of its own, so a Ctrl-C at the terminal reaches the harness, which
stops it. The directory records its owner process (harness/databases/ownership.py) and the server's pid: after a
SIGKILL of the harness, `start_new()` first stops the servers of dead owners and removes their directories.
Persistence is off (no RDB snapshot, no append-only file): the data is thrown away, as the cluster's fsync is off.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import ConfigurationError
from harness.databases.ownership import owned_tempdir, reap_dead
from harness.databases.pgserver import free_port, interrupt_on_sigterm

PREFIX = "orm-harness-redis-"
PID_FILE = "redis.pid"
START_TIMEOUT = 10.0
SERVER_SETTINGS = {"save": "", "appendonly": "no", "protected-mode": "yes", "databases": "16"}
"""Passed on the command line; recorded with the run's database facts."""


def find_server() -> Path | None:
    """redis-server on PATH, else Debian's /usr/bin/redis-server (package redis-server)."""
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    return Path(found) if Path(found).exists() else None


def stop_recorded_server(directory: Path) -> None:
    """Stop the server whose pid `directory` records, if that process is still a redis-server, and wait until it
    has exited (it writes to its directory while it shuts down, which is removed next)."""
    try:
        pid = int((directory / PID_FILE).read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"redis-server" not in command:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.02)


def _running(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class ThrowawayRedis:
    """One disposable server. `start()` it, connect to `url(number)`, `stop()` it."""

    binary: Path
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: owned_tempdir(PREFIX))
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start_new(cls) -> ThrowawayRedis:
        binary = find_server()
        if binary is None:
            raise ConfigurationError(
                "no redis-server on PATH or in /usr/bin: install it (apt-get install redis-server) for the Redis "
                "reference line, or leave it out (--adapters without redis)"
            )
        reap_dead(PREFIX, stop_recorded_server)
        server = cls(binary)
        server.start()
        return server

    def url(self, number: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{number}"

    def start(self) -> None:
        atexit.register(self.stop)
        interrupt_on_sigterm()
        settings = [arg for key, value in SERVER_SETTINGS.items() for arg in (f"--{key}", value)]
        command = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        command += ["--pidfile", str(self.directory / PID_FILE), "--logfile", str(self.directory / "log"), *settings]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        log = self.directory / "log"
        detail = log.read_text()[-2000:].strip() if log.exists() else "no log"
        self.stop()
        raise ConfigurationError(
            f"redis-server did not start on port {self.port} within {START_TIMEOUT:.0f} s: {detail}"
        )

    def stop(self) -> None:
        """End the server and remove its directory. Safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
