"""The Tortoise ORM 1.x adapter.

Tortoise 1.x keeps connections and model registries in a `TortoiseContext` that queries find through a
context variable. A variable set in the task that called `connect()` is invisible to other tasks (pytest
fixtures, `loop.run_until_complete` rounds), and the global fallback (`_enable_global_fallback`) admits one
context per process. So each provider keeps its own context and makes it current around every hook
(`_in_context`), setting Tortoise's variable directly: `TortoiseContext.__enter__` keeps its reset token on the
shared context object, which concurrent tasks would overwrite. The cost, a `ContextVar.set`/`reset` pair and
one more coroutine frame, measured 1.4 us a call on the 2-core dev machine, where the cheapest operation (get
by primary key) takes 500 us on SQLite and 1 ms on PostgreSQL. Two providers, SQLite and PostgreSQL, thus live
side by side in one loop, called from any task.

Tortoise binds model classes to one connection name and one dialect when a context initialises them
(`_meta.default_connection`, `_meta.basequery`), and caches INSERT/DELETE SQL per connection name in a
module-level dict (`EXECUTOR_CACHE`). So every provider declares its own model classes (`declare_models`, models.py)
under a connection name of its own.

Tier operations (harness/core/workloads/): find_user_by_email, audit_events_between, purge_audit_events send 1
statement each; sign_in a transaction of a SELECT and an UPDATE (save(update_fields=...)).

Migrations are aerich's (backends/tortoise/migrations/): `_migrate` runs them inside the provider's context, setting
the few things aerich keeps process-wide around the call (see runner.py).

Pool settings: pool_min and pool_max are the asyncpg pool's `minsize` and `maxsize` (so max_overflow is their
difference). Tortoise acquires from that pool without a timeout and has no setting for one: pool_timeout is not
applied. Tortoise has no echo setting either; its SQL logging is its `tortoise.db_client` logger, so `echo` gives the
provider's client a child logger of its own (`tortoise.db_client.<connection name>`) at DEBUG, printing to stdout.
"""

from __future__ import annotations

import itertools
import logging
import sys
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from functools import wraps
from types import ModuleType
from typing import Any, ParamSpec, TypeVar, cast

from pypika_tortoise.terms import ValueWrapper
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext, _current_context
from tortoise.exceptions import ValidationError
from tortoise.functions import Lower
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction
from tortoise_vector.expression import CosineSimilarity

from backends.tortoise import tiers
from backends.tortoise.migrations import runner
from backends.tortoise.models import declare_models
from harness.core.config import DatabaseConfig
from harness.core.contract import (
    BaseORMProvider,
    Capabilities,
    MigrationFacts,
    Models,
    OperationPath,
    PreparedGet,
    Selection,
    Where,
)
from harness.core.errors import NotNullViolation, raise_translated, translated_errors
from harness.core.pools import asyncpg_pool_gauges
from harness.core.schema import (
    EMBEDDING_DIMENSIONS,
    ENTITIES,
    TABLES_IN_DEPENDENCY_ORDER,
    Entity,
    latest_revision,
    relation_chain,
)
from harness.core.sql import bind
from harness.core.versions import require
from harness.core.workloads.audit import EVENT_COLUMNS, check_scan
from harness.core.workloads.cache import CacheItem
from harness.core.workloads.embeddings import Neighbour
from harness.core.workloads.records import check_moment, object_record
from harness.core.workloads.users import USER_COLUMNS, check_email
from harness.core.workloads.vector_support import NO_SQLITE_INDEX

require("tortoise-orm")

SCHEMA_DIFFERENCES: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "Column order: Tortoise adds foreign-key columns after the declared ones (tasks.user_id comes last, "
        "task_tags has tag_id before task_id), and migrations append tasks.due_date after user_id where create-all "
        "puts it before; types, defaults, constraints and indexes match the shared schema.",
    ),
}
SCHEMA_DIFFERENCES["sqlite"] = (
    *SCHEMA_DIFFERENCES["postgresql"],
    "DecimalField is VARCHAR(40) (text), so the balance and amount CHECKs compare CAST(col AS NUMERIC).",
    "BooleanField is INT, DatetimeField TIMESTAMP, and ids are INTEGER PRIMARY KEY AUTOINCREMENT.",
)

AERICH_VERSIONS = {
    "0001_shared_schema": "0_20261123163610_init",
    "0002_task_due_date": "1_20261123163624_task_due_date",
    "0003_tier_workloads": "2_20261130165341_tier_workloads",
}
"""harness.core.schema.REVISIONS -> aerich's version files (number_timestamp_name) in migrations/models/."""

VECTOR_PATHS: dict[str, dict[str, OperationPath]] = {
    "postgresql": {
        "nearest_documents": OperationPath(
            "plugin",
            "tortoise-vector: annotate(distance=CosineSimilarity(...)).order_by('distance'), its VectorField for "
            "the column; the expression writes the query vector into the SQL text (an ARRAY literal) and calls "
            "the cosine_distance() function.",
        ),
        "build_vector_index": OperationPath(
            "raw SQL",
            "Tortoise's PostgreSQL indexes (tortoise.contrib.postgres.indexes) are declared in Meta for "
            "generate_schemas and have no HNSW method, operator class or WITH parameters: CREATE INDEX through "
            "Tortoise's connection.",
        ),
        "approximate_nearest_documents": OperationPath(
            "raw SQL",
            "tortoise-vector's CosineSimilarity calls cosine_distance(), which an HNSW index cannot serve (pgvector "
            "indexes the <=> operator), and Tortoise has no expression for the operator: the query and SET LOCAL "
            "go through Tortoise's connection, in its transaction.",
        ),
    },
    "sqlite": {
        "nearest_documents": OperationPath(
            "unavailable",
            "tortoise-vector's expression is PostgreSQL SQL (public.COSINE_DISTANCE over array_to_vector), and "
            "Tortoise's SQLite client offers no hook to load sqlite-vec into its connection.",
        ),
        "build_vector_index": NO_SQLITE_INDEX,
        "approximate_nearest_documents": NO_SQLITE_INDEX,
    },
}

_SUFFIX = {"eq": "", "in": "__in", "gt": "__gt", "gte": "__gte", "lt": "__lt", "lte": "__lte"}
_INSTANCES = itertools.count(1)
_NULL_REFUSALS = ("Value must not be None", "is non nullable field")

PATHS = {
    "find_user_by_email": OperationPath(
        "native",
        "annotate(email_lower=Lower('email')).filter(email_lower=Lower(ValueWrapper(email))), the indexed expression: "
        "Tortoise's own email__iexact compiles to UPPER(CAST(email AS VARCHAR)) = UPPER(?), which no index on "
        "lower(email) serves.",
    ),
    "sign_in": OperationPath(
        "native", "in_transaction: the user by Lower('email') as above, then save(update_fields=['last_sign_in_at'])."
    ),
    "purge_audit_events": OperationPath("native", "filter(occurred_at__lt=cutoff).delete(), which returns the count."),
}
SCAN_PATHS = {
    "postgresql": OperationPath(
        "native", "filter(payload__filter={key: value}), Tortoise's JSON filter (payload ->> 'key' on JSONB)."
    ),
    "sqlite": OperationPath(
        "raw SQL",
        "Tortoise's JSON filters exist for PostgreSQL and MySQL only (NotImplementedError on SQLite): the scan is "
        "SQL through execute, with json_extract.",
    ),
}

P = ParamSpec("P")
R = TypeVar("R")


def _in_context(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Make the provider's TortoiseContext current for the hook, whatever task calls it. Also: Tortoise refuses
    a None for a NOT NULL column itself, before the database could, with errors the harness cannot recognise."""

    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _current_context.set(args[0]._ctx)  # type: ignore[attr-defined]
        try:
            return await method(*args, **kwargs)
        except (ValidationError, ValueError) as exc:
            if any(refusal in str(exc) for refusal in _NULL_REFUSALS):
                raise NotNullViolation(str(exc)) from exc
            raise
        finally:
            _current_context.reset(token)

    return wrapper


def _eager_plan(entity: str, paths: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(joined, prefetched) paths. Forward-only paths are JOINed by select_related, unless a prefetched path
    goes through them: prefetch_related("task__comments") would fetch `task` again anyway."""
    mixed = [p for p in paths if any(r.kind != "forward" for _, r in relation_chain(entity, p))]
    joined = [p for p in paths if p not in mixed and not any(q.startswith(p + ".") for q in mixed)]
    return joined, [p for p in paths if p not in joined]


def _cost(entity: str, path: str) -> int:
    return 2 if relation_chain(entity, path)[-1][1].kind == "m2m" else 1


def _query(model: type[Model], where: Where) -> QuerySet[Any]:
    lookups: dict[str, Any] = {}
    for field, op, value in where:
        if op == "eq" and value is None:
            lookups[f"{field}__isnull"] = True
        else:
            lookups[field + _SUFFIX[op]] = value
    return model.filter(**lookups)


def _selected(model: Any, selection: Selection) -> QuerySet[Any]:
    """The QuerySet of the selection: its conditions, order and page."""
    query = _query(model, selection.where)
    if (ordering := selection.ordering) is not None:
        query = query.order_by(("-" if ordering.descending else "") + ordering.field)
    if selection.limit is not None:
        query = query.limit(selection.limit)
    if selection.offset is not None:
        query = query.offset(selection.offset)
    return query


def _echo_logger(alias: str) -> logging.Logger:
    """Tortoise's SQL logging for one connection: a child of `tortoise.db_client` at DEBUG, to stdout."""
    logger = logging.getLogger(f"tortoise.db_client.{alias}")
    logger.setLevel(logging.DEBUG)
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
    return logger


class TortoiseProvider(BaseORMProvider[Model]):
    name = "tortoise"
    migration_facts = MigrationFacts(
        tool="aerich 0.10.1 (its Command API, run inside the provider's TortoiseContext)",
        autogenerate="Yes: `aerich migrate` diffs the models against the last revision's stored state and writes SQL "
        "for the connected database only, so each revision was generated on PostgreSQL and on SQLite and merged by "
        "dialect; at head it finds no change on either.",
        downgrade="Yes: `aerich downgrade` runs the newer revisions' downgrade SQL, newest first (generated for 0002: "
        "DROP INDEX, DROP COLUMN); the initial revision has none, so its DROP TABLEs are hand-written.",
        sqlite="Plain ALTER TABLE only, no table rebuild: adding or dropping a column or an index works (DROP COLUMN "
        "needs SQLite 3.35+), a change of type, nullability or default makes autogenerate raise NotSupportError.",
        transactional_ddl="PostgreSQL: one transaction per revision, its aerich row included; SQLite: none in effect, "
        "as Tortoise runs the script with sqlite3's executescript, which commits the open transaction first, so "
        "each statement commits on its own.",
        files=("backends/tortoise/migrations/models/1_20261123163624_task_due_date.py",),
    )

    def __init__(self, config: DatabaseConfig) -> None:
        super().__init__(config)
        number = next(_INSTANCES)
        self._alias = f"tortoise_{number}"
        self._classes = declare_models()
        # Tortoise's config takes model modules by import name only (AppConfig rejects module objects).
        self._module_name = f"{__name__}._models_{number}"
        module = ModuleType(self._module_name)
        module.__models__ = list(self._classes.values())  # type: ignore[attr-defined]
        sys.modules[self._module_name] = module
        weakref.finalize(self, sys.modules.pop, self._module_name, None)
        self.models = Models(**{name: self._classes[name] for name in ENTITIES})
        postgres = config.dialect == "postgresql"
        self.capabilities = Capabilities(
            connection_model="pool" if postgres else "single-connection",
            row_locks=postgres,
            notes=(
                "update is 2 statements (SELECT, then UPDATE by primary key): Tortoise has no UPDATE ... RETURNING.",
                "create_many and link_tags are one executemany, which Tortoise wraps in BEGIN/COMMIT.",
                "Eager loading: select_related (a JOIN) for forward-only paths; prefetch_related otherwise, "
                "a many-to-many path costing 2 queries (link table, then targets).",
                *(
                    (
                        "Not applied: pool_timeout (Tortoise acquires from its asyncpg pool without a timeout and "
                        "has no setting for one).",
                    )
                    if postgres
                    else (
                        "SQLite runs with Tortoise's default pragmas: journal_mode=WAL.",
                        "Not applied: pool_size, pool_min, pool_max, max_overflow, pool_timeout (one connection "
                        "behind Tortoise's lock on SQLite).",
                    )
                ),
                "echo logs through Tortoise's own SQL logger (a child of tortoise.db_client at DEBUG, to stdout): "
                "Tortoise has no echo setting.",
            ),
            schema_differences=SCHEMA_DIFFERENCES[config.dialect],
            paths=PATHS
            | tiers.PATHS
            | {"audit_events_between": SCAN_PATHS[config.dialect]}
            | VECTOR_PATHS[config.dialect],
        )
        self._ctx = TortoiseContext()
        self._client: BaseDBAsyncClient | None = None

    def _tortoise_config(self) -> dict[str, Any]:
        c = self.config
        if c.dialect == "sqlite":
            connection = {
                "engine": "tortoise.backends.sqlite",
                "credentials": {"file_path": c.sqlite_path, "foreign_keys": "ON"},
            }
        else:
            credentials = {"host": c.host, "port": c.port, "user": c.user, "database": c.database}
            credentials |= {"password": c.password, "minsize": c.pool_min, "maxsize": c.pool_max}
            connection = {"engine": "tortoise.backends.asyncpg", "credentials": credentials}
        return {
            "connections": {self._alias: connection},
            "apps": {"models": {"models": [self._module_name], "default_connection": self._alias}},
        }

    async def _connect(self) -> None:
        self._ctx = TortoiseContext()
        token = _current_context.set(self._ctx)
        try:
            await self._ctx.init(config=self._tortoise_config())
            # Tortoise opens the pool (or the SQLite connection) lazily: open it now, so connect() fails here.
            self._client = self._ctx.db(self._alias)
            if self.config.echo:
                self._client.log = _echo_logger(self._alias)  # transactions copy their client's logger
            await self._client.execute_query("SELECT 1")
        except BaseException:
            await self._ctx.close_connections()
            raise
        finally:
            _current_context.reset(token)

    @_in_context
    async def _disconnect(self) -> None:
        await self._ctx.close_connections()

    @_in_context
    async def _ping(self) -> None:
        await self._ctx.db(self._alias).execute_query("SELECT 1")

    def pool_status(self) -> dict[str, int] | None:
        if self.config.dialect != "postgresql":
            return None
        pool = getattr(self._client, "_pool", None) if self.is_connected else None
        if pool is None:
            idle = dict.fromkeys(("size", "checked_out", "idle", "overflow"), 0)
            return {"min": self.config.pool_min, "max": self.config.pool_max, **idle}
        return asyncpg_pool_gauges(pool)

    # CRUD: one statement each, except update. On SQLite a model with no database default left to fill (Tag,
    # TransferLog given created_at) is inserted with aiosqlite's execute_insert: INSERT, then SELECT
    # last_insert_rowid() in the same thread hop; otherwise INSERT ... RETURNING.

    @_in_context
    async def _create(self, model: Any, data: dict[str, Any]) -> Any:
        return await model.create(**data)

    def _prepare_get(self, model: Any, first: Where, for_update: bool) -> PreparedGet:
        # The lookups are named once per shape, and a get is one coroutine of the provider's (the context made current
        # in it) where `_get` takes two more (`_in_context`'s and the default prepared get's): each is resumed at every
        # wait of the driver, and the get by key is the cheapest call measured (the adapter tax, harness/bench/tax.py).
        shape = first.shape
        if shape.has_in:
            return super()._prepare_get(model, first, for_update)
        lookups = tuple(field + _SUFFIX[op] for field, op in zip(shape.fields, shape.ops, strict=True))
        locking = for_update and self.capabilities.row_locks

        async def get(values: tuple[Any, ...]) -> Any | None:
            token = _current_context.set(self._ctx)
            try:
                if None in values:  # an IS NULL lookup, `_query`'s
                    return await self._get(model, Where(shape, values), for_update)
                query = model.filter(**dict(zip(lookups, values, strict=False)))  # as long as each other: one shape
                return await (query.select_for_update() if locking else query).first()
            except Exception as exc:
                raise_translated(exc)
            finally:
                _current_context.reset(token)

        return get

    @_in_context
    async def _get(self, model: Any, where: Where, for_update: bool) -> Any | None:
        query = _query(model, where)
        if for_update and self.capabilities.row_locks:
            query = query.select_for_update()
        return await query.first()

    @_in_context
    async def _get_many(self, model: Any, selection: Selection) -> list[Any]:
        return await _selected(model, selection)

    @_in_context
    async def _update(self, model: Any, where: Where, data: dict[str, Any]) -> Any | None:
        # 2 statements: Tortoise has no UPDATE ... RETURNING, and re-reading after QuerySet.update() would miss the
        # row when `data` changes the filtered column; save() writes only `data`, by primary key.
        obj = await _query(model, where).first()
        if obj is not None and data:
            await obj.update_from_dict(data).save(update_fields=list(data))
        return obj

    @_in_context
    async def _delete(self, model: Any, where: Where) -> bool:
        return await _query(model, where).delete() > 0

    @_in_context
    async def _count(self, model: Any, where: Where) -> int:
        return await _query(model, where).count()

    @_in_context
    async def _exists(self, model: Any, where: Where) -> bool:
        return await _query(model, where).exists()

    @_in_context
    async def _execute(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        # connections.get reads the task's connection handler: inside transaction() it is the transaction's.
        sql, values = bind(query, params, "dollar" if self.config.dialect == "postgresql" else "qmark")
        return [dict(row) for row in await connections.get(self._alias).execute_query_dict(sql, values)]

    # Bulk: bulk_create is one executemany (no bind-parameter limit to chunk for), which Tortoise wraps in
    # BEGIN/COMMIT outside a transaction: 3 round trips, and on SQLite one execution per row.

    @_in_context
    async def _create_many(self, model: Any, rows: list[dict[str, Any]]) -> int:
        await model.bulk_create([model(**row) for row in rows])
        return len(rows)

    @_in_context
    async def _update_many(self, model: Any, where: Where, data: dict[str, Any]) -> int:
        return await _query(model, where).update(**data)

    @_in_context
    async def _link_tags(self, pairs: list[tuple[int, int]]) -> int:
        link = self._classes["TaskTag"]
        await link.bulk_create([link(task_id=task, tag_id=tag) for task, tag in pairs])
        return len(pairs)

    # Tier workloads (harness/core/workloads/): overrides check their input and translate errors themselves, as
    # the contract's public methods do.

    async def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        check_email(email)
        with translated_errors():
            user = await self._user_by_email(email)
        return None if user is None else object_record(USER_COLUMNS, user)

    async def sign_in(self, email: str, at: datetime) -> int | None:
        check_email(email)
        check_moment(at, "the sign-in time")
        with translated_errors():
            async with self.transaction():
                user = await self._user_by_email(email)
                if user is None or not user.is_active:
                    return None
                user.last_sign_in_at = at
                await self._save(user, ["last_sign_in_at"])
        return int(user.id)

    @_in_context
    async def _user_by_email(self, email: str) -> Any | None:
        users = self.models.User.annotate(email_lower=Lower("email"))
        return await users.filter(email_lower=Lower(ValueWrapper(email))).first()

    @_in_context
    async def _save(self, obj: Model, columns: list[str]) -> None:
        await obj.save(update_fields=columns)

    async def audit_events_between(self, start: datetime, end: datetime, key: str, value: str) -> list[dict[str, Any]]:
        if self.dialect != "postgresql":
            return await super().audit_events_between(start, end, key, value)
        check_scan(start, end, key, value)
        with translated_errors():
            events = await self._events_between(start, end, key, value)
        return [object_record(EVENT_COLUMNS, event) for event in events]

    @_in_context
    async def _events_between(self, start: datetime, end: datetime, key: str, value: str) -> list[Any]:
        events = self.models.AuditEvent.filter(occurred_at__gte=start, occurred_at__lt=end)
        return await events.filter(payload__filter={key: value}).order_by("occurred_at", "id")

    async def purge_audit_events(self, before: datetime) -> int:
        check_moment(before, "the retention cutoff")
        with translated_errors():
            return await self._purge(before)

    @_in_context
    async def _purge(self, before: datetime) -> int:
        return await self.models.AuditEvent.filter(occurred_at__lt=before).delete()

    def _sqlite_timestamp(self, moment: datetime) -> str:
        # Tortoise binds an aware datetime through sqlite3's adapter, which it registers: isoformat(" ").
        return moment.isoformat(" ")

    # Eager loading

    @_in_context
    async def _get_many_optimized(self, model: Any, selection: Selection, paths: tuple[str, ...]) -> list[Any]:
        joined, prefetched = _eager_plan(self.models.entity(model).name, paths)
        query = _selected(model, selection)
        if joined:
            query = query.select_related(*(p.replace(".", "__") for p in joined))
        if prefetched:
            query = query.prefetch_related(*(p.replace(".", "__") for p in prefetched))
        return await query

    def _eager_statements(self, entity: Entity, paths: tuple[str, ...]) -> int:
        """One query for the parents, with forward-only paths JOINed into it (select_related), plus one per
        prefetched path, two for a many-to-many one (link table, then targets), as long as each level finds
        rows: User ("tasks",) 2, ("tasks", "tasks.comments") 3, Task ("tags",) 3, ("user",) 1."""
        _, prefetched = _eager_plan(entity.name, paths)
        return 1 + sum(_cost(entity.name, p) for p in prefetched)

    # Embeddings

    @_in_context
    async def _nearest_documents(self, query: list[float], k: int, category: str | None) -> list[Neighbour]:
        documents = self.models.Document.all() if category is None else self.models.Document.filter(category=category)
        distance = CosineSimilarity("embedding", query, EMBEDDING_DIMENSIONS)
        rows = (
            await documents.annotate(distance=distance)
            .order_by("distance")
            .limit(k)
            .values_list("id", "title", "distance")
        )
        return [Neighbour(int(i), str(title), float(d)) for i, title, d in rows]

    # Tier workloads (tiers.py builds the queries; the recursive walks are the contract's SQL through execute)

    @_in_context
    async def _friends_of_friends(self, user: int) -> list[int]:
        # values_list(..., flat=True) gives the values themselves; Tortoise's annotations say tuples.
        return cast(list[int], await tiers.friends_of_friends(self.models.Follow, user))

    @_in_context
    async def _cache_upsert(self, item: CacheItem, clock: datetime) -> None:
        await tiers.upsert(self.models.CacheEntry, [item], clock)

    @_in_context
    async def _cache_upsert_many(self, items: list[CacheItem], clock: datetime) -> None:
        await tiers.upsert(self.models.CacheEntry, items, clock)

    @_in_context
    async def _cache_get(self, key: str, clock: datetime) -> str | None:
        values = cast(list[str], await tiers.live_value(self.models.CacheEntry, key, clock))  # flat: as above
        return values[0] if values else None

    @_in_context
    async def _cache_get_many(self, keys: list[str], clock: datetime) -> dict[str, str]:
        return dict(await tiers.live_values(self.models.CacheEntry, keys, clock))

    @_in_context
    async def _cache_delete(self, keys: list[str]) -> int:
        return await tiers.keys(self.models.CacheEntry, keys).delete()

    @_in_context
    async def _cache_sweep(self, clock: datetime) -> int:
        return await tiers.expired(self.models.CacheEntry, clock).delete()

    # Transactions and schema

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        # in_transaction() stores its connection in the context's per-task ConnectionHandler variable, so every
        # hook called from this task (or tasks it starts) inside the block runs on it; nested = savepoint.
        token = _current_context.set(self._ctx)
        try:
            async with in_transaction(self._alias):
                yield
        finally:
            _current_context.reset(token)

    @_in_context
    async def _create_schema(self) -> None:
        await self._ctx.generate_schemas(safe=True)

    @_in_context
    async def _migrate(self, revision: str | None) -> None:
        target = None if revision is None else AERICH_VERSIONS[revision]
        await runner.migrate(self._ctx, self._tortoise_config(), target)

    @_in_context
    async def _current_revision(self) -> str | None:
        applied = set(await runner.applied(self._ctx, self._tortoise_config()))
        return latest_revision(revision for revision, version in AERICH_VERSIONS.items() if version in applied)

    @_in_context
    async def _drop_schema(self) -> None:
        # Tortoise has no "drop these models" DDL (only dropping whole databases): plain DROP TABLEs.
        tables = (*reversed(TABLES_IN_DEPENDENCY_ORDER), runner.BOOKKEEPING_TABLE)
        drops = " ".join(f'DROP TABLE IF EXISTS "{t}";' for t in tables)
        await self._ctx.db(self._alias).execute_script(drops)
