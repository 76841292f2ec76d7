"""The CLI's safety net: bad input as one line on stderr and exit status 2, and passwords kept out of the suite.

- `cli_errors(main)` wraps the CLI's `main` (once, in harness/cli/entry.py): a harness error (or a well-known one:
  a missing package, an unreadable file) becomes `orm-harness: <what was wrong and how to fix it>` on stderr and
  exit status 2; anything else, a bug, is one line and exit status 1. `--debug` anywhere on the command line adds
  the traceback. Every line goes through `redact`.
- `SuiteSetup.prepare(dbs, adapters)` checks every `--db` before the suite starts (reachable, right password,
  a database the harness may use: harness/databases/isolation.py) and that every adapter's packages import, then
  moves the passwords out of the URLs into a private password file for the suite (`PGPASSFILE`, which asyncpg
  reads for every adapter), so no password reaches the suite's command line, its log, its JSON or the report.

The console script's entry point, which imports the CLI inside this net, is harness/cli/entry.py: this module
imports nothing of the CLI, so the CLI (harness/cli/commands.py) imports it without a cycle.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from harness.core.errors import HarnessError, redact

DEBUG_FLAG = "--debug"
PROGRAM = "orm-harness"
SECRETS_PREFIX = "orm-harness-secrets-"
RUN_PLUGIN = "harness.bench.runlog"
"""The pytest plugin `orm-harness run` loads into the suite (`-p harness.bench.runlog`): incremental, atomic results and
a stop within seconds when the database server goes away."""


class Main(Protocol):
    """A CLI `main(argv=None)`: the arguments, sys.argv[1:] when None; returns the exit status."""

    def __call__(self, argv: Sequence[str] | None = None) -> int: ...


def describe(exc: BaseException) -> tuple[str, int]:
    """One line saying what went wrong, and the exit status: 2 for bad input or environment, 1 for a bug."""
    if isinstance(exc, HarnessError):
        return str(exc), 2
    if isinstance(exc, ModuleNotFoundError):
        package = (exc.name or "?").split(".")[0]
        return f"the package {package!r} is not installed: pip install -e '.[all]' (or the extra you need)", 2
    if isinstance(exc, PermissionError | FileNotFoundError | IsADirectoryError):
        return f"{exc.strerror}: {exc.filename}", 2
    return f"internal error: {type(exc).__name__}: {exc} (run with {DEBUG_FLAG} for the traceback)", 1


def cli_errors(main: Callable[[Sequence[str] | None], int]) -> Main:
    """Wrap a CLI `main(argv)`: see the module docstring."""

    @functools.wraps(main)
    def guarded(argv: Sequence[str] | None = None) -> int:
        arguments = list(sys.argv[1:] if argv is None else argv)
        debug = DEBUG_FLAG in arguments
        arguments = [a for a in arguments if a != DEBUG_FLAG]
        try:
            return main(arguments)
        except KeyboardInterrupt:
            print(f"{PROGRAM}: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:
            return report(exc, debug)

    return guarded


def report(exc: BaseException, debug: bool = False) -> int:
    """Print `exc` as the CLI does (one redacted line, the traceback before it with `debug`); its exit status."""
    if debug:
        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    line, status = describe(exc)
    print(f"{PROGRAM}: {redact(' '.join(line.split()))}", file=sys.stderr)
    return status


def stop_suite(process: subprocess.Popen[bytes], grace: float) -> None:
    """After a Ctrl-C: pass it on to the suite (in a session of its own, it got none), let it write its results
    and stop its cluster for up to `grace` seconds; then kill it."""
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
        process.kill()


# --- preparing the suite's databases -------------------------------------------------------------------


def _escape(field_value: str) -> str:
    return field_value.replace("\\", "\\\\").replace(":", "\\:")


@dataclass
class SuiteSetup:
    """What `orm-harness run` passes to the suite: `--db` values without passwords, and the environment."""

    databases: list[str]
    environment: dict[str, str | None] = field(default_factory=dict)
    """Variables to set (None: to remove) in the suite's environment; see `suite_environment`."""
    plugins: tuple[str, ...] = (RUN_PLUGIN,)
    secrets: Path | None = None

    def suite_environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        environment = dict(os.environ if base is None else base)
        for name, value in self.environment.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return environment

    @classmethod
    def prepare(cls, databases: Iterable[str], adapters: Iterable[str] = ()) -> SuiteSetup:
        """Check everything (see the module docstring), then hide the passwords. Writes to no database."""
        from harness.core.factory import provider_class
        from harness.databases.isolation import parse_url, preflight

        specs = list(databases)
        for spec in specs:
            if spec not in ("sqlite", "postgresql"):
                parse_url(spec)  # registers the password for redaction before anything can print it
        for adapter in adapters:
            provider_class(adapter)
        for spec in specs:
            asyncio.run(preflight(spec))
        return cls._hiding_passwords(specs)

    @classmethod
    def _hiding_passwords(cls, specs: list[str]) -> SuiteSetup:
        lines, plain = [], []
        for spec in specs:
            parts = urlsplit(spec) if "://" in spec else None
            if parts is None or parts.password is None:
                plain.append(spec)
                continue
            host, port = parts.hostname or "localhost", str(parts.port or 5432)
            user = unquote(parts.username or "postgres")
            fields = (host, port, "*", user, unquote(parts.password))
            lines.append(":".join(_escape(f) for f in fields))
            netloc = f"{parts.username or ''}@{parts.netloc.rsplit('@', 1)[1]}"
            plain.append(urlunsplit(parts._replace(netloc=netloc)))
        if not lines:
            return cls(plain)
        secrets = _password_file(lines)
        return cls(plain, {"PGPASSFILE": str(secrets / "pgpass"), "PGPASSWORD": None}, secrets=secrets)

    def close(self) -> None:
        """Remove the password file."""
        if self.secrets is not None:
            for path in (self.secrets / "pgpass", self.secrets / "owner"):
                path.unlink(missing_ok=True)
            self.secrets.rmdir()
            self.secrets = None


def _password_file(lines: list[str]) -> Path:
    """A private pgpass file with `lines`, then whatever the user's own password sources held (PGPASSWORD, which
    would otherwise win over the file, and PGPASSFILE or ~/.pgpass)."""
    from harness.databases.ownership import owned_tempdir, reap_dead

    reap_dead(SECRETS_PREFIX)  # the password files of runs that were killed
    directory = owned_tempdir(SECRETS_PREFIX)
    os.chmod(directory, 0o700)
    if password := os.environ.get("PGPASSWORD"):
        lines.append("*:*:*:*:" + _escape(password))
    own = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    if own.is_file():
        lines += own.read_text().splitlines()
    path = directory / "pgpass"
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return directory
