"""Count the SQL statements every adapter sends, at the drivers (asyncpg and sqlite3), for all alike.

`async with capture() as log:` records each statement the drivers send while the block runs. Nothing is
hooked outside such a block, so timed rounds run on untouched drivers; the benchmarks capture on a
separate, untimed round.

asyncpg: the connection-level `execute`/`_execute`/`_executemany` and the prepared-statement paths
(SQLAlchemy's dialect runs everything through prepared statements, which `add_query_logger` does not see)
are wrapped for the duration of the block. The pool's reset-on-release statements are left out: they are
the pool's housekeeping, not the operation's work. One `executemany` is one round trip and as many server
executions as it has rows (pg_stat_statements counts the executions).

sqlite3: every connection aiosqlite opens is remembered (weakly); on entering the block each gets a
`set_trace_callback` (set from its own worker thread, as sqlite3 requires), and connections opened during
the block get it at once. sqlite3 reports each execution, so executions and round trips are equal. It also
reports every ON DELETE CASCADE action as a repeat of the DELETE that caused it: a DELETE identical to the
one just before it on the same connection is counted once.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import aiosqlite.core
from asyncpg.connection import Connection
from asyncpg.exceptions import PostgresError
from asyncpg.prepared_stmt import PreparedStatement

from harness.core.versions import require

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START TRANSACTION", "END")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement sent. `failed`: PostgreSQL refused it with an error (a constraint violation, say), which
    pg_stat_statements, counting completed statements only, leaves out."""

    sql: str
    executions: int = 1
    failed: bool = False

    @property
    def is_transaction_control(self) -> bool:
        return self.sql.lstrip().upper().startswith(_TRANSACTION_CONTROL)


@dataclass
class StatementLog:
    """What the drivers were sent during one `capture()` block."""

    statements: list[Statement] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, sql: str, executions: int = 1) -> int:
        """Append a statement; returns its position, for `failed`."""
        with self._lock:
            self.statements.append(Statement(sql, executions))
            return len(self.statements) - 1

    def failed(self, position: int) -> None:
        """Mark the statement recorded at `position` as refused by the server."""
        with self._lock:
            statement = self.statements[position]
            self.statements[position] = Statement(statement.sql, statement.executions, failed=True)

    @property
    def round_trips(self) -> int:
        """Statements sent (an executemany counts once): what network latency multiplies."""
        return len(self.statements)

    @property
    def executions(self) -> int:
        """Statements the server executed (an executemany counts per row), as pg_stat_statements counts."""
        return sum(s.executions for s in self.statements)

    @property
    def queries(self) -> int:
        """Round trips other than BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE."""
        return sum(not s.is_transaction_control for s in self.statements)

    def clear(self) -> None:
        with self._lock:
            self.statements.clear()


_active: StatementLog | None = None
_sqlite_connections: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()
_resetting: set[int] = set()
_capture_lock = threading.Lock()


def _trace(sql: str) -> None:
    log = _active
    if log is not None:
        log.record(sql)


@asynccontextmanager
async def _traced(sql: str, executions: int = 1) -> AsyncIterator[None]:
    """Record an asyncpg statement, and whether the server refused it."""
    log = _active
    position = None if log is None else log.record(sql, executions)
    try:
        yield
    except PostgresError:
        if log is not None and position is not None:
            log.failed(position)
        raise


def _sqlite_tracer() -> Callable[[str], None]:
    """A trace callback for one connection that drops the repeats sqlite3 reports for cascaded deletes."""
    previous = ""

    def trace(sql: str) -> None:
        nonlocal previous
        if not (sql == previous and sql.lstrip()[:6].upper() == "DELETE"):
            _trace(sql)
        previous = sql

    return trace


def _remember_sqlite_connections() -> None:
    """Wrap aiosqlite's connect once, at import: it only remembers connections (no per-query cost)."""
    original = aiosqlite.core.Connection._connect
    if getattr(original, "_harness_wrapped", False):
        return

    async def _connect(self: aiosqlite.Connection) -> aiosqlite.Connection:
        connection = await original(self)
        _sqlite_connections.add(connection)
        if _active is not None:
            await connection._execute(connection._conn.set_trace_callback, _sqlite_tracer())
        return connection

    _connect._harness_wrapped = True  # type: ignore[attr-defined]
    aiosqlite.core.Connection._connect = _connect  # type: ignore[method-assign]


require("aiosqlite")
require("asyncpg")
_remember_sqlite_connections()


def stop_open_sqlite_connections() -> int:
    """Stop the worker threads of aiosqlite connections nobody closed, so the interpreter can exit (they are
    not daemon threads, and Python joins them before atexit handlers run). Returns how many were open."""
    stray = [c for c in list(_sqlite_connections) if c._running]
    for connection in stray:
        connection.stop()
    return len(stray)


async def _set_sqlite_trace(tracing: bool) -> None:
    for connection in list(_sqlite_connections):
        if connection._running and connection._connection is not None:
            with suppress(ValueError, sqlite3.ProgrammingError):  # closed meanwhile
                await connection._execute(connection._conn.set_trace_callback, _sqlite_tracer() if tracing else None)


def _asyncpg_wrappers() -> dict[tuple[type, str], Callable[..., Any]]:
    """The wrapped asyncpg methods, keyed by (class, attribute)."""
    execute, _execute = Connection.execute, Connection._execute
    _executemany, reset = Connection._executemany, Connection.reset
    bind_execute = PreparedStatement._PreparedStatement__bind_execute
    prepared_executemany = PreparedStatement.executemany

    async def wrapped_execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if args or id(self) in _resetting:  # with args, _execute records it
            return await execute(self, query, *args, **kwargs)
        async with _traced(query):  # the simple-query protocol
            return await execute(self, query, *args, **kwargs)

    async def wrapped__execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        async with _traced(query):
            return await _execute(self, query, *args, **kwargs)

    async def wrapped__executemany(self: Connection, query: str, args: Any, *rest: Any, **kwargs: Any) -> Any:
        args = list(args)
        async with _traced(query, len(args)):
            return await _executemany(self, query, args, *rest, **kwargs)

    async def wrapped_reset(self: Connection, *args: Any, **kwargs: Any) -> Any:
        _resetting.add(id(self))
        try:
            return await reset(self, *args, **kwargs)
        finally:
            _resetting.discard(id(self))

    async def wrapped_bind_execute(self: PreparedStatement, *args: Any, **kwargs: Any) -> Any:
        async with _traced(self._query):
            return await bind_execute(self, *args, **kwargs)

    async def wrapped_prepared_executemany(self: PreparedStatement, args: Any, **kwargs: Any) -> Any:
        args = list(args)
        async with _traced(self._query, len(args)):
            return await prepared_executemany(self, args, **kwargs)

    return {
        (Connection, "execute"): wrapped_execute,
        (Connection, "_execute"): wrapped__execute,
        (Connection, "_executemany"): wrapped__executemany,
        (Connection, "reset"): wrapped_reset,
        (PreparedStatement, "_PreparedStatement__bind_execute"): wrapped_bind_execute,
        (PreparedStatement, "executemany"): wrapped_prepared_executemany,
    }


@asynccontextmanager
async def capture() -> AsyncIterator[StatementLog]:
    """Record the statements sent by every driver while the block runs (one capture at a time)."""
    global _active
    if not _capture_lock.acquire(blocking=False):
        raise RuntimeError("statement capture is already running")
    log = StatementLog()
    wrappers = _asyncpg_wrappers()
    originals = {key: getattr(*key) for key in wrappers}
    try:
        for (cls, name), wrapper in wrappers.items():
            setattr(cls, name, wrapper)
        _active = log
        await _set_sqlite_trace(True)
        yield log
    finally:
        _active = None
        await _set_sqlite_trace(False)
        for (cls, name), original in originals.items():
            setattr(cls, name, original)
        _capture_lock.release()
