"""Piccolo ORM 1.38 adapter.

Each provider builds its own `Table` subclasses (`make_tables`, models.py), bound to its own engine at `connect()`, so a
SQLite and a PostgreSQL provider live side by side. The engine is built in `connect()`, not `__init__`, because
Piccolo's `Engine.__init__` does I/O (a blocking server-version check through `run_sync`).

Schema: `create_schema()` / `migrate()` run the Piccolo migrations of backends/piccolo/migrations/ on the provider's
engine (runner.py says how Piccolo's global engine lookup is kept per provider); `create_schema_from_models()` is
Piccolo's create_table DDL (`_schema_ddl`).

Statements per call (PostgreSQL; on SQLite Piccolo sends `PRAGMA foreign_keys = 1` before every query, inside a
transaction too, so each count doubles): create, get, get_many, update, delete, count, exists, update_many:
1 each (INSERT/UPDATE/DELETE ... RETURNING); create_many / link_tags: 1 multi-VALUES INSERT per chunk;
get_many_optimized and get_with_relations: see `expected_eager_statements`; nested transaction: SAVEPOINT + RELEASE
(or ROLLBACK TO); find_user_by_email, audit_events_between, purge_audit_events (DELETE ... RETURNING id): 1 each;
sign_in: a transaction of a SELECT and an UPDATE (on SQLite one more PRAGMA, as the transaction opens its connection).

Pool settings: pool_min and pool_max are `start_connection_pool`'s `min_size` and `max_size` (max_overflow is their
difference), `echo` is the engine's `log_queries` (every statement printed). Piccolo acquires from its pool without
a timeout and has no setting for one: pool_timeout is not applied.
"""

from __future__ import annotations

import asyncio
import json
import operator
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import asyncpg
from piccolo.columns import Column, ForeignKey, Numeric, Varchar
from piccolo.columns.combination import WhereRaw
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.functions.string import Lower
from piccolo.table import Table, drop_db_tables

from backends.piccolo import tiers
from backends.piccolo.migrations.runner import applied, drop_bookkeeping, migrate, sqlite_create_table
from backends.piccolo.models import Vector, make_tables
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider, Capabilities, MigrationFacts, OperationPath, Selection, Where
from harness.core.errors import ConnectionFailed, translated_errors
from harness.core.pools import asyncpg_pool_gauges
from harness.core.schema import Entity, Relation, latest_revision, relation_chain, relation_kind
from harness.core.sql import bind
from harness.core.workloads.audit import EVENT_COLUMNS, check_scan
from harness.core.workloads.cache import CacheItem
from harness.core.workloads.records import check_moment, object_record
from harness.core.workloads.users import USER_COLUMNS, check_email
from harness.core.workloads.vector_support import NO_SQLITE_INDEX, register_vector_codec

SQLITE_SCHEMA_DIFFERENCES = (
    "Piccolo declares SmallInt as INTEGER and writes DEFAULT null on NOT NULL columns that have no default (no "
    "effect); CHECK and multi-column UNIQUE constraints are inline in CREATE TABLE (sqlite_create_table).",
    "Piccolo sends every column on INSERT, so created_at is Python's now() as text "
    "'YYYY-MM-DD HH:MM:SS.ffffff+00:00' (due_date is stored the same way, in UTC), and binds Decimal as float "
    "(REAL); the adapter reads it back to 2 places.",
)
"""On SQLite only; on PostgreSQL the catalog matches the canonical schema (parity test). Piccolo's own DDL, with two
additions: DROP DEFAULT where Piccolo leaves DEFAULT NULL::type, and the (user_id, completed) and (user_id, due_date)
indexes through Table.create_index, as a Table class only declares single-column indexes. The migrations do the same
(backends/piccolo/migrations/versions/)."""

PICCOLO_MIGRATIONS: dict[str, tuple[str, ...]] = {
    # Each harness revision is an auto migration and a manual one for what autogenerate cannot express (a
    # multi-column index, dropped NULL defaults): Piccolo runs a manual step before the auto operations.
    "0001_shared_schema": ("2026-11-23T16:36:19:705945", "2026-11-23T16:37:03:368598"),
    "0002_task_due_date": ("2026-11-23T16:37:13:339258", "2026-11-23T16:37:16:299511"),
    "0003_tier_workloads": ("2026-11-30T16:53:58:298912", "2026-11-30T16:54:30:118200"),
}
"""Harness revision (harness.core.schema.REVISIONS) -> Piccolo migration ids, oldest first."""

LOWER_EMAIL_INDEX = "CREATE UNIQUE INDEX ix_users_lower_email ON users (lower(email))"
"""An expression index: Piccolo's Table.create_index takes columns only, so this one is raw DDL."""

PATHS = {
    "find_user_by_email": OperationPath(
        "native",
        "objects().where(Lower(User.email) == Lower(email)) with piccolo.query.functions.Lower, the indexed "
        "expression: Piccolo's own ilike() compiles to email ILIKE $1 on PostgreSQL (no btree index serves it, "
        "and _ or % in an address would act as wildcards) and to LIKE on SQLite.",
    ),
    "sign_in": OperationPath(
        "native", "engine.transaction(): the user by Lower(User.email) as above, then update() of last_sign_in_at."
    ),
    "audit_events_between": OperationPath(
        "native",
        "where(AuditEvent.payload.arrow(key) == json.dumps(value)): Piccolo's -> operator on JSONB (PostgreSQL) "
        "and on JSON text (SQLite 3.38+), compared as JSON.",
    ),
    "purge_audit_events": OperationPath(
        "native", "delete().where(occurred_at < cutoff).returning(id): Piccolo's delete gives no row count."
    ),
}
VECTOR_PATHS: dict[str, dict[str, OperationPath]] = {
    "postgresql": {
        "nearest_documents": OperationPath(
            "raw SQL",
            "Piccolo has no vector column or distance operator (the column is a Column subclass naming the type): "
            "the <=> query goes through Table.raw.",
        ),
        "build_vector_index": OperationPath(
            "raw SQL",
            "Piccolo's create_index knows btree, hash, gist and gin, without operator classes or WITH parameters: "
            "CREATE INDEX ... USING hnsw through Table.raw.",
        ),
        "approximate_nearest_documents": OperationPath(
            "raw SQL", "SET LOCAL (set_config) and the <=> query through Table.raw, in Piccolo's transaction."
        ),
    },
    "sqlite": {
        "nearest_documents": OperationPath(
            "unavailable",
            "Piccolo's SQLiteEngine opens a new connection per query outside a transaction and has no hook to load "
            "sqlite-vec into it.",
        ),
        "build_vector_index": NO_SQLITE_INDEX,
        "approximate_nearest_documents": NO_SQLITE_INDEX,
    },
}

_COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
CENT = Decimal("0.01")
SQLITE_BIND_LIMIT = 32766  # PostgreSQL via Piccolo fails past 32,767: the lower bound serves both.

# A forward relation joins its target into the parent's query; the others cost one query each.
# The task_tags column pointing at each side of the m2m, then the one pointing at the other side.
_M2M_SIDES = {"Task": ("task_id", "tag_id"), "Tag": ("tag_id", "task_id")}


def _where(table: type[Table], where: Where) -> list[Any]:
    return [_condition(getattr(table, field), op, value) for field, op, value in where]


def _condition(column: Column, op: str, value: Any) -> Any:
    if op == "eq":
        return column.is_null() if value is None else column == value
    if op == "in":
        # Piccolo refuses an empty is_in(); an empty IN matches nothing.
        return column.is_in(value) if value else WhereRaw("1 = 0")
    return _COMPARISONS[op](column, value)


def _relation(entity: str, path: str) -> Relation:
    return relation_chain(entity, path)[-1][1]


def _objects_at(roots: list[Table], path: str) -> list[Table]:
    """Every loaded object reached from `roots` along a dotted relation path ("" is the roots)."""
    objects = roots
    for name in path.split(".") if path else ():
        step: list[Table] = []
        for obj in objects:
            value = getattr(obj, name)
            step.extend(value if isinstance(value, list) else [value])
        objects = step
    return objects


def _prefetch(start: Any, entity: str, forward: list[str]) -> list[ForeignKey]:
    """Piccolo FK chains (`Comment.task_id.user_id`) for forward paths relative to `start` (a Table or an FK to
    `entity`); only the deepest of each chain, as Piccolo loads the intermediate objects itself."""
    columns = []
    for path in forward:
        if not any(other.startswith(path + ".") for other in forward):
            column = start
            for _, relation in relation_chain(entity, path):
                column = getattr(column, relation.via)
            columns.append(column)
    return columns


def _move_joined(objects: list[Table], entity: str, forward: list[str]) -> None:
    """Piccolo's prefetch puts the joined object in the FK attribute: move it to the relation's name and put the
    id back, so `task.user_id` stays an int and `task.user` is the User."""
    for path in forward:  # parents first
        parent, _, name = path.rpartition(".")
        via = _relation(entity, path).via
        for obj in _objects_at(objects, parent):
            joined = getattr(obj, via)
            setattr(obj, name, joined)
            setattr(obj, via, joined.id)


def _grouped(pairs: Iterable[tuple[int, Table]]) -> dict[int, list[Table]]:
    groups: dict[int, list[Table]] = {}
    for key, obj in pairs:
        groups.setdefault(key, []).append(obj)
    return groups


def _drop_null_defaults(table: type[Table]) -> list[str]:
    """Piccolo writes `DEFAULT <default>` on every column: with default=None, PostgreSQL keeps
    `DEFAULT NULL::character varying` (or `NULL::numeric`, the typmod's cast) where the schema has none."""
    columns = [c for c in table._meta.columns if c.default is None and isinstance(c, (Varchar, Numeric, Vector))]
    if not columns:
        return []
    alter = table.alter()
    for column in columns:
        alter = alter.drop_default(column)
    return list(alter.ddl)


SQLITE_BUSY_TIMEOUT = 60.0


class PiccoloProvider(BaseORMProvider[Table]):
    name = "piccolo"
    migration_facts = MigrationFacts(
        tool="Piccolo 1.38 migrations (MigrationManager objects run in process on the provider's engine)",
        autogenerate="Yes for tables, columns and constraints (`piccolo migrations new harness --auto` wrote both "
        "revisions' table and column migrations, and finds no change at head); a multi-column index or a dropped "
        "NULL default cannot be modelled, so each revision adds a manual migration with add_raw steps.",
        downgrade="Yes: MigrationManager reverses its own operations (add_table -> DROP TABLE, add_column -> DROP "
        "COLUMN); the manual migrations give add_raw_backwards steps (DROP INDEX).",
        sqlite="Partly: ADD and DROP COLUMN work (SQLite 3.35+, an indexed column only once its index is gone), but "
        "Piccolo adds constraints with ALTER TABLE ... ADD CONSTRAINT and alters columns with ALTER COLUMN, which "
        "SQLite lacks, and has no table-rebuild mode: the runner folds a new table's constraints into its CREATE "
        "TABLE; changing a constraint or column of an existing SQLite table cannot be migrated.",
        transactional_ddl="Yes on both: each revision (its Piccolo migrations and their bookkeeping rows) runs in "
        "one transaction, and a revision failing midway left schema and bookkeeping unchanged on PostgreSQL and "
        "SQLite alike (Piccolo's own CLI commits a migration before recording it).",
        files=(
            "backends/piccolo/migrations/versions/harness_2026_11_23t16_37_13_339258.py",
            "backends/piccolo/migrations/versions/harness_2026_11_23t16_37_16_299511.py",
        ),
    )

    def __init__(self, config: DatabaseConfig) -> None:
        super().__init__(config)
        postgres = config.dialect == "postgresql"
        self.models = m = make_tables(postgres)
        self._task_tag: type[Table] = m.Task.tags._meta.resolved_joining_table
        shared = (m.User, m.Task, m.Tag, self._task_tag, m.Comment, m.Account, m.TransferLog)
        self._tables = (*shared, m.AuditEvent, m.Document, m.Follow, m.CacheEntry)  # FK order
        self._engine: Engine | None = None
        # SQLite keeps NUMERIC as REAL or INTEGER, so Piccolo reads Decimal('1000'): restore the 2 places.
        self._numeric = {} if postgres else {m.Account: ("balance",), m.TransferLog: ("amount",)}
        # SQLite keeps a vector as JSON text (Piccolo's list adapter); pgvector's codec gives lists on PostgreSQL.
        self._json = {} if postgres else {m.Document: ("embedding",)}
        pool_notes = (
            (
                "Not applied: pool_timeout (Piccolo acquires from its asyncpg pool without a timeout and has no "
                "setting for one).",
            )
            if postgres
            else (
                "Piccolo's SQLiteEngine opens a connection per query outside a transaction and sends "
                "PRAGMA foreign_keys = 1 before every query.",
                "Transactions on SQLite are BEGIN IMMEDIATE, so concurrent writers wait instead of deadlocking.",
                "Not applied: pool_size, pool_min, pool_max, max_overflow, pool_timeout (a connection per query on "
                "SQLite, no pool; SQLiteEngine's timeout is SQLite's busy timeout, 60 s).",
            )
        )
        self.capabilities = Capabilities(
            connection_model="pool" if postgres else "connection-per-query",
            row_locks=postgres,
            notes=(
                "create_many and link_tags are multi-row INSERT ... VALUES statements of at most 32,766 bind "
                "parameters each: Piccolo's bulk insert, not an executemany.",
                "Eager loading: one is_in query per reverse or many-to-many path, forward paths joined by Piccolo's "
                "FK prefetch; the adapter groups the children onto their parents (objects() prefetches forward keys "
                "only).",
                "Inserting a list (a vector), Piccolo converts it element by element (convert_to_sql_value) and warns "
                "above 100 elements that raw SQL would be faster: about 1 ms per 384-float vector on the 2-core dev "
                "machine, most of vector_bulk_load's time; the adapter keeps the ORM's insert.",
                *(
                    ("Vectors travel in pgvector's binary format: its asyncpg codec is registered on Piccolo's pool.",)
                    if postgres
                    else ()
                ),
                *pool_notes,
            ),
            schema_differences=() if postgres else SQLITE_SCHEMA_DIFFERENCES,
            paths=PATHS | tiers.PATHS | VECTOR_PATHS[config.dialect],
        )

    @property
    def _postgres(self) -> bool:
        return self.config.dialect == "postgresql"

    @property
    def _connected_engine(self) -> Engine:
        if self._engine is None:
            raise ConnectionFailed(f"{self.name} provider for {self.config.redacted_url} is not connected")
        return self._engine

    # -- lifetime ---------------------------------------------------------------------------------------------

    def _make_engine(self) -> Engine:
        if self._postgres:
            return PostgresEngine(config={"dsn": self.config.postgres_dsn}, log_queries=self.config.echo)
        # A connection per query, so concurrent writers queue on SQLite's busy timeout (sqlite3's default 5 s
        # fails 64 concurrent transfers); Piccolo's docs advise raising `timeout` for concurrent writes.
        return SQLiteEngine(path=self.config.sqlite_path, log_queries=self.config.echo, timeout=SQLITE_BUSY_TIMEOUT)

    async def _connect(self) -> None:
        if self._engine is None:
            # Piccolo's engine __init__ runs blocking I/O (asyncio.run of a version check): keep it off the loop.
            self._engine = await asyncio.to_thread(self._make_engine)
            for table in self._tables:
                table._meta.db = self._engine
        try:
            if isinstance(self._engine, PostgresEngine):
                await self._engine.start_connection_pool(
                    min_size=self.config.pool_min, max_size=self.config.pool_max, init=register_vector_codec
                )
            else:
                await self._ping()
        except (OSError, asyncpg.PostgresError, sqlite3.OperationalError) as exc:  # refused, unknown database, ...
            raise ConnectionFailed(f"cannot connect to {self.config.redacted_url}: {exc}") from exc

    async def _disconnect(self) -> None:
        if isinstance(self._engine, PostgresEngine) and self._engine.pool is not None:
            await self._engine.close_connection_pool()

    async def _ping(self) -> None:
        await self.models.User.raw("SELECT 1")

    def pool_status(self) -> dict[str, int] | None:
        pool = getattr(self._engine, "pool", None)
        return None if pool is None else asyncpg_pool_gauges(pool)

    def _typed(self, model: Any, objects: list[Any]) -> list[Any]:
        """`objects` of `model` as the contract returns them: NUMERIC values back to 2 places where SQLite kept a
        REAL, JSON decoded (SQLite's embeddings, the audit payloads); no loop over the objects of the other models."""
        for name in self._numeric.get(model, ()):
            for obj in objects:
                setattr(obj, name, getattr(obj, name).quantize(CENT))
        for name in self._json.get(model, ()):
            for obj in objects:
                setattr(obj, name, json.loads(getattr(obj, name)))
        if model is self.models.AuditEvent:
            for obj in objects:
                if isinstance(obj.payload, str):
                    obj.payload = json.loads(obj.payload)  # Piccolo returns JSON as text
        return objects

    def _row(self, model: Any, rows: list[dict[str, Any]]) -> Any | None:
        """The object of the first row a RETURNING clause gave back."""
        return self._typed(model, [model(**rows[0], _exists_in_db=True)])[0] if rows else None

    # -- CRUD -------------------------------------------------------------------------------------------------

    async def _create(self, model: Any, data: dict[str, Any]) -> Any:
        # _ignore_missing: a missing NOT NULL column reaches the database as NULL and fails there.
        query = model.insert(model(**data, _ignore_missing=True)).returning(*model.all_columns())
        return self._row(model, await query)

    async def _get(self, model: Any, where: Where, for_update: bool) -> Any | None:
        query = model.objects().where(*_where(model, where))
        if for_update and self._postgres:
            query = query.lock_rows()
        found = await query.first()
        return None if found is None else self._typed(model, [found])[0]

    async def _get_many(self, model: Any, selection: Selection) -> list[Any]:
        return self._typed(model, await self._selected(model, model.objects(), selection))

    def _selected(self, model: Any, query: Any, selection: Selection) -> Any:
        """`query` (an `objects()` query of `model`) with the selection's conditions, order and page."""
        query = query.where(*_where(model, selection.where))
        if (ordering := selection.ordering) is not None:
            query = query.order_by(getattr(model, ordering.field), ascending=not ordering.descending)
        limit, offset = selection.limit, selection.offset
        if limit is not None or (offset is not None and not self._postgres):
            query = query.limit(-1 if limit is None else limit)  # SQLite needs a LIMIT before OFFSET
        if offset is not None:
            query = query.offset(offset)
        return query

    async def _update(self, model: Any, where: Where, data: dict[str, Any]) -> Any | None:
        return self._row(model, await self._update_query(model, where, data).returning(*model.all_columns()))

    async def _delete(self, model: Any, where: Where) -> bool:
        # Piccolo does not expose the row count: RETURNING id is the one-statement way to know.
        return bool(await model.delete(force=True).where(*_where(model, where)).returning(model.id))

    async def _count(self, model: Any, where: Where) -> int:
        return await model.count().where(*_where(model, where))

    async def _exists(self, model: Any, where: Where) -> bool:
        return await model.exists().where(*_where(model, where))

    async def _create_many(self, model: Any, rows: list[dict[str, Any]]) -> int:
        return await self._insert(model, [model(**row, _ignore_missing=True) for row in rows])

    async def _update_many(self, model: Any, where: Where, data: dict[str, Any]) -> int:
        return len(await self._update_query(model, where, data).returning(model.id))

    async def _link_tags(self, pairs: list[tuple[int, int]]) -> int:
        link = self._task_tag
        return await self._insert(link, [link(task_id=task, tag_id=tag) for task, tag in pairs])

    def _update_query(self, model: Any, where: Where, data: dict[str, Any]) -> Any:
        values = {getattr(model, name): value for name, value in data.items()}
        return model.update(values, force=True).where(*_where(model, where))

    async def _insert(self, table: type[Table], instances: list[Table]) -> int:
        # Piccolo's insert(*rows) is one multi-VALUES statement, a bind parameter per column but the id (DEFAULT).
        size = SQLITE_BIND_LIMIT // (len(table._meta.columns) - 1)
        for start in range(0, len(instances), size):
            await table.insert(*instances[start : start + size])
        return len(instances)

    async def _execute(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        # Table.raw runs on the table's engine, inside the task's transaction if there is one.
        sql, values = bind(query, params, "braces")
        return list(await self.models.User.raw(sql, *values))

    # -- tier workloads (harness/core/workloads/): overrides check input and translate errors themselves ------

    async def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        check_email(email)
        with translated_errors():
            user = await self._user_by_email(email)
        return None if user is None else object_record(USER_COLUMNS, user)

    async def sign_in(self, email: str, at: datetime) -> int | None:
        check_email(email)
        check_moment(at, "the sign-in time")
        User = self.models.User
        with translated_errors():
            async with self.transaction():
                user = await self._user_by_email(email)
                if user is None or not user.is_active:
                    return None
                await User.update({User.last_sign_in_at: at}).where(User.id == user.id)
        return int(user.id)

    async def _user_by_email(self, email: str) -> Any | None:
        User = self.models.User
        return await User.objects().where(Lower(User.email) == Lower(email)).first()

    async def audit_events_between(self, start: datetime, end: datetime, key: str, value: str) -> list[dict[str, Any]]:
        check_scan(start, end, key, value)
        Event = self.models.AuditEvent
        query = Event.objects().where(
            Event.occurred_at >= start, Event.occurred_at < end, Event.payload.arrow(key) == json.dumps(value)
        )
        with translated_errors():
            events = await query.order_by(Event.occurred_at, Event.id)
        return [object_record(EVENT_COLUMNS, event) for event in events]

    async def purge_audit_events(self, before: datetime) -> int:
        check_moment(before, "the retention cutoff")
        Event = self.models.AuditEvent
        with translated_errors():
            return len(await Event.delete().where(Event.occurred_at < before).returning(Event.id))

    def _sqlite_timestamp(self, moment: datetime) -> str:
        # What Piccolo's sqlite3 adapter (convert_datetime_in) writes: str() of the UTC datetime.
        return str(moment.astimezone(UTC))

    # -- eager loading ----------------------------------------------------------------------------------------

    def _eager_statements(self, entity: Entity, paths: tuple[str, ...]) -> int:
        """One query for the roots and one per reverse or m2m path; a forward path is joined into the query
        that loads its parent (Piccolo's FK prefetch). On SQLite a PRAGMA precedes each query: twice as many."""
        queries = 1 + sum(relation_kind(entity.name, p) != "forward" for p in paths)
        return queries if self._postgres else 2 * queries

    async def _get_many_optimized(self, model: Any, selection: Selection, paths: tuple[str, ...]) -> list[Any]:
        entity = self.models.entity(model).name
        forward: dict[str, list[str]] = {"": []}  # each query (roots, reverse/m2m paths): its joined paths
        owner = {"": ""}
        for path in paths:  # parents first
            if _relation(entity, path).kind == "forward":
                owner[path] = base = owner[path.rpartition(".")[0]]
                forward[base].append(path[len(base) + 1 :] if base else path)
            else:
                owner[path], forward[path] = path, []
        query = self._selected(model, model.objects(*_prefetch(model, entity, forward[""])), selection)
        roots = self._typed(model, await query)
        _move_joined(roots, entity, forward[""])
        for path, joined in forward.items():  # parents first
            if path:
                await self._load(roots, entity, path, joined)
        return roots

    async def _load(self, roots: list[Table], entity: str, path: str, forward: list[str]) -> None:
        """One query for a reverse or m2m path (`.is_in(parent ids)`), grouped onto the parents in Python."""
        parent_path, _, name = path.rpartition(".")
        parents = _objects_at(roots, parent_path)
        relation = _relation(entity, path)
        # Piccolo adds the `id` primary key to every Table subclass at class creation (setattr in
        # __init_subclass__), so its type annotations cannot show it: hence the two ignores below.
        ids = list({parent.id for parent in parents})  # type: ignore[attr-defined]
        groups: dict[int, list[Table]] = {}
        if ids and relation.kind == "reverse":
            groups = await self._load_reverse(relation, ids, forward)
        elif ids:
            parent_entity = _relation(entity, parent_path).target if parent_path else entity
            groups = await self._load_m2m(parent_entity, relation, ids, forward)
        for parent in parents:
            setattr(parent, name, groups.get(parent.id, []))  # type: ignore[attr-defined]

    async def _load_reverse(self, relation: Relation, ids: list[int], forward: list[str]) -> dict[int, list[Table]]:
        target = getattr(self.models, relation.target)
        fk = getattr(target, relation.via)
        query = target.objects(*_prefetch(target, relation.target, forward)).where(fk.is_in(ids))
        children = self._typed(target, await query)
        _move_joined(children, relation.target, forward)
        return _grouped((getattr(child, relation.via), child) for child in children)

    async def _load_m2m(
        self, entity: str, relation: Relation, ids: list[int], forward: list[str]
    ) -> dict[int, list[Table]]:
        # The link rows with their far-side object joined in: one query, like Piccolo's M2M select but as objects.
        near, far = _M2M_SIDES[entity]
        link = self._task_tag
        far_fk = getattr(link, far)
        prefetch = _prefetch(far_fk, relation.target, forward) or [far_fk]
        rows = await link.objects(*prefetch).where(getattr(link, near).is_in(ids))
        _move_joined([getattr(row, far) for row in rows], relation.target, forward)
        return _grouped((getattr(row, near), getattr(row, far)) for row in rows)

    # -- tier workloads (tiers.py builds the queries; the recursive walks are the contract's SQL through execute) -

    async def _friends_of_friends(self, user: int) -> list[int]:
        # output(as_list=True) gives the column's values; Piccolo's annotations say rows.
        return cast(list[int], await tiers.friends_of_friends(self.models.Follow, user))

    async def _cache_upsert(self, item: CacheItem, clock: datetime) -> None:
        (statement,) = tiers.upserts(self.models.CacheEntry, [item], clock)
        await statement

    async def _cache_upsert_many(self, items: list[CacheItem], clock: datetime) -> None:
        statements = tiers.upserts(self.models.CacheEntry, items, clock)
        if len(statements) == 1:
            await statements[0]
            return
        async with self.transaction():
            for statement in statements:
                await statement

    async def _cache_get(self, key: str, clock: datetime) -> str | None:
        row = await tiers.live_value(self.models.CacheEntry, key, clock)
        return None if row is None else row["value"]

    async def _cache_get_many(self, keys: list[str], clock: datetime) -> dict[str, str]:
        return {row["key"]: row["value"] for row in await tiers.live_values(self.models.CacheEntry, keys, clock)}

    async def _cache_delete(self, keys: list[str]) -> int:
        return len(await tiers.delete_keys(self.models.CacheEntry, keys))

    async def _cache_sweep(self, clock: datetime) -> int:
        return len(await tiers.delete_expired(self.models.CacheEntry, clock))

    # -- transactions and schema ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        engine = self._connected_engine
        current = engine.current_transaction.get()  # a ContextVar: per task, per engine
        if current is None:
            async with self._begin(engine):
                yield
            return
        # Piccolo's nested transaction() only joins the outer one: make it a savepoint of its own.
        savepoint = await current.savepoint()
        try:
            yield
        except BaseException:
            await savepoint.rollback_to()
            raise
        await savepoint.release()

    @staticmethod
    def _begin(engine: Engine) -> Any:
        if isinstance(engine, SQLiteEngine):
            # DEFERRED would fail with "database is locked" when two readers both upgrade to writers.
            return engine.transaction(transaction_type=TransactionType.immediate)
        return engine.transaction()

    async def _create_schema(self) -> None:
        engine = self._connected_engine
        async with engine.transaction():
            for statement in self._schema_ddl():
                await engine.run_ddl(statement)

    def _schema_ddl(self) -> list[str]:
        statements: list[str] = []
        for table in self._tables:
            if self._postgres:
                statements += [*table.create_table().ddl, *_drop_null_defaults(table)]
            else:
                statements += sqlite_create_table(table)
        task, event = self.models.Task, self.models.AuditEvent
        for columns in ([task.user_id, task.completed], [task.user_id, task.due_date]):
            statements += task.create_index(columns).ddl
        return [*statements, *event.create_index([event.actor_id, event.occurred_at]).ddl, LOWER_EMAIL_INDEX]

    async def _migrate(self, revision: str | None) -> None:
        await migrate(self._connected_engine, PICCOLO_MIGRATIONS, revision)

    async def _current_revision(self) -> str | None:
        ran = set(await applied(self._connected_engine))
        return latest_revision(revision for revision, ids in PICCOLO_MIGRATIONS.items() if set(ids) <= ran)

    async def _drop_schema(self) -> None:
        await drop_db_tables(*self._tables)
        await drop_bookkeeping(self._connected_engine)
