"""The `raw` baseline: hand-written SQL straight on the driver, asyncpg on PostgreSQL and aiosqlite on SQLite.

It is the floor every ORM is measured against, not a fourth ORM: it does the same work as the adapters
(objects out, one statement per call where an ORM can manage one) with nothing in between. Statements sent
per call, on both dialects unless noted:
    create, update: 1 (INSERT/UPDATE ... RETURNING); get, get_many, delete, count, exists, update_many: 1;
    create_many, link_tags: 1 asyncpg `executemany` (atomic; one execution per row on the server); on
        SQLite BEGIN + executemany + COMMIT outside a transaction (sqlite3 would otherwise commit each row);
    get_many_optimized, get_with_relations: 1 + one per relation path (a level with no parent rows is skipped);
    transaction: BEGIN/COMMIT or ROLLBACK; nested: SAVEPOINT/RELEASE or ROLLBACK TO;
    find_user_by_email, audit_events_between, purge_audit_events: 1; sign_in: a transaction of a SELECT and an
        UPDATE (the tier operations are the contract's SQL defaults, the purge reads its count from the driver).
    nearest_documents, build_vector_index: 1; approximate_nearest_documents: BEGIN, set_config, SELECT, COMMIT.
Vectors: pgvector's binary asyncpg codec on every pooled connection (lists of floats in and out); on SQLite
pgvector's text form, searched with sqlite-vec where the interpreter can load it (loaded at connect).
On PostgreSQL every call outside a transaction acquires a connection from asyncpg's Pool. Its release skips
asyncpg's default reset query (`RESET ALL; UNLISTEN *; CLOSE ALL; ...`, one more round trip per call): this
adapter never changes session state, so there is nothing to reset, and the baseline takes the fastest correct path.
A transaction left open is still rolled back on release by asyncpg itself.
The schema comes from versioned SQL files, one per revision, direction and dialect (migrations/, applied
by its runner.py), the same files for `create_schema()`, `migrate()` and `create_schema_from_models()`.
Pool settings (PostgreSQL): pool_min and pool_max are asyncpg's `min_size` and `max_size` (max_overflow is their
difference), pool_timeout the `timeout` of `Pool.acquire`; with none set, calls go through `Pool.fetch` and co.,
which acquire without one. There is no ORM, so no SQL logging: `echo` is not applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, cast

import aiosqlite
import asyncpg

from backends.raw.migrations import runner as migrations
from backends.raw.models import (
    Account,
    AuditEvent,
    CacheEntry,
    Comment,
    Document,
    Follow,
    Tag,
    Task,
    TransferLog,
    User,
)
from harness.core.config import DatabaseConfig
from harness.core.contract import (
    BaseORMProvider,
    Capabilities,
    ConnectionModel,
    MigrationFacts,
    Models,
    OperationPath,
    PreparedGet,
    Selection,
    Where,
    WhereShape,
)
from harness.core.errors import (
    ConfigurationError,
    ConnectionFailed,
    PoolTimeout,
    raise_translated,
    redact,
    translated_errors,
)
from harness.core.pools import asyncpg_pool_gauges
from harness.core.schema import ENTITIES, TABLES_IN_DEPENDENCY_ORDER, Entity, latest_revision
from harness.core.sql import PlaceholderStyle, bind
from harness.core.workloads.audit import AuditOperations
from harness.core.workloads.cache import CacheOperations
from harness.core.workloads.embeddings import EmbeddingsOperations, Neighbour, neighbours, vector_text
from harness.core.workloads.graph import GraphOperations
from harness.core.workloads.records import check_moment
from harness.core.workloads.users import UserOperations
from harness.core.workloads.vector_support import (
    NO_SQLITE_INDEX,
    SQLITE_VEC_PROBLEM,
    load_sqlite_vec,
    register_vector_codec,
    sqlite_vec_path,
)

_COLUMNS = {name: ", ".join(entity.columns) for name, entity in ENTITIES.items()}
_SELECT = {name: f"SELECT {_COLUMNS[name]} FROM {entity.table}" for name, entity in ENTITIES.items()}
_OPERATORS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
# The m2m relations through task_tags: (link column pointing at the owner, link column pointing at the target).
_LINK_COLUMNS = {"Task": ("task_id", "tag_id"), "Tag": ("tag_id", "task_id")}
_CENTS = Decimal("0.01")
_Writers = tuple[tuple[int, Callable[[Any], Any]], ...]
"""The positions of a statement's values that the dialect's writer converts (SQLite's dates, decimals, JSON), each
with its writer."""
_RowReader = Callable[[Sequence[Any]], Any]
"""A function making one object of a row (`_row_reader`)."""
_NATIVE = OperationPath("native", "Hand-written SQL on the bare driver, the baseline's only API.")
# SQL on the bare driver is the baseline's own API: the workloads' SQL, written once in harness/core/workloads/.
PATHS = {
    **{operation: _NATIVE for operation in (*UserOperations.OPERATIONS, *AuditOperations.OPERATIONS)},
    **{
        operation: OperationPath("native", "The workload's SQL (harness/core/workloads/graph.py) on the driver.")
        for operation in GraphOperations.OPERATIONS
    },
    **{
        operation: OperationPath("native", "The workload's SQL (harness/core/workloads/cache.py) on the driver.")
        for operation in CacheOperations.OPERATIONS
    },
    "cache_delete": OperationPath("native", "DELETE ... WHERE key IN (...), counted by the driver's row count."),
    "cache_sweep": OperationPath("native", "DELETE ... WHERE expires_at <= now, counted by the driver's row count."),
}


async def _prepare_connection(connection: asyncpg.Connection) -> None:
    """Every pooled connection's codecs: JSON as Python objects, pgvector's vectors as lists of floats."""
    await _json_codec(connection)
    await register_vector_codec(connection)


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """The pool's reset: none beyond asyncpg's own rollback of an open transaction (see the module docstring)."""


class _Postgres:
    """asyncpg: a Pool, and a ContextVar holding the connection of the current task's transaction."""

    connection_model: ClassVar[ConnectionModel] = "pool"
    placeholder_style: ClassVar[PlaceholderStyle] = "dollar"
    row_locks = True
    no_limit = ""
    distance = "embedding <=> $1"  # a list of floats, bound by pgvector's binary codec
    paths: ClassVar[dict[str, OperationPath]] = dict.fromkeys(EmbeddingsOperations.OPERATIONS, _NATIVE)
    readers: ClassVar[dict[str, Callable[[Any], Any]]] = {}  # asyncpg already returns bool, Decimal, aware datetime
    writers: ClassVar[dict[str, Callable[[Any], Any]]] = {}
    notes = (
        "create_many uses asyncpg executemany, the path the ORMs are compared to; COPY "
        "(copy_records_to_table) would be about 3x faster but no ORM uses it.",
        "Each call outside a transaction acquires from asyncpg's Pool; its release sends no reset query (the "
        "adapter changes no session state), where the ORMs on asyncpg's Pool send one per call.",
        "Vectors travel in pgvector's binary format (its asyncpg codec, registered on every pooled connection).",
        "Not applied: echo (no ORM, so no SQL logging).",
    )

    def __init__(self, config: DatabaseConfig) -> None:
        self._config = config
        self._timeout = config.pool_timeout
        self._pool: asyncpg.Pool | None = None
        self._connection: ContextVar[asyncpg.Connection | None] = ContextVar("raw_pg_connection", default=None)

    @staticmethod
    def placeholder(n: int) -> str:
        return f"${n}"

    @staticmethod
    def in_list(column: str, values: list[Any], params: list[Any]) -> str:
        params.append(values)
        return f"{column} = ANY(${len(params)})"

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._config.postgres_dsn,
                min_size=self._config.pool_min,
                max_size=self._config.pool_max,
                reset=_nothing_to_reset,
                init=_prepare_connection,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            message = f"cannot connect to {self._config.redacted_url}: {type(exc).__name__}: {exc}"
            raise ConnectionFailed(redact(message)) from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _executor(self) -> asyncpg.Connection | asyncpg.Pool:
        connection = self._connection.get()
        return self._pool if connection is None else connection

    def _timed(self) -> bool:
        """A call outside a transaction with a pool_timeout: it acquires explicitly (`_acquired`), as the pool's own
        fetch/execute acquire without a timeout."""
        return self._timeout is not None and self._connection.get() is None

    @contextlib.asynccontextmanager
    async def _acquired(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the pool, waited for at most pool_timeout seconds (None: as long as it takes)."""
        if self._pool is None:
            raise ConnectionFailed(f"not connected to {self._config.redacted_url}")
        try:
            connection = await self._pool.acquire(timeout=self._timeout)
        except TimeoutError:
            raise PoolTimeout(
                f"no connection of the pool ({self._config.pool_max}) came free within {self._timeout} s"
            ) from None
        try:
            yield connection
        finally:
            await self._pool.release(connection)

    def fetch(self, sql: str, params: Sequence[Any]) -> Awaitable[list[Any]]:
        """One statement's rows. Without a pool_timeout to apply it returns asyncpg's own coroutine, as the SQLite
        side does (a coroutine of its own is a level of awaiting more on every call)."""
        if self._timed():
            return self._fetch_timed(sql, params)
        return self._executor().fetch(sql, *params)

    async def _fetch_timed(self, sql: str, params: Sequence[Any]) -> list[Any]:
        async with self._acquired() as connection:
            return cast(list[Any], await connection.fetch(sql, *params))

    async def rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        return [dict(record) for record in await self.fetch(sql, params)]

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run a write and return its row count, read from the status string ("UPDATE 3")."""
        if self._timed():
            async with self._acquired() as connection:
                status = await connection.execute(sql, *params)
        else:
            status = await self._executor().execute(sql, *params)
        return int(status.rpartition(" ")[2])

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._timed():
            async with self._acquired() as connection:
                await connection.executemany(sql, rows)
            return
        await self._executor().executemany(sql, rows)

    async def script(self, sql: str) -> None:
        if self._timed():
            async with self._acquired() as connection:
                await connection.execute(sql)
            return
        await self._executor().execute(sql)

    async def atomic_script(self, sql: str, *, foreign_keys_off: bool = False) -> None:
        # PostgreSQL's DDL is transactional: a failing statement takes the whole file back. Its ALTER TABLE never
        # needs a table rebuild, so foreign_keys_off (SQLite's) has nothing to do here.
        async with self.transaction():
            await self.script(sql)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        connection = self._connection.get()
        if connection is not None:
            async with connection.transaction():  # asyncpg makes a nested transaction a savepoint
                yield
            return
        if self._pool is None:
            raise ConnectionFailed(f"not connected to {self._config.redacted_url}")
        acquire = self._pool.acquire() if self._timeout is None else self._acquired()
        async with acquire as connection, connection.transaction():
            token = self._connection.set(connection)
            try:
                yield
            finally:
                self._connection.reset(token)

    def pool_status(self) -> dict[str, int] | None:
        return None if self._pool is None else asyncpg_pool_gauges(self._pool)


async def _json_codec(connection: asyncpg.Connection) -> None:
    """JSONB to and from Python objects in the driver, as asyncpg's documentation does it (its default is text)."""
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _decimal_out(value: int | float | str) -> Decimal:
    # NUMERIC affinity stores '12.34' as the REAL 12.34; repr() of a double gives back the shortest decimal,
    # exact for the 12 significant digits of NUMERIC(12,2).
    return Decimal(str(value)).quantize(_CENTS, ROUND_HALF_UP)


def _datetime_out(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal_in(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _datetime_in(value: Any) -> Any:
    """UTC text in CURRENT_TIMESTAMP's format, so stored and compared values sort as text."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")


class _SQLite:
    """aiosqlite: one connection behind an asyncio.Lock. A transaction holds the lock until it ends; a ContextVar (the
    savepoint depth) tells the calls made inside it not to take the lock again. A single statement outside a
    transaction waits for the lock only while another task's transaction holds it (`_free`)."""

    connection_model: ClassVar[ConnectionModel] = "single-connection"
    placeholder_style: ClassVar[PlaceholderStyle] = "qmark"
    row_locks = False
    no_limit = " LIMIT -1"  # SQLite takes no OFFSET without a LIMIT
    distance = "vec_distance_cosine(embedding, ?)"  # sqlite-vec; the vector as pgvector's text form (JSON)
    paths: ClassVar[dict[str, OperationPath]] = {
        "nearest_documents": sqlite_vec_path(
            OperationPath("native", "Hand-written SQL with sqlite-vec's vec_distance_cosine, loaded at connect.")
        ),
        "build_vector_index": NO_SQLITE_INDEX,
        "approximate_nearest_documents": NO_SQLITE_INDEX,
    }
    readers: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "is_active": bool,
        "completed": bool,
        "balance": _decimal_out,
        "amount": _decimal_out,
        "created_at": _datetime_out,
        "due_date": _datetime_out,
        "last_sign_in_at": _datetime_out,
        "occurred_at": _datetime_out,
        "payload": json.loads,
        "embedding": json.loads,
        "expires_at": _datetime_out,
    }
    writers: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "balance": _decimal_in,
        "amount": _decimal_in,
        "created_at": _datetime_in,
        "due_date": _datetime_in,
        "last_sign_in_at": _datetime_in,
        "occurred_at": _datetime_in,
        "payload": json.dumps,
        "embedding": vector_text,
        "expires_at": _datetime_in,
    }
    notes = (
        "One aiosqlite connection behind an asyncio.Lock, held by a transaction for its whole duration; a single "
        "statement outside a transaction waits for it only while another task's transaction holds it.",
        "NUMERIC(12,2) is stored with SQLite's NUMERIC affinity and read back as Decimal quantized to cents.",
        "create_many outside a transaction wraps executemany in BEGIN/COMMIT (atomic, like asyncpg's).",
        "Not applied: pool_size, pool_min, pool_max, max_overflow, pool_timeout (one connection behind a lock on "
        "SQLite), echo (no ORM, so no SQL logging).",
    )

    def __init__(self, config: DatabaseConfig) -> None:
        self._path = config.sqlite_path
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()  # a new one at each connect: a lock belongs to the loop it first waits in
        self._depth: ContextVar[int] = ContextVar("raw_sqlite_depth", default=0)

    @staticmethod
    def placeholder(n: int) -> str:
        return "?"

    @staticmethod
    def in_list(column: str, values: list[Any], params: list[Any]) -> str:
        params.extend(values)
        return f"{column} IN ({', '.join('?' * len(values))})"  # "IN ()" is valid SQLite and matches nothing

    async def connect(self) -> None:
        self._lock = asyncio.Lock()
        try:
            # isolation_level=None: sqlite3 issues no implicit BEGIN, transactions are ours alone.
            connection = await aiosqlite.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConnectionFailed(f"cannot open SQLite database {self._path!r}: {exc}") from exc
        await connection.execute_fetchall("PRAGMA foreign_keys = ON")
        if SQLITE_VEC_PROBLEM is None:
            await load_sqlite_vec(connection)
        self._connection = connection

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    @property
    def _connected_db(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise ConnectionFailed(f"SQLite database {self._path!r} is not connected")
        return self._connection

    def _turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """The lock, unless this task's transaction already holds it."""
        return contextlib.nullcontext() if self._depth.get() else self._lock

    def _free(self) -> bool:
        """Whether a single statement may go without the lock: this task's transaction holds it, or no one does.
        aiosqlite's one thread runs statements in the order they are sent, so a statement sent while no transaction
        is open runs, on its own (autocommit), before the BEGIN of any transaction that takes the lock after it."""
        return bool(self._depth.get()) or not self._lock.locked()

    def fetch(self, sql: str, params: Sequence[Any]) -> Awaitable[list[Any]]:
        """One statement's rows. When it may go without the lock (`_free`, written out: each function call shows),
        it returns aiosqlite's own coroutine: waiting for the lock, in a coroutine of its own, cost an insert about
        2.5 us of its 50 (the adapter tax, harness/bench/tax.py, fell from 8% to under 3%)."""
        connection = self._connection
        if connection is not None and (self._depth.get() or not self._lock.locked()):
            # aiosqlite annotates execute_fetchall as Iterable[Row]; it returns cursor.fetchall(), a list.
            return connection.execute_fetchall(sql, params)  # type: ignore[return-value]
        return self._fetch_in_turn(sql, params)

    async def _fetch_in_turn(self, sql: str, params: Sequence[Any]) -> list[Any]:
        async with self._lock:
            return cast(list[Any], await self._connected_db.execute_fetchall(sql, params))

    async def rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        # One hop to aiosqlite's thread, as fetch: execute_fetchall with sqlite3.Row as the row factory, which knows
        # the column names (a cursor would cost two more hops, fetchall and close). The factory is the connection's,
        # so it is set during this call's turn only; a statement sent without the lock just before may still run
        # while it is set, and gets sqlite3.Row rows, which index, unpack and slice as the tuples they stand for.
        async with self._turn():
            connection = self._connected_db
            connection.row_factory = sqlite3.Row
            try:
                return [dict(row) for row in await connection.execute_fetchall(sql, params)]
            finally:
                connection.row_factory = None

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run a write and return its row count: sqlite3's rowcount for the statement (rows a cascade deletes not
        counted), read from the cursor aiosqlite hands back, in one hop. The cursor is not closed, as aiosqlite's own
        execute_fetchall leaves its cursor: sqlite3 resets a statement that returns no rows once it has run, so
        nothing is held, and closing would be one more hop. Sent without the lock as `fetch` is."""
        async with contextlib.nullcontext() if self._free() else self._lock:
            cursor = await self._connected_db.execute(sql, params)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        transaction = contextlib.nullcontext() if self._depth.get() else self.transaction()
        async with transaction, self._connected_db.executemany(sql, rows):
            pass

    async def script(self, sql: str) -> None:
        async with self._turn(), self._connected_db.executescript(sql):
            pass

    async def atomic_script(self, sql: str, *, foreign_keys_off: bool = False) -> None:
        """One transaction. `foreign_keys_off` is for a table rebuild (SQLite's ALTER TABLE page, 12 steps): with
        foreign keys on, dropping the old table would cascade to its children. They are switched off before BEGIN
        (the pragma is a no-op inside a transaction) and every table is checked before COMMIT, a full scan that
        files not asking for it don't pay."""
        if self._depth.get():
            # executescript would first commit the open transaction (Python 3.11's sqlite3 does so).
            raise ConfigurationError("raw migrations on SQLite cannot run inside a transaction")
        connection = self._connected_db
        async with self._lock:
            if foreign_keys_off:
                await self._run("PRAGMA foreign_keys = OFF")
            try:
                # BEGIN is part of the script: sqlite3's executescript commits any transaction open before it.
                async with connection.executescript(f"BEGIN IMMEDIATE;\n{sql}\n"):
                    pass
                # A list, like every execute_fetchall (aiosqlite annotates it as Iterable[Row]).
                broken = foreign_keys_off and cast(
                    list[Any], await connection.execute_fetchall("PRAGMA foreign_key_check")
                )
                if broken:
                    raise sqlite3.IntegrityError(f"FOREIGN KEY constraint failed: {broken[:3]}")
                await self._run("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    await self._run("ROLLBACK")
                raise
            finally:
                if foreign_keys_off:
                    await self._run("PRAGMA foreign_keys = ON")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        depth = self._depth.get()
        savepoint = f"sp{depth}"
        async with self._turn():
            await self._run(f"SAVEPOINT {savepoint}" if depth else "BEGIN")
            token = self._depth.set(depth + 1)
            try:
                yield
            except BaseException:
                if self._connected_db.in_transaction:
                    # Like asyncpg: ROLLBACK TO leaves the savepoint on the stack until the outer transaction ends.
                    await self._run(f"ROLLBACK TO {savepoint}" if depth else "ROLLBACK")
                raise
            else:
                await self._run(f"RELEASE {savepoint}" if depth else "COMMIT")
            finally:
                self._depth.reset(token)

    async def _run(self, sql: str) -> None:
        await self._connected_db.execute_fetchall(sql)

    def pool_status(self) -> dict[str, int] | None:
        return None


def _reusable(where: Where) -> bool:
    """Whether SQL built for these filters serves every call of their shape: not with an IN list (on SQLite its
    length shapes the SQL) or a None (`IS NULL` for an equality)."""
    return not where.shape.has_in and None not in where.values


def _bound(values: tuple[Any, ...], writers: _Writers) -> Sequence[Any]:
    """A statement's values, each at a position of `writers` converted by its writer (None stays None)."""
    if not writers:
        return values
    converted = list(values)
    for i, write in writers:
        if converted[i] is not None:
            converted[i] = write(converted[i])
    return converted


def _row_reader(model: type, columns: Sequence[str], readers: Mapping[str, Callable[[Any], Any]]) -> _RowReader:
    """A function making a `model` object of a row of `columns`, the value of each column in `readers` converted by
    it (NULL stays None). Its source is generated once per entity, as dataclasses generate an __init__: the generic
    loop it replaces (a list per row, a reader per column looked up) cost 0.4 us a row more than the hand-written
    mapping of the adapter tax's control (harness/bench/tax.py, backends/raw/controls.py)."""
    if not readers.keys() & set(columns):
        # Nothing converts (asyncpg's rows): the row passed as it is, as unpacking a Record into names costs 0.07 us a
        # row more (the eager load's tax on PostgreSQL).
        source = "def read_row(row):\n    return model(*row)\n"
    else:
        names = [f"c{i}" for i in range(len(columns))]
        values = [
            f"read_{c}({n}) if {n} is not None else None" if c in readers else n
            for n, c in zip(names, columns, strict=True)
        ]
        source = f"def read_row(row):\n    {', '.join(names)}, = row\n    return model({', '.join(values)})\n"
    namespace: dict[str, Any] = {"model": model} | {f"read_{c}": readers[c] for c in columns if c in readers}
    exec(source, namespace)  # the source holds the schema's column names only
    return cast(_RowReader, namespace["read_row"])


class RawProvider(BaseORMProvider[Any]):
    name = "raw"
    migration_facts = MigrationFacts(
        tool="Versioned SQL files applied by the adapter's own runner (backends/raw/migrations/runner.py, "
        "no dependency), bookkeeping in harness_migrations",
        autogenerate="None: every revision is written by hand, once per dialect, and nothing checks the files "
        "against the dataclass models.",
        downgrade="Hand-written .down files, applied newest first; 0002's drops the index, then the column and "
        "its data.",
        sqlite="Own hand-written SQLite files; 0002 needs no table rebuild (ADD COLUMN, and DROP COLUMN since "
        "SQLite 3.35); a rebuild would be written by hand (SQLite's 12-step procedure) and marked "
        "`-- runner: foreign_keys off`, so that the runner turns foreign keys off around it and checks them "
        "before COMMIT.",
        transactional_ddl="Yes on both: each file runs with its harness_migrations row in one transaction "
        "(asyncpg's on PostgreSQL, BEGIN IMMEDIATE ... COMMIT on SQLite); a failing file leaves nothing behind.",
        files=tuple(
            f"backends/raw/migrations/0002_task_due_date.{direction}.{dialect}.sql"
            for direction in ("up", "down")
            for dialect in ("postgresql", "sqlite")
        ),
    )

    def __init__(self, config: DatabaseConfig) -> None:
        super().__init__(config)
        self.models = Models(
            User=User,
            Task=Task,
            Tag=Tag,
            Comment=Comment,
            Account=Account,
            TransferLog=TransferLog,
            AuditEvent=AuditEvent,
            Document=Document,
            Follow=Follow,
            CacheEntry=CacheEntry,
        )
        self._db = _Postgres(config) if config.dialect == "postgresql" else _SQLite(config)
        self.capabilities = Capabilities(
            self._db.connection_model, self._db.row_locks, self._db.notes, paths=PATHS | dict(self._db.paths)
        )
        self._row_readers = {
            name: _row_reader(getattr(self.models, name), entity.columns, self._db.readers)
            for name, entity in ENTITIES.items()
        }
        self._clauses: dict[tuple[WhereShape, int], tuple[str, _Writers]] = {}
        # Keyed by the model class and the columns given: one lookup, no entity found first.
        self._inserts: dict[tuple[Any, tuple[str, ...]], tuple[str, _Writers, _RowReader]] = {}

    async def _connect(self) -> None:
        await self._db.connect()

    async def _disconnect(self) -> None:
        await self._db.close()

    async def _execute(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return await self._db.rows(*bind(query, params, self._db.placeholder_style))

    async def _ping(self) -> None:
        await self._scalar("SELECT 1", [])

    def pool_status(self) -> dict[str, int] | None:
        return self._db.pool_status()

    # SQL is built as plain strings, and kept once built per shape of call (the WHERE clauses, the gets by filters,
    # the INSERTs), with the positions of the values the dialect converts: building it cost a get by primary key 3 to
    # 6 us a call, 10 to 20% of the bare driver call it is measured against (the adapter tax, harness/bench/tax.py).

    def _param(self, column: str, value: Any) -> Any:
        write = self._db.writers.get(column)
        return value if write is None or value is None else write(value)

    def _where(self, where: Where, params: list[Any]) -> str:
        """The WHERE clause of the conditions, their values appended to `params`. Without an IN list (on SQLite its
        length shapes the SQL) or a None (`IS NULL` for an equality), the clause depends on the filters' shape and
        the number of parameters before it only: built once per such pair (`_reusable`)."""
        key = (where.shape, len(params))
        kept = self._clauses.get(key)
        if kept is None or None in where.values:
            clause = self._built_where(where, params)
            if _reusable(where):
                self._clauses[key] = (clause, self._writers_of(where.shape.fields))
            return clause
        clause, writers = kept
        params += _bound(where.values, writers)
        return clause

    def _writers_of(self, columns: Sequence[str]) -> _Writers:
        """The positions of `columns` whose values the dialect's writer converts, with the writer."""
        writers = self._db.writers
        return tuple((i, writers[column]) for i, column in enumerate(columns) if column in writers)

    def _built_where(self, where: Where, params: list[Any]) -> str:
        parts = []
        for field, op, value in where:
            if op == "in":
                parts.append(self._db.in_list(field, [self._param(field, v) for v in value], params))
            elif op == "eq" and value is None:
                parts.append(f"{field} IS NULL")
            else:
                params.append(self._param(field, value))
                parts.append(f"{field} {_OPERATORS[op]} {self._db.placeholder(len(params))}")
        return " WHERE " + " AND ".join(parts) if parts else ""

    def _placeholders(self, count: int) -> str:
        return ", ".join(self._db.placeholder(n) for n in range(1, count + 1))

    async def _scalar(self, sql: str, params: list[Any]) -> Any:
        return (await self._db.fetch(sql, params))[0][0]

    def _objects(self, entity: Entity, rows: Sequence[Sequence[Any]]) -> list[Any]:
        return list(map(self._row_readers[entity.name], rows))

    async def _create(self, model: Any, data: dict[str, Any]) -> Any:
        columns = tuple(data)
        kept = self._inserts.get((model, columns))
        if kept is None:
            kept = self._inserts[model, columns] = self._built_insert(self.models.entity(model), columns)
        sql, writers, read_row = kept
        values = tuple(data.values())
        (row,) = await self._db.fetch(sql, _bound(values, writers) if writers else values)
        return read_row(row)

    def _built_insert(self, entity: Entity, columns: tuple[str, ...]) -> tuple[str, _Writers, _RowReader]:
        """The INSERT of a row of `columns`, the positions of the values the dialect converts, the row reader."""
        values = f"({', '.join(columns)}) VALUES ({self._placeholders(len(columns))})" if columns else "DEFAULT VALUES"
        sql = f"INSERT INTO {entity.table} {values} RETURNING {_COLUMNS[entity.name]}"
        return sql, self._writers_of(columns), self._row_readers[entity.name]

    def _prepare_get(self, model: Any, first: Where, for_update: bool) -> PreparedGet:
        # The statement is built once per shape, with its row reader, as `_where` keeps a clause: the get by key is
        # the cheapest call measured, so a function call, a string or a tuple built per call shows in its tax.
        if not _reusable(first):
            return super()._prepare_get(model, first, for_update)
        shape = first.shape
        sql, _, read_row = self._built_get(first, for_update)
        writers = self._writers_of(shape.fields)

        async def get(values: tuple[Any, ...]) -> Any | None:
            try:
                if None in values:  # IS NULL: another statement
                    return await self._get(model, Where(shape, values), for_update)
                # No call to convert the values if none needs it.
                rows = await self._db.fetch(sql, _bound(values, writers) if writers else values)
                return read_row(rows[0]) if rows else None
            except Exception as exc:
                raise_translated(exc)

        return get

    async def _get(self, model: Any, where: Where, for_update: bool) -> Any | None:
        sql, params, read_row = self._built_get(where, for_update)
        rows = await self._db.fetch(sql, params)
        return read_row(rows[0]) if rows else None

    def _built_get(self, where: Where, for_update: bool) -> tuple[str, list[Any], _RowReader]:
        """A get's statement, its values and its row reader."""
        entity = where.shape.entity
        params: list[Any] = []
        locking = for_update and self._db.row_locks
        sql = f"{_SELECT[entity.name]}{self._where(where, params)} LIMIT 1{' FOR UPDATE' if locking else ''}"
        return sql, params, self._row_readers[entity.name]

    async def _get_many(self, model: Any, selection: Selection) -> list[Any]:
        entity = self.models.entity(model)
        params: list[Any] = []
        sql = _SELECT[entity.name] + self._where(selection.where, params)
        if (ordering := selection.ordering) is not None:
            sql += f" ORDER BY {ordering.field}{' DESC' if ordering.descending else ''}"
        if selection.limit is not None:
            params.append(selection.limit)
            sql += f" LIMIT {self._db.placeholder(len(params))}"
        if selection.offset is not None:
            params.append(selection.offset)
            no_limit = self._db.no_limit if selection.limit is None else ""
            sql += f"{no_limit} OFFSET {self._db.placeholder(len(params))}"
        return self._objects(entity, await self._db.fetch(sql, params))

    def _set(self, data: dict[str, Any], params: list[Any]) -> str:
        first = len(params) + 1
        params.extend(_bound(tuple(data.values()), self._writers_of(tuple(data))))
        return ", ".join(f"{c} = {self._db.placeholder(n)}" for n, c in enumerate(data, first))

    async def _update(self, model: Any, where: Where, data: dict[str, Any]) -> Any | None:
        entity = self.models.entity(model)
        params: list[Any] = []
        assignments = self._set(data, params)
        sql = f"UPDATE {entity.table} SET {assignments}{self._where(where, params)} RETURNING {_COLUMNS[entity.name]}"
        rows = await self._db.fetch(sql, params)
        return self._objects(entity, rows)[0] if rows else None

    async def _delete(self, model: Any, where: Where) -> bool:
        entity = self.models.entity(model)
        params: list[Any] = []
        return await self._db.execute(f"DELETE FROM {entity.table}{self._where(where, params)}", params) > 0

    async def _count(self, model: Any, where: Where) -> int:
        entity = self.models.entity(model)
        params: list[Any] = []
        return await self._scalar(f"SELECT COUNT(*) FROM {entity.table}{self._where(where, params)}", params)

    async def _exists(self, model: Any, where: Where) -> bool:
        entity = self.models.entity(model)
        params: list[Any] = []
        sql = f"SELECT EXISTS (SELECT 1 FROM {entity.table}{self._where(where, params)})"
        return bool(await self._scalar(sql, params))  # SQLite answers 0 or 1

    async def _create_many(self, model: Any, rows: list[dict[str, Any]]) -> int:
        # No chunking: executemany binds one row at a time, far from any parameter limit.
        entity, columns = self.models.entity(model), list(rows[0])
        sql = f"INSERT INTO {entity.table} ({', '.join(columns)}) VALUES ({self._placeholders(len(columns))})"
        writers = self._writers_of(columns)
        await self._db.executemany(sql, [_bound(tuple(row[c] for c in columns), writers) for row in rows])
        return len(rows)

    async def _update_many(self, model: Any, where: Where, data: dict[str, Any]) -> int:
        entity = self.models.entity(model)
        params: list[Any] = []
        assignments = self._set(data, params)
        return await self._db.execute(f"UPDATE {entity.table} SET {assignments}{self._where(where, params)}", params)

    async def _link_tags(self, pairs: list[tuple[int, int]]) -> int:
        sql = f"INSERT INTO task_tags (task_id, tag_id) VALUES ({self._placeholders(2)})"
        await self._db.executemany(sql, pairs)
        return len(pairs)

    async def _get_many_optimized(self, model: Any, selection: Selection, paths: tuple[str, ...]) -> list[Any]:
        entity = self.models.entity(model)
        roots = await self._get_many(model, selection)
        # path -> (entity, the distinct objects loaded there); paths come parents first.
        loaded: dict[str, tuple[Entity, list[Any]]] = {"": (entity, roots)}
        for path in paths:
            parent_path, _, name = path.rpartition(".")
            owner, parents = loaded[parent_path]
            target = ENTITIES[owner.relations[name].target]
            loaded[path] = (target, await self._load(owner, name, parents) if parents else [])
        return roots

    async def _load(self, owner: Entity, name: str, parents: list[Any]) -> list[Any]:
        """Load relation `name` of `parents` in one statement, attach it, return the distinct objects loaded."""
        relation = owner.relations[name]
        target = ENTITIES[relation.target]
        params: list[Any] = []
        if relation.kind == "forward":
            ids = list({getattr(p, relation.via) for p in parents})
            clause = self._db.in_list("id", ids, params)
            children = self._objects(target, await self._db.fetch(self._select_sql(target, clause), params))
            by_id = {child.id: child for child in children}
            for parent in parents:
                setattr(parent, name, by_id.get(getattr(parent, relation.via)))
            return children
        groups: dict[int, list[Any]] = {p.id: [] for p in parents}
        if relation.kind == "reverse":
            clause = self._db.in_list(relation.via, list(groups), params)
            children = self._objects(target, await self._db.fetch(self._select_sql(target, clause), params))
            for child in children:
                groups[getattr(child, relation.via)].append(child)
        else:
            children = await self._load_m2m(owner, target, groups)
        for parent in parents:
            setattr(parent, name, groups[parent.id])
        return children

    async def _load_m2m(self, owner: Entity, target: Entity, groups: dict[int, list[Any]]) -> list[Any]:
        """One join through task_tags; a target linked to several owners becomes one shared object."""
        mine, theirs = _LINK_COLUMNS[owner.name]
        params: list[Any] = []
        columns = ", ".join(f"t.{c}" for c in target.columns)
        sql = (
            f"SELECT {columns}, l.{mine} FROM {target.table} t JOIN task_tags l ON l.{theirs} = t.id"
            f" WHERE {self._db.in_list('l.' + mine, list(groups), params)}"
        )
        rows = await self._db.fetch(sql, params)
        by_id: dict[int, Any] = {}
        for obj, row in zip(self._objects(target, [row[:-1] for row in rows]), rows, strict=True):
            groups[row[-1]].append(by_id.setdefault(obj.id, obj))
        return list(by_id.values())

    @staticmethod
    def _select_sql(entity: Entity, condition: str) -> str:
        return f"{_SELECT[entity.name]} WHERE {condition}"

    # -- embeddings: the query vector bound in the driver's own format (the default sends pgvector's text form)

    async def _nearest_documents(self, query: list[float], k: int, category: str | None) -> list[Neighbour]:
        return neighbours(await self._db.rows(*self._nearest_sql(query, k, category)))

    async def _approximate_nearest_documents(self, query: list[float], k: int, ef_search: int) -> list[Neighbour]:
        async with self._db.transaction():
            await self._db.fetch("SELECT set_config('hnsw.ef_search', $1, true)", [str(ef_search)])
            return neighbours(await self._db.rows(*self._nearest_sql(query, k, None)))

    def _nearest_sql(self, query: list[float], k: int, category: str | None) -> tuple[str, list[Any]]:
        params: list[Any] = [query if self.dialect == "postgresql" else vector_text(query)]
        where = ""
        if category is not None:
            params.append(category)
            where = f" WHERE category = {self._db.placeholder(len(params))}"
        params.append(k)
        sql = f"SELECT id, title, {self._db.distance} AS distance FROM documents{where} ORDER BY distance"
        return f"{sql} LIMIT {self._db.placeholder(len(params))}", params

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._db.transaction()

    async def _create_schema(self) -> None:
        await migrations.create_all(self._db, self.dialect)

    def _sqlite_timestamp(self, moment: datetime) -> str:
        return cast(str, _datetime_in(moment))

    async def purge_audit_events(self, before: datetime) -> int:
        """One DELETE, its count read from the driver (the command tag on PostgreSQL, SQLite's change counter)
        rather than sent back as rows."""
        check_moment(before, "the retention cutoff")
        sql = f"DELETE FROM audit_events WHERE occurred_at < {self._db.placeholder(1)}"
        with translated_errors():
            return await self._db.execute(sql, [self.sql_timestamp(before)])

    # The cache's deletes count their rows as every write here does, by the driver's row count (the workload's SQL
    # path can only return the rows, being execute(): harness/core/workloads/cache.py).

    async def _cache_delete(self, keys: list[str]) -> int:
        params: list[Any] = []
        condition = self._db.in_list("key", keys, params)
        return await self._db.execute(f"DELETE FROM cache_entries WHERE {condition}", params)

    async def _cache_sweep(self, clock: datetime) -> int:
        sql = f"DELETE FROM cache_entries WHERE expires_at <= {self._db.placeholder(1)}"
        return await self._db.execute(sql, [self.sql_timestamp(clock)])

    async def _migrate(self, revision: str | None) -> None:
        await migrations.migrate(self._db, self.dialect, revision)

    async def _current_revision(self) -> str | None:
        return latest_revision(await migrations.applied(self._db, self.dialect))

    async def _drop_schema(self) -> None:
        tables = (*reversed(TABLES_IN_DEPENDENCY_ORDER), migrations.BOOKKEEPING)
        await self._db.script("".join(f"DROP TABLE IF EXISTS {t};\n" for t in tables))
