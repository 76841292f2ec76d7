"""The provider contract: the one interface every adapter implements and every scenario uses.

Read this module before writing a backend or a scenario. It defines `BaseDatabaseProvider` / `BaseORMProvider`,
exact enough that four very different implementations give the same answers (docs/architecture.md shows where it
sits).

Lifetime
    A provider is built from a `DatabaseConfig` and does no I/O until `await connect()`. `disconnect()`
    closes every connection it opened; `connect()` after that starts afresh. `create_schema()` and
    `drop_schema()` create and remove the shared schema (docs/schema.md) in the connected database.

Schema and migrations
    `create_schema()` brings a fresh database to the head revision with the adapter's own migration tool
    (Alembic, aerich, Piccolo migrations, versioned SQL for raw). `run_migrations(revision="head")` (also
    spelled `migrate`) moves to any revision of `harness.core.schema.REVISIONS`, up or down, or to "base"
    (nothing) or "head". `get_current_revision()` reads the tool's own bookkeeping and returns the revision id of
    `REVISIONS` the database is at, or None at base (and after `create_schema_from_models()`, which records
    nothing). `create_schema_from_models()` is the ORM's create-all path, kept to show it gives the same schema.
    `drop_schema()` removes every table, the migration tool's bookkeeping included.

Models
    `provider.models.User` (and `.Task`, `.Tag`, `.Comment`, `.Account`, `.TransferLog`, `.Document`, `.Follow`,
    `.CacheEntry`) are the adapter's own model classes; `BaseORMProvider` is generic over their type
    (`SQLAlchemyProvider` is a `BaseORMProvider[Base]`: `create(model: type[T], ...) -> T`). A scenario passes
    them back to the provider and never touches the ORM itself:
    `await p.create(p.models.User, {"username": "ada", "email": "ada@example.org"})`.
    Objects returned expose every column of `harness.core.schema.ENTITIES` as an attribute (`task.user_id`,
    `account.balance` as a `Decimal`, `created_at` as an aware `datetime`, `document.embedding` a list of floats).

Filters
    A dict of `field: value` (equality; `None` means IS NULL) and `field__op: value` with `op` one of
    `in` (a sequence; empty matches nothing), `gt`, `gte`, `lt`, `lte`. All conditions are ANDed. A field
    not in the schema, or an unknown suffix, raises `UnknownFieldError` before any statement is sent.

Ordering and paging
    `order_by` is `"field"` (ascending) or `"-field"` (descending). `limit` and `offset` are applied after
    ordering. Without `order_by` the order of rows is unspecified.

Missing rows are not errors
    `get` returns None, `update` returns None, `delete` returns False, `count` 0, `exists` False.

Writes
    `create` returns the new object with its primary key; a row missing a required column (`Entity.required`)
    raises `NotNullViolation` before any statement. `update` changes the one row the filters identify and
    returns it as stored: the filters must test a key of the entity (`Entity.keys`: the primary key, a unique
    column or a unique pair) for equality, else `AmbiguousFilter` is raised before any statement. `delete`
    removes every matching row and says whether there was one. `create_many` checks every row as `create`
    does, inserts them all with the ORM's bulk path and returns how many; `update_many` updates every matching
    row in one statement and returns how many. Empty input sends nothing: `update(..., {})` returns the row as
    stored (a read), `update_many(..., {})` and `create_many(model, [])` return 0. The many-to-many link table
    has no entity of its own: `link_tags([(task_id, tag_id), ...])` fills it.

Eager loading
    `get_many_optimized(model, filters, limit, offset, order_by, relations=["tasks", "tasks.comments"])` is
    `get_many` with the named relations of `harness.core.schema.ENTITIES` loaded on every object returned, in
    one call: a dotted path loads every step of it; filters, ordering and paging apply to the objects of `model`.
    `get_with_relations(model, filters, relations)` returns the one object the filters identify, loaded the same
    way, or None: like `update`, its filters must test a key of the entity for equality, else `AmbiguousFilter`.
    A reverse or many-to-many relation becomes a list attribute, a forward one the related object. Touching a
    loaded relation sends no statement. Each adapter loads through its ORM's idiomatic eager path;
    `expected_eager_statements()` is its documented cost, the same for both methods.

Transactions
    `async with provider.transaction():` commits on success and rolls back if the block raises (and
    re-raises). Every contract call made inside the block runs in that transaction, from the task that opened
    it and from tasks it starts inside the block (they inherit its context, as asyncio copies it); the
    transaction has one connection, so those tasks take turns (await one before the next sends a statement).
    A nested `transaction()` is a savepoint: its rollback undoes only its own work. Outside a
    transaction every call is its own unit of work (autocommit). `get(..., for_update=True)` inside a
    transaction locks the row until the transaction ends, where the database has row locks (PostgreSQL);
    SQLite serialises writers instead. `create_with_transaction(model, data)` is `create` in a transaction of
    its own (a savepoint inside another).

Pool
    `DatabaseConfig` carries the pool settings (`pool_min`/`pool_size`, `pool_max`/`max_overflow`,
    `pool_timeout`, `echo`); each adapter applies them through its ORM's own setting and names in
    `capabilities.notes` ("Not applied: ...") the ones it cannot apply on its dialect. `await get_pool_status()`
    returns the pool's gauges on PostgreSQL, None where the adapter has no pool; `pool_status()` is the same
    reading without the await, for the harness's samplers, which call it inside a connection checkout.

Errors
    Only the errors of `harness.core.errors`: `UnknownFieldError`, `AmbiguousFilter`, the
    `ConstraintViolation` family (`UniqueViolation`, `ForeignKeyViolation`, `CheckViolation`,
    `NotNullViolation`), `ConfigurationError`, `ConnectionFailed`, `PoolTimeout` and the `QueryTimeout`s. After
    a constraint violation the provider stays usable.

Raw SQL
    `execute(query, params)` runs SQL the caller wrote, with `:name` parameters, through the ORM's own raw path
    (SQLAlchemy `text()`, Tortoise's connection `execute_query_dict`, Piccolo `raw()`, the bare driver for raw)
    and returns the rows as dicts. A tier operation an ORM cannot express goes this way, declared in
    `capabilities.paths`.

Tier workloads
    The operations each database tier exists for are mixins of `BaseORMProvider`, one module a tier in
    harness/core/workloads/ (graph traversals: `neighbourhood`, `reachable`, ...; the cache: `cache_upsert`,
    `cache_get`, `cache_sweep`, ...). Each mixin's `OPERATIONS` names them, and every adapter declares in
    `capabilities.paths` how it does each one: through its ORM ("native"), a plugin, or raw SQL.

Writing an adapter
    Subclass `BaseORMProvider`, set `name`, build `self.models` and `self.capabilities` in `__init__`
    (no I/O), and implement the underscored hooks below. The public methods validate the input against the
    shared schema, call the hook, and translate errors, so a hook receives parsed, checked arguments
    (a `Where`, a `Selection`, full relation paths, non-empty `data`) and may assume them valid. One hook is
    optional: `_prepare_get`, called at the first `get` of each model, filter keys and lock, returns the coroutine
    function that runs every later one from the filters' values and translates its errors (by default through
    `_get`; raw builds its statement there, Tortoise its lookups).

Deviations from the seed interface
    "The seed" is the provider interface this project started from and its users adopt in their services:
    `BaseDatabaseProvider`, `BaseORMProvider(Generic[T])` with create/get/get_many/update/delete/count/exists,
    create_many/update_many, get_with_relations/get_many_optimized, transaction, get_pool_status,
    run_migrations/get_current_revision, and the `DatabaseType` tiers with `DatabaseFactory.create_provider` and
    `DatabaseProviderBuilder` (harness/core/factory.py). It is followed where it is sound; where not, one line each:
    - The seed's create_many returns the new objects; here the row count, as the ORMs' bulk inserts build no objects.
    - The seed raises ValueError or the ORM's errors; here only harness.core.errors, the same for every ORM.
    - The seed's get fails when several rows match; here it returns the first one found and never fails for that.
    - The seed's update and delete act on the object get finds; here update needs a key, delete takes every match.
    - The seed filters by equality and orders ascending; here field__in/gt/gte/lt/lte too, and "-field" descends.
    - The seed's eager methods take the model's relation names; here dotted paths ("tasks.comments") as well.
    - The seed's transaction() yields the ORM's session; here nothing: calls inside the block join it, no ORM shows.
    - The seed bounds T by pydantic's BaseModel; here T is unbound: each adapter's models have their ORM's base.
    - The seed's providers take a dict; here a checked DatabaseConfig: a bad key, URL or size fails at once.
    - The seed's provider defaults pool_size to 5; here 10 (DatabaseConfig), while the factory gives the tier's.
    - The seed's max_overflow defaults to 10; here 0: every adapter gets the same fixed pool, so they compare.
    - The seed's pool_timeout defaults to 30 s; here unset keeps each library's own (SQLAlchemy 30 s, asyncpg none).
    - The seed's SQLAlchemy engine sets pool_pre_ping and pool_recycle; here neither: a ping is a round trip more.
    - The seed's SQLAlchemy uses a NullPool on SQLite; here one shared connection, as SQLite has one writer anyway.
    - The seed's get_pool_status has SQLAlchemy's gauges; here min, max, size, checked_out, idle, overflow for all.
    - The seed's get_pool_status returns {} without an engine; here None where the adapter has no pool (SQLite).
    - The seed's run_migrations only upgrades, via alembic.ini; here up or down, in process, with each ORM's tool.
    - The seed's get_current_revision is Alembic's id; here the id of REVISIONS, whichever tool recorded it.
    - The seed's factory picks a provider by database kind (postgresql, mongodb); here by ORM; the URL says where.
    - The seed shows three factories (get_provider, injected loaders, create_provider); here create_provider only.
    - The seed's factory fails without {TIER}_{PROVIDER}_URL; here HARNESS_DATABASE_URL or a SQLite file steps in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from harness.core.config import DatabaseConfig
from harness.core.errors import (
    AmbiguousFilter,
    ConfigurationError,
    NotNullViolation,
    UnknownFieldError,
    raise_translated,
    translated_errors,
)
from harness.core.schema import ENTITIES, REVISIONS, Entity, relation_chain
from harness.core.sql import check_parameters
from harness.core.workloads.audit import AuditOperations
from harness.core.workloads.cache import CacheOperations
from harness.core.workloads.embeddings import EmbeddingsOperations
from harness.core.workloads.graph import GraphOperations
from harness.core.workloads.users import UserOperations

Operator = Literal["eq", "in", "gt", "gte", "lt", "lte"]
OPERATORS: tuple[Operator, ...] = ("eq", "in", "gt", "gte", "lt", "lte")
ConnectionModel = Literal["pool", "single-connection", "connection-per-query"]
T = TypeVar("T")
"""The adapter's model type (its ORM's model base class)."""


# Where, Selection and Ordering are built on every call: named tuples and a slotted class, as a frozen dataclass's
# __init__ costs about three times more (object.__setattr__ per field), which the adapter tax (harness/bench/tax.py)
# measures. For the same reason a condition is a plain tuple, made by zip as an adapter iterates a Where: building a
# named tuple per condition cost an ORM's get by key 1 to 2% of its tax.

Condition = tuple[str, Operator, Any]
"""One parsed filter: (field, operator, value), e.g. ("priority", "gte", 3)."""


class Ordering(NamedTuple):
    field: str
    descending: bool


@dataclass(frozen=True, eq=False)
class WhereShape:
    """What a filter dict's keys say, checked against the schema: the fields and operators of its conditions, in the
    dict's order. One object per entity and tuple of keys (`parse_filters` keeps them), so an adapter can key what it
    builds per call shape (its SQL) on the shape itself: it hashes by identity."""

    entity: Entity
    fields: tuple[str, ...]
    ops: tuple[Operator, ...]
    has_in: bool
    """A condition is `field__in`: its value is a list, whose length may shape the SQL."""


class Where:
    """The parsed filters of one call: their `shape` and their `values`, in the shape's order (a `field__in` value
    as a list). It iterates as the `Condition`s they make (`for field, op, value in where`); an adapter that keys its
    SQL on the shape reads the values alone."""

    __slots__ = ("shape", "values")

    def __init__(self, shape: WhereShape, values: tuple[Any, ...]) -> None:
        self.shape = shape
        self.values = values

    def __iter__(self) -> Iterator[Condition]:
        # Not strict: the three are as long as each other by construction, and the check costs a fifth of the zip.
        return zip(self.shape.fields, self.shape.ops, self.values, strict=False)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Where({self.shape.entity.name}: {', '.join(f'{f} {op} {value!r}' for f, op, value in self)})"


PreparedGet = Callable[[tuple[Any, ...]], Coroutine[Any, Any, Any]]
"""A get of one model, filter shape and lock, as a coroutine function of the filters' values, translating its errors
(`BaseORMProvider._prepare_get`)."""


class Selection(NamedTuple):
    """Which rows a read returns, parsed: the conditions, the order, then the page (`limit`, `offset`)."""

    where: Where
    ordering: Ordering | None = None
    limit: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class OperationPath:
    """How an adapter does one tier operation (`Capabilities.paths`, keyed by the operation's name).

    kind: `native` (the ORM's own API), `plugin` (a package that extends the ORM, named in `note`), `raw SQL`
        (the ORM cannot express it: the adapter sends SQL through `execute`, its ORM's raw path) or
        `unavailable` (not on this database or interpreter; `note` says why).
    note: one sentence: what the adapter calls, or why it cannot.
    """

    kind: Literal["native", "plugin", "raw SQL", "unavailable"]
    note: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What an adapter does that the others may not, declared rather than hidden.

    connection_model: how the adapter talks to the database on this dialect: a `pool` of connections,
        one `single-connection` shared behind a lock, or a new `connection-per-query`.
    row_locks: `get(..., for_update=True)` takes a row lock (SELECT ... FOR UPDATE).
    notes: anything else a reader of the results should know, in one sentence each; among them, each pool
        setting of `DatabaseConfig` the adapter cannot apply on this dialect, in a note starting "Not applied: ".
    schema_differences: where the ORM's schema on this dialect differs from the shared schema (docs/schema.md),
        one sentence each (PostgreSQL's catalogs are compared by tests/test_schema_parity.py).
    paths: for each tier operation (vectors, graphs, cache, audit, accounts), whether the ORM does it natively,
        through a plugin, through raw SQL, or not at all here (`OperationPath`).
    Every run records them per adapter and database, and the report shows them next to the results.
    """

    connection_model: ConnectionModel
    row_locks: bool
    notes: tuple[str, ...] = ()
    schema_differences: tuple[str, ...] = ()
    paths: Mapping[str, OperationPath] = field(default_factory=dict)


@dataclass(frozen=True)
class MigrationFacts:
    """What an adapter's migration tool does, for the report's migration section; one sentence a field.

    tool: name and version, e.g. "Alembic 1.20 (async env)".
    autogenerate: whether and how revisions are generated from the models.
    downgrade: whether revisions can be reversed, and how.
    sqlite: how the tool handles SQLite, table rebuilds included.
    transactional_ddl: whether a revision runs in one transaction, on each database.
    files: the committed files of revision 0002 (tasks.due_date), relative to the repository root.
    """

    tool: str
    autogenerate: str
    downgrade: str
    sqlite: str
    transactional_ddl: str
    files: tuple[str, ...]


class Models(SimpleNamespace):
    """The adapter's model classes under the shared entity names (`models.User`, `models.Task`, ...)."""

    def __init__(self, **models: Any) -> None:
        missing = set(ENTITIES) - set(models)
        if missing:
            raise TypeError(f"models missing for entities: {', '.join(sorted(missing))}")
        super().__init__(**models)
        self._entities = {id(model): ENTITIES[name] for name, model in models.items()}
        self._shapes: dict[tuple[int, tuple[str, ...]], WhereShape] = {}
        self._new_rows: set[tuple[int, tuple[str, ...]]] = set()

    def entity(self, model: Any) -> Entity:
        """The shared-schema entity that `model` implements in this adapter."""
        try:
            return self._entities[id(model)]
        except KeyError:
            raise UnknownFieldError(f"{model!r} is not a model of this provider") from None

    def where(self, model: Any, filters: Mapping[str, Any] | None) -> Where:
        """`parse_filters` for the entity `model` implements, its shape found in one lookup per model and tuple of
        keys: every contract call with filters parses them, and finding the entity, then the shape, is a call and a
        lookup more on the cheapest calls measured (the adapter tax, harness/bench/tax.py)."""
        keys = tuple(filters) if filters else ()
        shape = self._shapes.get((id(model), keys))
        if shape is None:
            # Kept for a model of this provider only (entity() raises for any other), which this object keeps
            # alive: no other object can take its id.
            shape = self._shapes[id(model), keys] = _shape_of(self.entity(model), keys)
        values = tuple(filters.values()) if filters else ()
        return _where_of(shape, values) if shape.has_in else Where(shape, values)  # a call less in the common case

    def check_new_row(self, model: Any, row: Mapping[str, Any]) -> None:
        """`check_new_row` for the entity `model` implements, once per model and tuple of fields (one lookup, as
        `where` finds a shape)."""
        fields = (id(model), tuple(row))
        if fields not in self._new_rows:
            check_new_row(self.entity(model), row)
            self._new_rows.add(fields)  # as `where` keeps a shape


def parse_filters(entity: Entity, filters: Mapping[str, Any] | None) -> Where:
    """Check a filter dict against the schema and parse it into a `Where`. Its keys are checked once per entity and
    tuple of keys (`_SHAPES`); the values are taken as they are, a `field__in` value as a list."""
    return _where_of(_shape_of(entity, tuple(filters) if filters else ()), tuple(filters.values()) if filters else ())


def _shape_of(entity: Entity, keys: tuple[str, ...]) -> WhereShape:
    """The one shape of `entity`'s filters with these keys, checked the first time."""
    shapes = _SHAPES[entity.name]
    shape = shapes.get(keys)
    if shape is None:
        shape = shapes[keys] = _shape(entity, keys)
    return shape


def _where_of(shape: WhereShape, values: tuple[Any, ...]) -> Where:
    """The `Where` of filters whose keys are `shape`'s, from their values: a `field__in` value as a list."""
    if shape.has_in:
        values = tuple(list(v) if op == "in" else v for op, v in zip(shape.ops, values, strict=True))
    return Where(shape, values)


_SHAPES: dict[str, dict[tuple[str, ...], WhereShape]] = {name: {} for name in ENTITIES}
"""Entity name -> tuple of filter keys -> their shape, for the keys that passed `_parse_key`."""


def _shape(entity: Entity, keys: tuple[str, ...]) -> WhereShape:
    parsed = [_parse_key(entity, key) for key in keys]
    ops = tuple(op for _, op in parsed)
    return WhereShape(entity, tuple(field for field, _ in parsed), ops, "in" in ops)


def _parse_key(entity: Entity, key: str) -> tuple[str, Operator]:
    field, _, suffix = key.partition("__")
    if field not in entity.columns:
        raise UnknownFieldError(f"{entity.name} has no field {field!r}")
    op = suffix or "eq"
    if op not in OPERATORS:
        raise UnknownFieldError(f"unknown filter suffix {key!r}: use one of __in, __gt, __gte, __lt, __lte")
    return field, op


def parse_ordering(entity: Entity, order_by: str | None) -> Ordering | None:
    if order_by is None:
        return None
    ordering = _ORDERINGS.get((entity.name, order_by))
    if ordering is None:
        field = order_by.removeprefix("-")
        if field not in entity.columns:
            raise UnknownFieldError(f"cannot order {entity.name} by unknown field {field!r}")
        ordering = _ORDERINGS[entity.name, order_by] = Ordering(field, order_by.startswith("-"))
    return ordering


_ORDERINGS: dict[tuple[str, str], Ordering] = {}


def check_data(entity: Entity, data: Mapping[str, Any]) -> None:
    """Every field of `data` is a column of the entity."""
    if unknown := set(data) - set(entity.columns):
        raise UnknownFieldError(f"{entity.name} has no field {', '.join(repr(f) for f in sorted(unknown))}")


def check_new_row(entity: Entity, row: Mapping[str, Any]) -> None:
    """A row for `create`: known fields, and every required one."""
    check_data(entity, row)
    if missing := [column for column in entity.required if column not in row]:
        raise NotNullViolation(f"a new {entity.name} needs {', '.join(missing)}")


def check_new_rows(entity: Entity, rows: Iterable[Mapping[str, Any]]) -> None:
    """Every row checked as `check_new_row` does; a run of rows with the same fields is checked once (a bulk
    insert of 10,000 rows pays a key comparison per row, not a schema check)."""
    checked: Any = None
    for row in rows:
        if (fields := row.keys()) != checked:
            check_new_row(entity, row)
            checked = fields


def check_identifies_one_row(entity: Entity, where: Where, operation: str = "update") -> None:
    """Raise `AmbiguousFilter` unless the conditions test a key of the entity (`Entity.keys`) for equality."""
    tested = {field for field, op, value in where if op == "eq" and value is not None}
    if not any(set(key) <= tested for key in entity.keys):
        keys = " or ".join(" and ".join(key) for key in entity.keys)
        raise AmbiguousFilter(
            f"{operation} of {entity.name} needs filters that identify one row: test {keys} for equality"
        )


def expand_relations(entity: Entity, relations: Iterable[str]) -> tuple[str, ...]:
    """Every step of every dotted path, parents first: ["tasks.comments"] -> ("tasks", "tasks.comments"); expanded
    once per entity and list of paths."""
    key = (entity.name, tuple(relations))
    expanded = _EXPANDED.get(key)
    if expanded is None:
        paths: dict[str, None] = {}
        for path in key[1]:
            relation_chain(entity.name, path)
            parts = path.split(".")
            for depth in range(1, len(parts) + 1):
                paths[".".join(parts[:depth])] = None
        expanded = _EXPANDED[key] = tuple(sorted(paths, key=lambda p: p.count(".")))
    return expanded


_EXPANDED: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


class BaseDatabaseProvider(ABC):
    """Connection lifetime, capabilities and pool gauges, shared by every provider."""

    name: ClassVar[str]
    capabilities: Capabilities

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self._connected = False

    @property
    def provider_type(self) -> str:
        """The adapter's name: `sqlalchemy`, `tortoise`, `piccolo`, `raw` (or the reference store's, `redis`)."""
        return self.name

    @property
    def dialect(self) -> str:
        """The database underneath: `sqlite` or `postgresql` (`redis` for the reference store)."""
        return self.config.dialect

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self) -> None:
        """Open the connection (or pool). Raises `ConnectionFailed` if the database cannot be reached."""
        if self._connected:
            return
        with translated_errors():
            await self._connect()
        self._connected = True

    async def disconnect(self) -> None:
        """Close everything `connect` opened. Safe to call twice."""
        if self._connected:
            self._connected = False
            await self._disconnect()

    async def health_check(self) -> bool:
        """True if a trivial query succeeds now; never raises."""
        if not self._connected:
            return False
        try:
            await self._ping()
        except Exception:
            return False
        return True

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[BaseDatabaseProvider]:
        """Use the provider, connecting first if needed; the pool stays open afterwards."""
        await self.connect()
        yield self

    async def get_pool_status(self) -> dict[str, int] | None:
        """Pool gauges on PostgreSQL (`min`, `max`, `size`, `checked_out`, `idle`, `overflow`); None where the
        adapter has no pool. The same reading as `pool_status()`."""
        return self.pool_status()

    def pool_status(self) -> dict[str, int] | None:
        """`get_pool_status()` without the await: the harness's samplers (harness/bench/pool.py) read the gauges
        inside a connection checkout, synchronous code (SQLAlchemy's QueuePool) among them. Adapters with a
        pool override this one."""
        return None

    def pool_wait_probe(self, record: Callable[[float], None]) -> AbstractContextManager[None]:
        """Optional, for adapters whose pool is not asyncpg's `Pool` (the harness times that one itself, see
        harness/bench/pool.py): while the returned block is open, call `record(seconds)` once per connection
        checkout, after the connection is out, with the time the caller waited for it (from asking the pool
        to holding a connection). Patch nothing outside the block: the timed rounds must run unobserved.
        The default records nothing."""
        return nullcontext()

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _disconnect(self) -> None: ...

    @abstractmethod
    async def _ping(self) -> None: ...


class BaseORMProvider(
    BaseDatabaseProvider,
    UserOperations,
    AuditOperations,
    EmbeddingsOperations,
    GraphOperations,
    CacheOperations,
    Generic[T],
):
    """The CRUD, bulk, eager-loading, transaction, pool and migration contract (see the module docstring),
    generic over the adapter's model type `T`, and the tier workloads' operations (harness/core/workloads/)."""

    models: Models
    migration_facts: ClassVar[MigrationFacts]

    def __init__(self, config: DatabaseConfig) -> None:
        super().__init__(config)
        self._prepared_gets: dict[tuple[Any, ...], PreparedGet] = {}  # (id(model), for_update, *filter keys)

    async def create(self, model: type[T], data: Mapping[str, Any]) -> T:
        self.models.check_new_row(model, data)
        try:
            return await self._create(model, dict(data))
        except Exception as exc:
            raise_translated(exc)

    async def create_with_transaction(self, model: type[T], data: Mapping[str, Any]) -> T:
        """`create` in a transaction of its own (a savepoint when a transaction is open)."""
        async with self.transaction():
            return await self.create(model, data)

    def get(
        self, model: type[T], filters: Mapping[str, Any], *, for_update: bool = False
    ) -> Coroutine[Any, Any, T | None]:
        # A get is the coroutine of the function prepared for its model, lock and filter keys (`_prepare_get`), looked
        # up by them, which translates its own errors: the get by key is the cheapest call measured, where a `Where`, a
        # method call (`dict.get`), or a coroutine of the contract's around the prepared one (each level resumed at
        # every wait of the driver) shows in the adapter tax (harness/bench/tax.py).
        try:
            prepared = self._prepared_gets[id(model), for_update, *filters]
        except (KeyError, TypeError):  # the first get of its keys; no filters (None)
            return self._first_get(model, filters, for_update)
        return prepared(tuple(filters.values()))

    async def _first_get(self, model: type[T], filters: Mapping[str, Any] | None, for_update: bool) -> T | None:
        """The first get of its model, lock and filter keys: the filters checked, then the get prepared and kept for
        its model (the provider's, or `Models.where` raises: no other object can take its id) and keys."""
        where = self.models.where(model, filters)
        prepared = self._prepare_get(model, where, for_update)
        self._prepared_gets[id(model), for_update, *(filters or ())] = prepared
        return await prepared(where.values)

    def _prepare_get(self, model: Any, first: Where, for_update: bool) -> PreparedGet:
        """Hook: the get of `model` by filters of `first`'s shape, as a coroutine function of their values (in the
        shape's order, an `__in` value as a list), made at the first such call (`first`, its filters). `get` returns
        its coroutine as it is, so the function translates its errors (`raise_translated`). The default sends every
        call through `_get`; an adapter that builds a statement or a query per call shape builds it here (raw,
        Tortoise)."""
        shape = first.shape
        where_of = _where_of if shape.has_in else Where  # a call less in the common case

        async def get(values: tuple[Any, ...]) -> Any | None:
            try:
                return await self._get(model, where_of(shape, values), for_update)
            except Exception as exc:
                raise_translated(exc)

        return get

    async def get_many(
        self,
        model: type[T],
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        order_by: str | None = None,
    ) -> list[T]:
        where = self.models.where(model, filters)
        entity = where.shape.entity
        selection = Selection(where, parse_ordering(entity, order_by), limit, offset)
        try:
            return await self._get_many(model, selection)
        except Exception as exc:
            raise_translated(exc)

    async def update(self, model: type[T], filters: Mapping[str, Any], data: Mapping[str, Any]) -> T | None:
        where = self.models.where(model, filters)
        entity = where.shape.entity
        check_identifies_one_row(entity, where)
        check_data(entity, data)
        try:
            if not data:
                return await self._get(model, where, False)
            return await self._update(model, where, dict(data))
        except Exception as exc:
            raise_translated(exc)

    async def delete(self, model: type[T], filters: Mapping[str, Any]) -> bool:
        where = self.models.where(model, filters)
        try:
            return await self._delete(model, where)
        except Exception as exc:
            raise_translated(exc)

    async def count(self, model: type[T], filters: Mapping[str, Any] | None = None) -> int:
        where = self.models.where(model, filters)
        try:
            return await self._count(model, where)
        except Exception as exc:
            raise_translated(exc)

    async def exists(self, model: type[T], filters: Mapping[str, Any]) -> bool:
        where = self.models.where(model, filters)
        try:
            return await self._exists(model, where)
        except Exception as exc:
            raise_translated(exc)

    async def create_many(self, model: type[T], rows: Sequence[Mapping[str, Any]]) -> int:
        check_new_rows(self.models.entity(model), rows)
        if not rows:
            return 0
        try:
            return await self._create_many(model, [dict(r) for r in rows])
        except Exception as exc:
            raise_translated(exc)

    async def update_many(self, model: type[T], filters: Mapping[str, Any], data: Mapping[str, Any]) -> int:
        where = self.models.where(model, filters)
        entity = where.shape.entity
        check_data(entity, data)
        if not data:
            return 0
        try:
            return await self._update_many(model, where, dict(data))
        except Exception as exc:
            raise_translated(exc)

    async def link_tags(self, pairs: Sequence[tuple[int, int]]) -> int:
        """Bulk-insert (task_id, tag_id) rows into the `task_tags` link table; returns how many."""
        if not pairs:
            return 0
        try:
            return await self._link_tags([(int(t), int(g)) for t, g in pairs])
        except Exception as exc:
            raise_translated(exc)

    async def get_with_relations(
        self, model: type[T], filters: Mapping[str, Any], relations: Sequence[str]
    ) -> T | None:
        """The one object `filters` identify (a key tested for equality, else `AmbiguousFilter`) with `relations`
        loaded, or None."""
        where = self.models.where(model, filters)
        entity = where.shape.entity
        paths = expand_relations(entity, relations)
        check_identifies_one_row(entity, where, "get_with_relations")
        try:
            found = await self._get_many_optimized(model, Selection(where), paths)
        except Exception as exc:
            raise_translated(exc)
        return found[0] if found else None

    async def get_many_optimized(
        self,
        model: type[T],
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        order_by: str | None = None,
        relations: Sequence[str] | None = None,
    ) -> list[T]:
        """`get_many` with `relations` loaded on every object, through the ORM's eager path, in one call."""
        where = self.models.where(model, filters)
        entity = where.shape.entity
        selection = Selection(where, parse_ordering(entity, order_by), limit, offset)
        paths = expand_relations(entity, relations or ())
        try:
            return await self._get_many_optimized(model, selection, paths)
        except Exception as exc:
            raise_translated(exc)

    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one SQL statement through the ORM's own raw-SQL path (the seed's `BaseRawProvider.execute`) and
        return its rows as dicts, none for a statement without a result. Parameters are written `:name` and
        bound by the driver, never interpolated (harness/core/sql.py); inside `transaction()` the statement
        joins the transaction. The SQL is the caller's: it must suit `self.dialect`."""
        params = params or {}
        check_parameters(query, params)
        with translated_errors():
            return await self._execute(query, params)

    def sql_timestamp(self, moment: datetime) -> Any:
        """`moment` (aware) as a parameter of SQL written by hand, in the form the adapter stores timestamps: on
        PostgreSQL the datetime itself; on SQLite, where a timestamp is text compared as text, the text its ORM
        writes (each ORM has its own format), so a hand-written range test agrees with the ORM's rows."""
        return moment if self.dialect == "postgresql" else self._sqlite_timestamp(moment.astimezone(UTC))

    def _sqlite_timestamp(self, moment: datetime) -> str:
        """An aware UTC datetime as the adapter writes it on SQLite. Default: SQLite's own CURRENT_TIMESTAMP form
        with microseconds, 'YYYY-MM-DD HH:MM:SS.ffffff', naive UTC."""
        return moment.replace(tzinfo=None).isoformat(" ", timespec="microseconds")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Commit on success, roll back on exception; nested use is a savepoint."""
        with translated_errors():
            async with self._transaction():
                yield

    async def create_schema(self) -> None:
        """The shared schema at the head revision, through the adapter's migration tool."""
        await self.migrate("head")

    async def create_schema_from_models(self) -> None:
        """The shared schema through the ORM's create-all path (no migration bookkeeping)."""
        with translated_errors():
            await self._create_schema()

    async def migrate(self, revision: str = "head") -> None:
        """Upgrade or downgrade to `revision`: an id of `REVISIONS`, "head" or "base"."""
        target = {"head": REVISIONS[-1], "base": None}.get(revision, revision)
        if target is not None and target not in REVISIONS:
            raise ConfigurationError(
                f"unknown revision {revision!r}: choose base, head or one of {', '.join(REVISIONS)}"
            )
        with translated_errors():
            await self._migrate(target)

    async def run_migrations(self, revision: str = "head") -> None:
        """The seed's name for `migrate`: upgrade or downgrade to `revision` with the adapter's migration tool."""
        await self.migrate(revision)

    async def get_current_revision(self) -> str | None:
        """The id of `REVISIONS` the database is at, read from the migration tool's bookkeeping; None at base."""
        with translated_errors():
            return await self._current_revision()

    async def drop_schema(self) -> None:
        with translated_errors():
            await self._drop_schema()

    def expected_eager_statements(self, model: Any, relations: Sequence[str]) -> int:
        """Queries `get_many_optimized(model, ..., relations=relations)` (and `get_with_relations`) sends when
        every level finds rows, as counted at the driver without transaction control (`StatementLog.queries`):
        the adapter's documented cost. Filters, ordering and paging change no count."""
        entity = self.models.entity(model)
        return self._eager_statements(entity, expand_relations(entity, relations))

    def _eager_statements(self, entity: Entity, paths: tuple[str, ...]) -> int:
        """By default one query for the parents plus one per relation path (the select-in strategy);
        adapters that join or split differently override this."""
        return 1 + len(paths)

    @abstractmethod
    async def _create(self, model: Any, data: dict[str, Any]) -> Any: ...

    @abstractmethod
    async def _get(self, model: Any, where: Where, for_update: bool) -> Any | None: ...

    @abstractmethod
    async def _get_many(self, model: Any, selection: Selection) -> list[Any]: ...

    @abstractmethod
    async def _update(self, model: Any, where: Where, data: dict[str, Any]) -> Any | None: ...

    @abstractmethod
    async def _delete(self, model: Any, where: Where) -> bool: ...

    @abstractmethod
    async def _count(self, model: Any, where: Where) -> int: ...

    @abstractmethod
    async def _exists(self, model: Any, where: Where) -> bool: ...

    @abstractmethod
    async def _create_many(self, model: Any, rows: list[dict[str, Any]]) -> int: ...

    @abstractmethod
    async def _update_many(self, model: Any, where: Where, data: dict[str, Any]) -> int: ...

    @abstractmethod
    async def _link_tags(self, pairs: list[tuple[int, int]]) -> int: ...

    @abstractmethod
    async def _get_many_optimized(self, model: Any, selection: Selection, paths: tuple[str, ...]) -> list[Any]:
        """The objects `_get_many` would return, with every relation path of `paths` (parents first) loaded;
        `get_with_relations` calls it too, with filters that identify one row."""

    @abstractmethod
    async def _execute(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[None]: ...

    @abstractmethod
    async def _create_schema(self) -> None: ...

    @abstractmethod
    async def _migrate(self, revision: str | None) -> None:
        """Move the schema to `revision` (None: base, no tables) with the ORM's own migration tool."""

    @abstractmethod
    async def _current_revision(self) -> str | None:
        """The id of `REVISIONS` the migration tool's bookkeeping records as applied last; None if none (no
        bookkeeping table, or an empty one). Reads only: creates nothing."""

    @abstractmethod
    async def _drop_schema(self) -> None: ...


class BaseRawProvider(BaseDatabaseProvider):
    """The seed's raw driver interface (Redis, MongoDB's motor): a store without models, reached through its own
    commands. The harness has one, the Redis reference of the CACHE tier (backends/redis/), which implements the
    cache operations too (`CacheOperations`) and runs only the scenarios its declaration names
    (harness/core/adapters.py)."""

    @abstractmethod
    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run one command of the store, `:name` parameters bound from `params` (never interpolated); returns its
        reply."""

    @abstractmethod
    async def server_version(self) -> str:
        """The store's name and version, e.g. `Redis 7.0.15`: recorded with every result."""
