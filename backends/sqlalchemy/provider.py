"""SQLAlchemy 2 (asyncio) adapter: declarative models, AsyncSession, asyncpg on PostgreSQL, aiosqlite on SQLite.

Sessions: outside `transaction()` each call opens its own short session on an autocommit connection, so a
single statement costs no BEGIN/COMMIT round trips (PostgreSQL: SQLAlchemy's AUTOCOMMIT isolation level; SQLite:
sqlite3's own autocommit); a read just closes it, a write commits it (`_reading`, `_writing`). Inside
`transaction()` a ContextVar holds the session; a nested block is `session.begin_nested()` (SAVEPOINT).

Statements per call, both dialects: create, get, get_many, update, delete, count, exists, update_many: 1
(create and update with RETURNING); create_many, link_tags: 1 executemany (asyncpg's is atomic; on SQLite inside
BEGIN ... COMMIT, as sqlite3 would commit each row); get_many_optimized and get_with_relations: see
expected_eager_statements. Tier operations: find_user_by_email, audit_events_between, purge_audit_events: 1;
sign_in: a transaction of a SELECT and the UPDATE its unit of work flushes at commit.
nearest_documents, build_vector_index: 1; approximate_nearest_documents: BEGIN,
set_config, SELECT, COMMIT. Vectors: pgvector's SQLAlchemy type (its text form in and out).

Pool settings: pool_min is QueuePool's `pool_size`, pool_max - pool_min its `max_overflow`, `pool_timeout` and
`echo` are create_async_engine's own; on SQLite the pool is one connection whatever the sizes say.

Schema: `create_schema()` and `migrate()` run Alembic in-process on the provider's engine (backends/
sqlalchemy/migrations/, driven by its runner.py); `create_schema_from_models()` is `metadata.create_all`. CHECK
constraints are named so that an Alembic table rebuild on SQLite keeps them (it leaves unnamed ones out).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from time import perf_counter
from typing import Any, cast

from sqlalchemy import (
    Index,
    MetaData,
    Select,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import ColumnElement

from backends.sqlalchemy import tiers
from backends.sqlalchemy.migrations import runner as alembic_runner
from backends.sqlalchemy.models import (
    Account,
    AuditEvent,
    Base,
    CacheEntry,
    Comment,
    Document,
    Follow,
    Tag,
    Task,
    TransferLog,
    User,
    task_tags,
)
from harness.core.config import DatabaseConfig
from harness.core.contract import (
    BaseORMProvider,
    Capabilities,
    MigrationFacts,
    Models,
    OperationPath,
    Selection,
    Where,
)
from harness.core.errors import ConnectionFailed, redact, translated_errors
from harness.core.schema import Entity, latest_revision, relation_chain, relation_kind
from harness.core.versions import require
from harness.core.workloads.audit import EVENT_COLUMNS, check_scan
from harness.core.workloads.cache import CacheItem
from harness.core.workloads.embeddings import HNSW_INDEX, Neighbour, neighbours, vector_text
from harness.core.workloads.records import check_moment, object_record
from harness.core.workloads.users import USER_COLUMNS, check_email
from harness.core.workloads.vector_support import (
    NO_SQLITE_INDEX,
    SQLITE_VEC_PROBLEM,
    load_sqlite_vec,
    sqlite_vec_path,
)

require("sqlalchemy")

_COMPARISONS = {"eq": "__eq__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}


def _selected(model: Any, selection: Selection) -> Select[Any]:
    """SELECT of `model` with the selection's conditions, order and page."""
    stmt = select(model).where(*_criteria(model, selection.where)).limit(selection.limit).offset(selection.offset)
    if (ordering := selection.ordering) is not None:
        column = getattr(model, ordering.field)
        stmt = stmt.order_by(column.desc() if ordering.descending else column)
    return stmt


def _criteria(model: Any, where: Where) -> list[ColumnElement[bool]]:
    # `column == None` compiles to IS NULL; `in_([])` to an always-false expression.
    criteria = []
    for field, op, value in where:
        column = getattr(model, field)
        criteria.append(column.in_(value) if op == "in" else getattr(column, _COMPARISONS[op])(value))
    return criteria


@cache
def _loader(model: Any, path: str) -> Any:
    """selectinload for lists (one SELECT ... WHERE fk IN (...) per path); joinedload for forward relations:
    their foreign keys are NOT NULL, so an INNER JOIN in the parent's query costs no extra statement. Loader options
    are immutable: built once per model and path."""
    option: Any = None
    for name, relation in relation_chain(model.__name__, path):
        attr = getattr(model, name)
        if relation.kind == "forward":
            option = joinedload(attr, innerjoin=True) if option is None else option.joinedload(attr, innerjoin=True)
        else:
            option = selectinload(attr) if option is None else option.selectinload(attr)
        model = attr.property.mapper.class_
    return option


def _email_is(email: str) -> ColumnElement[bool]:
    """Both sides lowered by the database: the form the unique index on lower(email) answers."""
    return func.lower(User.email) == func.lower(email)


PATHS = {
    "find_user_by_email": OperationPath(
        "native", "select(User).where(func.lower(User.email) == func.lower(email)): the indexed expression."
    ),
    "sign_in": OperationPath(
        "native",
        "One session transaction: select the user by lower(email), set last_sign_in_at, the unit of work "
        "flushes the UPDATE at commit.",
    ),
    "audit_events_between": OperationPath(
        "native", "payload[key].as_string() == value: ->> on JSONB, JSON_EXTRACT on SQLite, with the time range."
    ),
    "purge_audit_events": OperationPath("native", "delete(AuditEvent).where(occurred_at < cutoff), its rowcount."),
}


def _sqlite_events(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's documented recipe: take BEGIN away from sqlite3, whose deferred BEGIN (sent before the
        # first write only) would let a SAVEPOINT open its own transaction that RELEASE then commits.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        if SQLITE_VEC_PROBLEM is None:
            dbapi_connection.run_async(load_sqlite_vec)  # on the aiosqlite connection underneath

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        if not connection.get_execution_options().get("sqlite_autocommit"):
            connection.exec_driver_sql("BEGIN")


_POSTGRES_PATHS = {
    "nearest_documents": OperationPath(
        "plugin", "pgvector's SQLAlchemy type: select(...).order_by(Document.embedding.cosine_distance(query))."
    ),
    "build_vector_index": OperationPath(
        "native", "SQLAlchemy's Index with postgresql_using='hnsw', postgresql_with and postgresql_ops, created."
    ),
    "approximate_nearest_documents": OperationPath(
        "plugin", "In the session's transaction, func.set_config for hnsw.ef_search, then the cosine_distance query."
    ),
}
_SQLITE_PATHS = {
    "nearest_documents": sqlite_vec_path(
        OperationPath("native", "func.vec_distance_cosine (sqlite-vec, loaded by a connect event) in select().")
    ),
    "build_vector_index": NO_SQLITE_INDEX,
    "approximate_nearest_documents": NO_SQLITE_INDEX,
}


class SQLAlchemyProvider(BaseORMProvider[Base]):
    name = "sqlalchemy"
    migration_facts = MigrationFacts(
        tool=f"Alembic {alembic_runner.ALEMBIC_VERSION} (async env, run in-process on the provider's connection)",
        autogenerate="Yes: `alembic revision --autogenerate` diffs the models against a database at the previous "
        "revision; 0001, 0002 and 0003 were made so against PostgreSQL and reviewed, and `alembic check` finds no "
        "difference at head on either database.",
        downgrade="Yes: each revision is generated with its downgrade() (0002: drop the index, then the column); "
        "base leaves only an empty alembic_version table, which drop_schema removes.",
        sqlite="Batch mode: ADD COLUMN and CREATE INDEX stay ALTERs, but DROP COLUMN rebuilds the table (copy, "
        "drop, rename) though SQLite 3.35+ could ALTER; a rebuild needs foreign keys off (else the DROP cascades "
        "to child rows: the runner turns them off and runs foreign_key_check) and named CHECK constraints.",
        transactional_ddl="Yes on both: all steps of one migrate() run in the runner's transaction (Alembic alone "
        "would not open one on SQLite); a revision failing after its DDL, a SQLite rebuild included, leaves the "
        "schema and alembic_version as they were.",
        files=("backends/sqlalchemy/migrations/versions/0002_task_due_date.py",),
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
        postgres = config.dialect == "postgresql"
        self.capabilities = Capabilities(
            connection_model="pool" if postgres else "single-connection",
            row_locks=postgres,
            notes=(
                "Calls outside transaction() run on an autocommit connection: no BEGIN/COMMIT around one statement "
                "(but on SQLite around create_many and link_tags, whose executemany sqlite3 would commit row by row).",
                "selectinload sends one SELECT per list relation per 500 parent rows; forward relations are "
                "joinedload (INNER JOIN) and cost no extra statement.",
                *(
                    ()
                    if postgres
                    else (
                        "One aiosqlite connection (a pool of size 1) serialises every call.",
                        "Not applied: pool_size, pool_min, pool_max, max_overflow (one connection on SQLite, "
                        "whatever the sizes; pool_timeout bounds the wait for it).",
                    )
                ),
            ),
            paths=PATHS | tiers.PATHS | (_POSTGRES_PATHS if postgres else _SQLITE_PATHS),
        )
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._autocommit_sessions: async_sessionmaker[AsyncSession] | None = None
        self._bulk_sessions: async_sessionmaker[AsyncSession] | None = None
        # Per instance, so that two providers in one task keep separate transactions.
        self._current: ContextVar[AsyncSession | None] = ContextVar(f"sqlalchemy_session_{id(self)}", default=None)

    # -- lifetime -------------------------------------------------------------------------------------

    def _not_connected(self) -> ConnectionFailed:
        return ConnectionFailed(f"{self.name} provider for {self.config.redacted_url} is not connected")

    @property
    def _connected_engine(self) -> AsyncEngine:
        if self._engine is None:
            raise self._not_connected()
        return self._engine

    def _create_engine(self) -> tuple[AsyncEngine, AsyncEngine]:
        """The engine and its autocommit twin (same pool)."""
        c = self.config
        # An unset pool_timeout leaves QueuePool's own default (30 s).
        settings: dict[str, Any] = {"echo": c.echo} | (
            {} if c.pool_timeout is None else {"pool_timeout": c.pool_timeout}
        )
        if c.dialect == "postgresql":
            engine = create_async_engine(
                "postgresql+asyncpg://" + c.url.split("://", 1)[1],
                pool_size=c.pool_min,
                max_overflow=c.max_overflow,
                **settings,
            )
            return engine, engine.execution_options(isolation_level="AUTOCOMMIT")
        # One connection: SQLite has a single writer anyway, and with several connections a read-then-write
        # transaction fails with "database is locked" instead of waiting; the pool's queue serialises them.
        engine = create_async_engine(f"sqlite+aiosqlite:///{c.sqlite_path}", pool_size=1, max_overflow=0, **settings)
        _sqlite_events(engine)
        # SQLAlchemy's own AUTOCOMMIT level would send a PRAGMA on every check-in on SQLite: skip BEGIN instead.
        return engine, engine.execution_options(sqlite_autocommit=True)

    async def _connect(self) -> None:
        engine, autocommit = self._create_engine()
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._autocommit_sessions = async_sessionmaker(autocommit, expire_on_commit=False)
        # asyncpg's executemany is atomic by itself; sqlite3's would commit every row in autocommit mode.
        postgres = self.config.dialect == "postgresql"
        self._bulk_sessions = self._autocommit_sessions if postgres else self._sessions
        try:
            await self._ping()
        except BaseException as exc:
            await self._disconnect()
            if not isinstance(exc, Exception):
                raise
            # A missing database or refused credentials come back as a bare DBAPIError, not an OSError.
            reason = redact(str(getattr(exc, "orig", None) or exc))
            raise ConnectionFailed(f"cannot connect to {self.config.redacted_url}: {reason}") from exc

    async def _disconnect(self) -> None:
        engine, self._engine = self._engine, None
        self._sessions = self._autocommit_sessions = self._bulk_sessions = None
        if engine is not None:
            await engine.dispose()

    async def _ping(self) -> None:
        if self._autocommit_sessions is None:
            raise self._not_connected()
        async with self._autocommit_sessions() as session:
            await session.execute(text("SELECT 1"))

    def pool_status(self) -> dict[str, int] | None:
        if self.config.dialect != "postgresql" or self._engine is None:
            return None
        pool = self._engine.sync_engine.pool
        if not isinstance(pool, QueuePool):  # create_async_engine's default on PostgreSQL: AsyncAdaptedQueuePool
            return None
        checked_out, idle = pool.checkedout(), pool.checkedin()
        return {
            "min": self.config.pool_min,
            "max": self.config.pool_max,
            "size": checked_out + idle,
            "checked_out": checked_out,
            "idle": idle,
            # QueuePool counts overflow from -pool_size (no connection yet) upwards: report only the surplus.
            "overflow": max(pool.overflow(), 0),
        }

    @contextmanager
    def pool_wait_probe(self, record: Callable[[float], None]) -> Iterator[None]:
        """Time each checkout from QueuePool (SQLAlchemy's own pool, not asyncpg's): `_do_get` is where a caller
        waits for a free connection, or for a new one to open. Patched on this engine's pool instance only."""
        if self._engine is None or self.config.dialect != "postgresql":
            yield
            return
        pool = self._engine.sync_engine.pool
        original = pool._do_get

        def timed_get() -> Any:
            start = perf_counter()
            connection = original()
            record(perf_counter() - start)
            return connection

        pool.__dict__["_do_get"] = timed_get  # an instance attribute: shadows the method on this pool only
        try:
            yield
        finally:
            del pool._do_get

    # -- sessions and transactions --------------------------------------------------------------------

    def _active(self) -> AsyncSession | None:
        """The transaction's session, if this task or the task that started it opened one (the contract)."""
        return self._current.get()

    def _reading(self) -> AbstractAsyncContextManager[AsyncSession]:
        """The transaction's session, else a short one of its own on the autocommit connection, used and closed as
        SQLAlchemy's asyncio documentation shows (`async with sessions() as session`): a read has nothing to
        commit, and the session transaction's commit protocol cost `get` about 80 us (the adapter tax,
        harness/bench/tax.py). Closing expunges the objects read, with their attributes loaded."""
        session = self._active()
        if session is not None:
            return nullcontext(session)
        if self._autocommit_sessions is None:
            raise self._not_connected()
        return self._autocommit_sessions()

    def _writing(self, *, bulk: bool = False) -> AbstractAsyncContextManager[AsyncSession]:
        """The transaction's session, else a short one of its own that commits on leaving (`sessions.begin()`), so
        that the objects written stay loaded (expire_on_commit=False) where a rollback would expire them."""
        session = self._active()
        if session is not None:
            return nullcontext(session)
        sessions = self._bulk_sessions if bulk else self._autocommit_sessions
        if sessions is None:
            raise self._not_connected()
        return sessions.begin()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        session = self._active()
        if session is not None:
            async with session.begin_nested():
                yield
            return
        if self._sessions is None:
            raise self._not_connected()
        async with self._sessions.begin() as session:
            token = self._current.set(session)
            try:
                yield
            finally:
                self._current.reset(token)

    # -- CRUD -----------------------------------------------------------------------------------------
    # Each sends one statement. ORM UPDATE/DELETE keep the default synchronize_session="auto", which for these
    # simple criteria is "evaluate": matching objects already in the session are updated in Python, no SQL.

    async def _select(self, stmt: Any) -> list[Any]:
        async with self._reading() as session:
            return list((await session.scalars(stmt)).all())

    async def _returning(self, stmt: Any) -> Any | None:
        """The first object an INSERT/UPDATE ... RETURNING gave back, committed."""
        async with self._writing() as session:
            return (await session.scalars(stmt)).first()

    async def _create(self, model: Any, data: dict[str, Any]) -> Any:
        # One INSERT ... RETURNING: eager_defaults="auto" brings the server defaults back in the same statement.
        obj = model(**data)
        async with self._writing() as session:
            session.add(obj)
            await session.flush()
        return obj

    async def _get(self, model: Any, where: Where, for_update: bool) -> Any | None:
        stmt = select(model).where(*_criteria(model, where)).limit(1)
        if for_update:
            # SQLite's compiler renders nothing. populate_existing: a row locked now may have changed since this
            # transaction's session first loaded it.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        async with self._reading() as session:
            return (await session.scalars(stmt)).first()

    async def _get_many(self, model: Any, selection: Selection) -> list[Any]:
        return await self._select(_selected(model, selection))

    async def _update(self, model: Any, where: Where, data: dict[str, Any]) -> Any | None:
        return await self._returning(update(model).where(*_criteria(model, where)).values(data).returning(model))

    async def _delete(self, model: Any, where: Where) -> bool:
        return await self._execute_dml(delete(model).where(*_criteria(model, where))) > 0

    async def _count(self, model: Any, where: Where) -> int:
        async with self._reading() as session:
            count = await session.scalar(select(func.count()).select_from(model).where(*_criteria(model, where)))
        if count is None:  # COUNT(*) always returns one row
            raise RuntimeError("SELECT COUNT(*) returned no row")
        return count

    async def _exists(self, model: Any, where: Where) -> bool:
        async with self._reading() as session:
            return bool(await session.scalar(select(exists().where(*_criteria(model, where)))))

    async def _execute_dml(self, stmt: Any) -> int:
        async with self._writing() as session:
            # A DML statement's result is a CursorResult (it has the rowcount); execute() is typed as returning Result.
            return cast(CursorResult[Any], await session.execute(stmt)).rowcount

    async def _execute(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        async with self._writing() as session:
            # A textual statement's result is a CursorResult: it knows whether the statement returned rows.
            result = cast(CursorResult[Any], await session.execute(text(query), dict(params)))
            return [dict(row) for row in result.mappings()] if result.returns_rows else []

    # -- tier workloads (harness/core/workloads/) -----------------------------------------------------------

    async def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        check_email(email)
        with translated_errors():
            found = await self._select(select(User).where(_email_is(email)))
        return object_record(USER_COLUMNS, found[0]) if found else None

    async def sign_in(self, email: str, at: datetime) -> int | None:
        check_email(email)
        check_moment(at, "the sign-in time")
        with translated_errors():
            async with self.transaction(), self._writing() as session:
                user = await session.scalar(select(User).where(_email_is(email)))
                if user is None or not user.is_active:
                    return None
                user.last_sign_in_at = at  # the unit of work sends the UPDATE when the transaction commits
            return user.id

    async def audit_events_between(self, start: datetime, end: datetime, key: str, value: str) -> list[dict[str, Any]]:
        check_scan(start, end, key, value)
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end)
            .where(AuditEvent.payload[key].as_string() == value)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
        with translated_errors():
            return [object_record(EVENT_COLUMNS, event) for event in await self._select(stmt)]

    async def purge_audit_events(self, before: datetime) -> int:
        check_moment(before, "the retention cutoff")
        with translated_errors():
            return await self._execute_dml(delete(AuditEvent).where(AuditEvent.occurred_at < before))

    # -- bulk -----------------------------------------------------------------------------------------
    # ORM bulk INSERT without RETURNING is one DBAPI executemany, which binds one row at a time: no chunking,
    # no bind-parameter limit.

    async def _create_many(self, model: Any, rows: list[dict[str, Any]]) -> int:
        # render_nulls: by default the ORM leaves None-valued keys out (to let server defaults fire), so each run of
        # rows with the same None columns is its own executemany: 70,812 for the dataset's 100,000 tasks (random
        # description and due_date), 227 s instead of 14 s on PostgreSQL. A None now inserts NULL, as on raw, Tortoise
        # and Piccolo (create() still leaves None out, so a server default fills it: the unit of work's rule).
        async with self._writing(bulk=True) as session:
            await session.execute(insert(model).execution_options(render_nulls=True), rows)
        return len(rows)

    async def _update_many(self, model: Any, where: Where, data: dict[str, Any]) -> int:
        return await self._execute_dml(update(model).where(*_criteria(model, where)).values(data))

    async def _link_tags(self, pairs: list[tuple[int, int]]) -> int:
        async with self._writing(bulk=True) as session:
            await session.execute(insert(task_tags), [{"task_id": t, "tag_id": g} for t, g in pairs])
        return len(pairs)

    # -- eager loading --------------------------------------------------------------------------------

    async def _get_many_optimized(self, model: Any, selection: Selection, paths: tuple[str, ...]) -> list[Any]:
        return await self._select(_selected(model, selection).options(*(_loader(model, p) for p in paths)))

    def _eager_statements(self, entity: Entity, paths: tuple[str, ...]) -> int:
        """One SELECT for the parents (forward relations joined into it, or into their parent's SELECT) plus
        one per list relation path, as long as no level has more than 500 rows (selectinload's chunk size)."""
        return 1 + sum(relation_kind(entity.name, p) != "forward" for p in paths)

    # -- embeddings -----------------------------------------------------------------------------------

    def _nearest(self, query: list[float], k: int, category: str | None) -> Select[Any]:
        if self.config.dialect == "postgresql":
            distance = Document.embedding.cosine_distance(query).label("distance")
        else:
            distance = func.vec_distance_cosine(Document.embedding, vector_text(query)).label("distance")
        stmt = select(Document.id, Document.title, distance).order_by(distance).limit(k)
        return stmt if category is None else stmt.where(Document.category == category)

    async def _nearest_documents(self, query: list[float], k: int, category: str | None) -> list[Neighbour]:
        async with self._reading() as session:
            return neighbours((await session.execute(self._nearest(query, k, category))).mappings().all())

    async def _approximate_nearest_documents(self, query: list[float], k: int, ef_search: int) -> list[Neighbour]:
        async with self._transaction(), self._reading() as session:
            # set_config(..., true): SET LOCAL with a bind parameter, ended with the transaction.
            await session.execute(select(func.set_config("hnsw.ef_search", str(ef_search), True)))
            return neighbours((await session.execute(self._nearest(query, k, None))).mappings().all())

    async def _build_vector_index(self, m: int, ef_construction: int) -> None:
        # On a copy of the table: an Index joins its table, and the shared metadata's create_all must not make it.
        documents = Base.metadata.tables["documents"].to_metadata(MetaData())
        index = Index(
            HNSW_INDEX,
            documents.c.embedding,
            postgresql_using="hnsw",
            postgresql_with={"m": m, "ef_construction": ef_construction},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        )
        async with self._connected_engine.begin() as connection:
            await connection.run_sync(index.create, checkfirst=True)

    # -- tier workloads (tiers.py builds the statements) -----------------------------------------------

    async def _scalar(self, stmt: Any) -> Any:
        async with self._reading() as session:
            return await session.scalar(stmt)

    async def _neighbourhood(self, start: int, depth: int) -> list[int]:
        return await self._select(tiers.neighbourhood(start, depth))

    async def _reachable(self, source: int, target: int, max_depth: int) -> bool:
        return bool(await self._scalar(tiers.reachable(source, target, max_depth)))

    async def _shortest_path_length(self, source: int, target: int, max_depth: int) -> int | None:
        return await self._scalar(tiers.shortest_path_length(source, target, max_depth))

    async def _friends_of_friends(self, user: int) -> list[int]:
        return await self._select(tiers.friends_of_friends(user))

    async def _cache_upsert(self, item: CacheItem, clock: datetime) -> None:
        async with self._writing() as session:
            await session.execute(tiers.upsert(self.dialect), tiers.cache_row(item.key, item.value, clock + item.ttl))

    async def _cache_upsert_many(self, items: list[CacheItem], clock: datetime) -> None:
        rows = [tiers.cache_row(key, value, clock + ttl) for key, value, ttl in items]
        async with self._writing(bulk=True) as session:
            await session.execute(tiers.upsert(self.dialect), rows)

    async def _cache_get(self, key: str, clock: datetime) -> str | None:
        return await self._scalar(tiers.live_value(key, clock))

    async def _cache_get_many(self, keys: list[str], clock: datetime) -> dict[str, str]:
        async with self._reading() as session:
            return {key: value for key, value in await session.execute(tiers.live_values(keys, clock))}

    async def _cache_delete(self, keys: list[str]) -> int:
        return await self._execute_dml(tiers.delete_keys(keys))

    async def _cache_sweep(self, clock: datetime) -> int:
        return await self._execute_dml(tiers.delete_expired(clock))

    # -- schema ---------------------------------------------------------------------------------------

    async def _create_schema(self) -> None:
        async with self._connected_engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def _migrate(self, revision: str | None) -> None:
        await alembic_runner.migrate(self._connected_engine, revision)

    async def _current_revision(self) -> str | None:
        # Alembic's revision ids are the harness's own (see migrations/runner.py).
        revision = await alembic_runner.current(self._connected_engine)
        return latest_revision([revision] if revision else [])

    async def _drop_schema(self) -> None:
        async with self._connected_engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text(f"DROP TABLE IF EXISTS {alembic_runner.VERSION_TABLE}"))
