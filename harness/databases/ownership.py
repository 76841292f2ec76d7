"""Which process owns a temporary directory or a database, so a later run can clean up after a killed one.

An owner is `host@pid:start`, the start being the process's start time since boot (from /proc), so a pid
reused by an unrelated process is not mistaken for the owner. A directory made by `owned_tempdir` holds a
file `owner`; `reap_dead` removes the directories whose owner has died (after a SIGKILL nothing else can),
and leaves alone those of live processes and those without an owner file (not the harness's, or older).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OWNER_FILE = "owner"


def _process_start(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot); None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str

    @classmethod
    def current(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid(), _process_start(os.getpid()) or "?")

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        host, _, rest = text.strip().rpartition("@")
        pid, _, start = rest.partition(":")
        return cls(host, int(pid), start) if host and pid.isdigit() else None

    def __str__(self) -> str:
        return f"{self.host}@{self.pid}:{self.start}"

    def alive(self) -> bool | None:
        """True/False on this host; None for another host (it cannot be checked from here)."""
        if self.host != socket.gethostname():
            return None
        if not Path("/proc/self/stat").exists():  # no /proc (macOS): the pid alone, reuse unnoticed
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        start = _process_start(self.pid)
        if start is None:
            return False
        return self.start in ("?", start)


def owned_tempdir(prefix: str) -> Path:
    """A new temporary directory recording the current process as its owner."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    (directory / OWNER_FILE).write_text(f"{Owner.current()}\n")
    return directory


def owner_of(directory: Path) -> Owner | None:
    try:
        return Owner.parse((directory / OWNER_FILE).read_text())
    except OSError:
        return None


def reap_dead(prefix: str, cleanup: Callable[[Path], None] | None = None) -> list[Path]:
    """Remove the temporary directories named `prefix*` whose owner process is dead, after `cleanup(directory)`
    (e.g. stopping the server still running there). Returns the directories removed."""
    reaped = []
    for directory in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        owner = owner_of(directory)
        if owner is None or owner.alive() is not False:
            continue
        if cleanup is not None:
            cleanup(directory)
        shutil.rmtree(directory, ignore_errors=True)
        reaped.append(directory)
    return reaped
