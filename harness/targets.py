"""Where a run's databases live: SQLite files in a directory, or databases on a PostgreSQL server.

`open_target("sqlite" | "postgresql" | "postgresql://...")` gives a `Target` whose `new_database(name)`
returns the URL of a fresh, empty database that the harness created itself: a new SQLite file, or a new
database on the throwaway cluster (started on demand) or on the given server, named `orm_harness_<name>`.
`close()` removes everything the target created. The tests and the benchmarks share this code.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from harness.config import DatabaseConfig
from harness.errors import ConfigurationError
from harness.pgserver import ThrowawayPostgres, create_database

_NAME = re.compile(r"^[a-z0-9_]+$")


SQLITE_SETTINGS = {"journal_mode": "wal"}
"""Set on every SQLite file the harness creates, before any adapter connects. WAL is what Tortoise switches
on by itself; making it the file's setting gives every adapter the same journal (it persists in the file)."""


@dataclass
class SqliteTarget:
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="orm-harness-sqlite-")))
    dialect: str = "sqlite"
    label: str = "sqlite"

    async def new_database(self, name: str) -> str:
        path = self.directory / f"{_checked(name)}.sqlite"
        for stale in self.directory.glob(f"{path.name}*"):
            stale.unlink()
        with closing(sqlite3.connect(path)) as connection:
            for pragma, value in SQLITE_SETTINGS.items():
                connection.execute(f"PRAGMA {pragma}={value}")
        return f"sqlite:///{path}"

    async def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class PostgresTarget:
    server_url: str
    server: ThrowawayPostgres | None = None
    dialect: str = "postgresql"
    label: str = "postgresql"
    created: list[str] = field(default_factory=list)

    async def new_database(self, name: str) -> str:
        database = f"orm_harness_{_checked(name)}"
        if database in self.created:
            await self._drop(database)
        await create_database(self.server_url, database)
        self.created.append(database)
        return self.server_url.rsplit("/", 1)[0] + "/" + database

    async def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            return
        for database in self.created:
            await self._drop(database)
        self.created.clear()

    async def _drop(self, database: str) -> None:
        import asyncpg

        admin = await asyncpg.connect(DatabaseConfig(self.server_url).postgres_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


Target = SqliteTarget | PostgresTarget


def open_target(spec: str) -> Target:
    """`sqlite`, `postgresql` (a throwaway cluster) or a PostgreSQL server URL."""
    if spec == "sqlite":
        return SqliteTarget()
    if spec == "postgresql":
        server = ThrowawayPostgres.start_new()
        return PostgresTarget(server.url(), server)
    config = DatabaseConfig(spec)
    if config.dialect != "postgresql":
        raise ConfigurationError(f"--db takes sqlite, postgresql or a postgresql:// URL, not {config.redacted_url!r}")
    return PostgresTarget(config.url, label="postgresql")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigurationError(f"database name {name!r} must be lower-case letters, digits and underscores")
    return name
