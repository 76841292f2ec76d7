"""What a run ran on: versions of the ORM, driver, server and Python, the database settings, the CPU.

The ORM behind an adapter is read from the project's own extras (`[project.optional-dependencies]`, the
extra named like the adapter), so no module here names an ORM: `raw` has no extra packages, so no ORM.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import sqlite3
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg

from harness.databases.targets import SQLITE_SETTINGS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
PACKAGES = ("asyncpg", "aiosqlite", "sqlalchemy", "tortoise-orm", "piccolo", "pytest", "pytest-benchmark")
PG_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "shared_buffers",
    "max_connections",
    "shared_preload_libraries",
    "pg_stat_statements.track",
)


def package_version(distribution: str | None) -> str | None:
    if distribution is None:
        return None
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


@cache
def _extras() -> dict[str, list[str]]:
    try:
        return tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    except (OSError, KeyError):
        return {}


def orm_distribution(adapter: str) -> str | None:
    """The distribution an adapter's extra installs first (`sqlalchemy[asyncio]>=2.1` -> `sqlalchemy`)."""
    for requirement in _extras().get(adapter, []):
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        return None if name is None else name.group(0)
    return None


def versions(adapter: str, dialect: str, server: str) -> dict[str, str | None]:
    """The `versions` entry of a benchmark's extra_info."""
    orm = orm_distribution(adapter)
    return {
        "orm": orm,
        "orm_version": package_version(orm),
        "driver": DRIVERS[dialect],
        "driver_version": package_version(DRIVERS[dialect]),
        "server": server,
        "python": platform.python_version(),
    }


async def database_facts(dialect: str, dsn: str | None) -> dict[str, Any]:
    """The server's version and the settings that shape its speed (`fsync` and co. on PostgreSQL)."""
    if dialect == "sqlite":
        return {"server": f"SQLite {sqlite3.sqlite_version}", "settings": dict(SQLITE_SETTINGS)}
    connection = await asyncpg.connect(dsn)
    try:
        version = await connection.fetchval("SHOW server_version")
        query = "SELECT name, current_setting(name) AS value FROM pg_settings WHERE name = ANY($1)"
        rows = await connection.fetch(query, PG_SETTINGS)
    finally:
        await connection.close()
    settings = {r["name"]: r["value"] for r in rows}
    return {"server": f"PostgreSQL {version.split()[0]}", "settings": settings}


def cpu() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"model": model, "count": os.cpu_count(), "machine": platform.machine(), "system": platform.platform()}


MACHINE_IDENTITY = ("node", "machine", "processor", "system", "release", "python_implementation", "python_version")
CPU_IDENTITY = ("brand_raw", "arch", "count")


def machine_identity(machine_info: dict[str, Any]) -> dict[str, Any]:
    """What identifies a machine in pytest-benchmark's machine_info: host, platform, Python, CPU model and count
    (not the CPU's current clock, nor the run-level facts the harness adds)."""
    identity = {key: machine_info.get(key) for key in MACHINE_IDENTITY}
    identity["cpu"] = {key: (machine_info.get("cpu") or {}).get(key) for key in CPU_IDENTITY}
    return identity


def package_versions() -> dict[str, str | None]:
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **{name: package_version(name) for name in PACKAGES},
    }
