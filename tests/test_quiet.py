"""The library writes nothing to stdout or stderr: not when imported, not when an adapter creates its schema.

Piccolo's migration manager prints its progress with a bare `print`; the Piccolo runner keeps it quiet while it
applies a migration, and only then (backends/piccolo/migrations/runner.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.factory import adapter_class
from harness.databases.targets import SqliteTarget

IMPORTS = "import harness, backends.piccolo.provider, backends.tortoise.provider, backends.sqlalchemy.provider, "
IMPORTS += "backends.raw.provider"


def test_importing_the_library_prints_nothing(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", IMPORTS], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


@pytest.mark.parametrize("adapter", list(CONTRACT))
async def test_create_schema_prints_nothing(
    adapter: str, sqlite_target: SqliteTarget, capfd: pytest.CaptureFixture[str]
) -> None:
    url = await sqlite_target.new_database(f"quiet_{adapter}")
    provider = adapter_class(adapter)(DatabaseConfig(url))
    await provider.connect()
    try:
        capfd.readouterr()
        await provider.create_schema()
        await provider.migrate("base")  # downgrades too
        await provider.migrate("head")
        out, err = capfd.readouterr()
    finally:
        await provider.drop_schema()
        await provider.disconnect()
    assert (out, err) == ("", "")


def test_piccolo_prints_as_before_outside_the_runner(capsys: pytest.CaptureFixture[str]) -> None:
    from piccolo.apps.migrations.auto import migration_manager

    from backends.piccolo.migrations import runner

    with runner._quiet():
        migration_manager.print("left out")  # type: ignore[attr-defined]
    migration_manager.print("printed")  # type: ignore[attr-defined]
    assert capsys.readouterr().out == "printed\n"
