"""Which PostgreSQL databases the harness may write to, and how it says no.

The harness creates, updates and deletes rows, so it writes only to databases that are its own:
- databases it creates (`orm_harness_<name>`, on the throwaway cluster or on a server given by a URL naming
  the maintenance database `postgres`), labelled with a `COMMENT ON DATABASE` naming the process that owns
  them, so a later run recognises its leftovers (and drops them) and never drops a database it did not create;
- a database someone else created for it, when it carries the marker table `orm_harness_marker` and holds
  nothing else (`orm-harness db mark URL` creates the marker in an empty database). That is the way for a user
  who may not create databases.
Anything else is refused with one line naming the database and what was found, before a single write.

`connect()` turns the driver's connection failures into one-line `ConnectionFailed` / `ConfigurationError`s
(unreachable host, wrong password, unknown database, missing driver); `preflight()` checks a `--db` value
without writing anything, so the CLI can refuse bad input before it starts the suite; `inventory()` says what the
harness has on a server or in a database (`orm-harness db list URL`).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.core.config import DatabaseConfig
from harness.core.errors import ConfigurationError, ConnectionFailed, redact, register_secret
from harness.databases.ownership import Owner

MAINTENANCE_DATABASES = ("postgres", "template1")
"""A URL naming one of these is a server URL: the harness creates its own databases there."""
DATABASE_PREFIX = "orm_harness_"
COMMENT_PREFIX = "orm-harness run "
MARKER_TABLE = "orm_harness_marker"
CONNECT_TIMEOUT = 10.0
STATEMENT_TIMEOUT = "120s"
LOCK_TIMEOUT = "30s"
"""Set on every database the harness writes to (`ALTER DATABASE ... SET`), so every new connection of every
adapter gets them without the adapters doing anything: a stuck statement fails with `StatementTimeout`, a
lock wait with `LockTimeout`, instead of hanging the run. Both are far above any scenario's statements (the
slowest, a 10,000-row insert, takes about a second here)."""


# --- connecting, with one-line errors ----------------------------------------------------------------


def parse_url(url: str) -> DatabaseConfig:
    """A PostgreSQL URL, checked (scheme, database, port), its password registered for redaction."""
    config = DatabaseConfig(url)
    if config.dialect != "postgresql":
        raise ConfigurationError(f"--db takes sqlite, postgresql or a postgresql:// URL, not {config.redacted_url!r}")
    register_secret(config.password)
    try:
        _ = config.port
    except ValueError:
        raise ConfigurationError(
            f"malformed PostgreSQL URL {config.redacted_url!r}: the port is not a number"
        ) from None
    return config


def with_database(config: DatabaseConfig, database: str) -> str:
    """The URL of `config` with another database name."""
    return urlunsplit(urlsplit(config.url)._replace(path="/" + database))


def _where(config: DatabaseConfig) -> str:
    return f"{config.host}:{config.port}"


def require_asyncpg() -> Any:
    """The asyncpg module, or a one-line error saying how to install it."""
    try:
        import asyncpg
    except ImportError:
        raise ConfigurationError(
            "PostgreSQL needs the driver asyncpg, which is not installed: pip install asyncpg"
        ) from None
    return asyncpg


async def connect(url: str) -> Any:
    """An asyncpg connection to `url`; every failure to get one is a one-line harness error."""
    config = parse_url(url)
    asyncpg = require_asyncpg()
    try:
        return await asyncpg.connect(config.postgres_dsn, timeout=CONNECT_TIMEOUT)
    except Exception as exc:
        raise _connect_error(config, exc) from None


def _connect_error(config: DatabaseConfig, exc: Exception) -> Exception:
    where, user, sqlstate = _where(config), config.user, getattr(exc, "sqlstate", None)
    if sqlstate == "28P01":
        return ConnectionFailed(
            f"PostgreSQL at {where} refused the password of user {user!r}: correct the password in the URL"
        )
    if sqlstate == "28000":
        return ConnectionFailed(f"PostgreSQL at {where} refused user {user!r}: {redact(str(exc))}")
    if sqlstate == "3D000":
        return ConfigurationError(
            f"database {config.database!r} does not exist on {where}: give the server's maintenance database "
            f"(.../postgres) and orm-harness creates its own"
        )
    if isinstance(exc, socket.gaierror):
        return ConnectionFailed(f"cannot resolve host {config.host!r}: check the host name in the URL")
    if isinstance(exc, TimeoutError):
        return ConnectionFailed(
            f"no answer from PostgreSQL at {where} within {CONNECT_TIMEOUT:g} s: check host and port"
        )
    if isinstance(exc, OSError):
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else exc.strerror or str(exc)
        return ConnectionFailed(f"cannot reach PostgreSQL at {where} ({reason}): is the server running there?")
    return ConnectionFailed(redact(f"cannot connect to PostgreSQL at {where}: {type(exc).__name__}: {exc}"))


# --- what a database holds ---------------------------------------------------------------------------


_USER_TABLES = """
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""
"""Tables and views in user schemas, less those of extensions (pg_stat_statements' views)."""


@dataclass
class Contents:
    """What a database holds: its tables (`schema.name`, `public.` left out) and the marker's entries."""

    tables: list[str]
    marker: dict[str, str] | None = None
    others: list[str] = field(default_factory=list)

    @property
    def owner(self) -> Owner | None:
        return Owner.parse((self.marker or {}).get("owner", ""))


async def contents(connection: Any) -> Contents:
    rows = await connection.fetch(_USER_TABLES)
    tables = [r["name"] if r["schema"] == "public" else f"{r['schema']}.{r['name']}" for r in rows]
    marker = None
    if MARKER_TABLE in tables:
        marker = {r["key"]: r["value"] for r in await connection.fetch(f"SELECT key, value FROM {MARKER_TABLE}")}
    return Contents(tables, marker, [t for t in tables if t != MARKER_TABLE])


def _listing(tables: list[str]) -> str:
    shown = ", ".join(tables[:5])
    return shown + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")


def check_marked(database: str, found: Contents) -> list[str]:
    """The tables a killed harness run left in marked database `database` (to drop); raises unless the
    database carries the marker and holds nothing else but such leftovers."""
    mark_hint = "or mark an empty database with `orm-harness db mark URL`"
    server_hint = "give the server's maintenance database (.../postgres) so orm-harness creates its own database"
    if found.marker is None:
        if found.others:
            raise ConfigurationError(
                f"refusing database {database!r}: it holds tables orm-harness did not create "
                f"({_listing(found.others)}); {server_hint}, {mark_hint}"
            )
        raise ConfigurationError(
            f"refusing database {database!r}: it is not marked for orm-harness; {server_hint}, {mark_hint}"
        )
    if not found.others:
        return []
    owner, state = found.owner, found.marker.get("state")
    if state == "released" or (state == "in use" and owner is not None and _gone_or_self(owner)):
        return found.others  # left by a run that was killed (or by this process): the harness's own
    if state == "in use" and owner is not None:
        raise ConfigurationError(
            f"database {database!r} is in use by another orm-harness run (pid {owner.pid} on {owner.host}); "
            "wait for it, or if it is gone run `orm-harness db release URL`"
        )
    raise ConfigurationError(
        f"refusing database {database!r}: besides the orm-harness marker it holds tables orm-harness did not "
        f"create ({_listing(found.others)}); {server_hint}"
    )


def _gone_or_self(owner: Owner) -> bool:
    return owner == Owner.current() or owner.alive() is False


async def mark(url: str) -> None:
    """Create the marker in the empty database of `url` (refused if it holds anything)."""
    connection = await connect(url)
    try:
        found = await contents(connection)
        if found.tables:
            raise ConfigurationError(
                f"database {parse_url(url).database!r} is not empty ({_listing(found.tables)}): "
                "orm-harness marks only empty databases"
            )
        await connection.execute(f"CREATE TABLE {MARKER_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
        await set_marker(connection, state="idle", marked=datetime.now(UTC).isoformat(timespec="seconds"))
    finally:
        await connection.close()


async def release(url: str) -> None:
    """Declare a marked database free again after the run using it has gone: its tables will be dropped."""
    connection = await connect(url)
    try:
        if (await contents(connection)).marker is None:
            raise ConfigurationError(f"database {parse_url(url).database!r} carries no orm-harness marker")
        await set_marker(connection, state="released")
    finally:
        await connection.close()


async def set_marker(connection: Any, **entries: str) -> None:
    for key, value in entries.items():
        await connection.execute(
            f"INSERT INTO {MARKER_TABLE} (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            key,
            value,
        )


# --- databases the harness creates ---------------------------------------------------------------------


def database_comment(owner: Owner | None = None) -> str:
    return f"{COMMENT_PREFIX}{owner or Owner.current()}"


def comment_owner(comment: str | None) -> Owner | None:
    """The owner named by a harness database comment; None if the comment is not the harness's."""
    if not comment or not comment.startswith(COMMENT_PREFIX):
        return None
    return Owner.parse(comment[len(COMMENT_PREFIX) :])


def no_createdb(config: DatabaseConfig) -> ConfigurationError:
    user, where = config.user, _where(config)
    return ConfigurationError(
        f'user {user!r} may not create databases on {where}: grant it (ALTER ROLE "{user}" CREATEDB), or have an '
        f"administrator create an empty database owned by {user!r}, mark it with "
        f"`orm-harness db mark postgresql://{user}@{where}/NAME` and pass that URL "
        "(it holds one adapter at a time)"
    )


async def may_create_databases(connection: Any) -> bool:
    return bool(await connection.fetchval("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"))


async def set_timeouts(connection: Any, database: str) -> None:
    """Statement and lock timeouts for every new connection to `database` (needs its ownership; a database
    pre-created for the harness is owned by its user; where not, the user's own setting in that database)."""
    for setting, value in (("statement_timeout", STATEMENT_TIMEOUT), ("lock_timeout", LOCK_TIMEOUT)):
        try:
            await connection.execute(f"ALTER DATABASE \"{database}\" SET {setting} = '{value}'")
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "42501":
                raise
            await connection.execute(f"ALTER ROLE CURRENT_USER IN DATABASE \"{database}\" SET {setting} = '{value}'")


# --- checking a --db value without writing --------------------------------------------------------------


async def preflight(spec: str) -> None:
    """Check a `--db` value before a run: reachable, right password, and a database the harness may use.
    Writes nothing. `sqlite` always passes; `postgresql` needs the server binaries and asyncpg."""
    if spec == "sqlite":
        return
    if spec == "postgresql":
        from harness.databases.pgserver import NO_BINARIES, find_binaries

        if find_binaries() is None:
            raise ConfigurationError(f"--db postgresql: {NO_BINARIES}")
        require_asyncpg()
        return
    config = parse_url(spec)
    connection = await connect(spec)
    try:
        if config.database in MAINTENANCE_DATABASES:
            if not await may_create_databases(connection):
                raise no_createdb(config)
        else:
            check_marked(config.database, await contents(connection))
    finally:
        await connection.close()


# --- what the harness has where ------------------------------------------------------------------------


async def inventory(url: str) -> list[str]:
    """One line per thing orm-harness has at `url`: on a server (a URL naming its maintenance database), each
    database it created and the run that owns it; in another database, its marker's entries and its tables."""
    config = parse_url(url)
    connection = await connect(url)
    try:
        if config.database in MAINTENANCE_DATABASES:
            rows = await connection.fetch(
                "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database "
                "WHERE starts_with(datname, $1) ORDER BY 1",
                DATABASE_PREFIX,
            )
            lines = [f"{row['datname']}: {_ownership(comment_owner(row['comment']))}" for row in rows]
            return lines or [f"no {DATABASE_PREFIX}* databases on {_where(config)}"]
        found = await contents(connection)
    finally:
        await connection.close()
    if found.marker is None:
        return [f"{config.database}: not marked for orm-harness ({_listing(found.tables) or 'no tables'})"]
    entries = ", ".join(f"{key} {value!r}" for key, value in sorted(found.marker.items()))
    return [f"{config.database}: marked for orm-harness ({entries}); tables: {_listing(found.others) or 'none'}"]


def _ownership(owner: Owner | None) -> str:
    if owner is None:
        return "not created by orm-harness (no orm-harness comment)"
    state = {True: "running", False: "gone: the next run drops it", None: "on another host"}[owner.alive()]
    return f"run pid {owner.pid} on {owner.host} ({state})"
