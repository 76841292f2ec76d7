"""What a run ran on: versions of the ORM, driver, server and Python, the database settings, the CPU.

The ORM behind an adapter is the distribution its declaration names (harness/core/adapters.py), so no module here
names an ORM: the `raw` baseline has none.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg

from harness.core.adapters import BY_NAME, REGISTRY
from harness.databases.targets import SQLITE_SETTINGS

DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "redis": "redis"}
PACKAGES = (*DRIVERS.values(), *(a.orm for a in REGISTRY if a.orm is not None), "pytest", "pytest-benchmark")
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


def orm_distribution(adapter: str) -> str | None:
    """The distribution of the adapter's ORM, as declared (None for the baseline or an unknown adapter)."""
    declared = BY_NAME.get(adapter)
    return None if declared is None else declared.orm


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
    """The server's version, the settings that shape its speed (`fsync` and co. on PostgreSQL) and, on PostgreSQL,
    the extensions of the database and their versions (`vector`, `pg_stat_statements`)."""
    if dialect == "sqlite":
        return {"server": f"SQLite {sqlite3.sqlite_version}", "settings": dict(SQLITE_SETTINGS)}
    connection = await asyncpg.connect(dsn)
    try:
        version = await connection.fetchval("SHOW server_version")
        query = "SELECT name, current_setting(name) AS value FROM pg_settings WHERE name = ANY($1)"
        rows = await connection.fetch(query, PG_SETTINGS)
        extensions = await connection.fetch(
            "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname"
        )
    finally:
        await connection.close()
    settings = {r["name"]: r["value"] for r in rows}
    return {
        "server": f"PostgreSQL {version.split()[0]}",
        "settings": settings,
        "extensions": {r["extname"]: r["extversion"] for r in extensions},
    }


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
