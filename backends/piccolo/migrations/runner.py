"""Apply the harness app's Piccolo migrations to one provider's engine, in process.

Piccolo's own `run_forwards` / `run_backwards` are not used as they are: they record what ran in the module-level
`Migration` table, whose engine is looked up once and then cached in the class (a second provider, on another
database, would write its bookkeeping into the first one's), import the migration files by bare name off
`sys.path`, and ask for confirmation on stdin. The runner does what they do with the same pieces: each migration
module's `forwards()` returns a `MigrationManager`, `run()` or `run(backwards=True)` applies it, and a row in
Piccolo's `migration` table (through a subclass bound to this engine) records it: the table Piccolo's own commands
read. The piccolo CLI is for authoring here (`piccolo migrations new harness [--auto]`, see piccolo_conf.py).

Globals Piccolo insists on, and how they are kept per provider:
- `MigrationManager.run()` and the tables it builds find their engine through `engine_finder()`, which reads
  `DB` from the module named by the PICCOLO_CONF environment variable. PICCOLO_CONF names piccolo_conf.py while at
  least one migration runs (the same value for every provider; the previous value is restored after the last),
  and that module's `DB` is the ContextVar `CURRENT_ENGINE`, set for the calling task only.
- Nothing else is cached across calls: the migration files build their table classes per step.
- `MigrationManager.run()` prints its progress (`  - <id> [forwards]... `) to stdout with a bare `print`, with no
  option or logger to turn it off; a library's `create_schema()` must not write to stdout. The runner gives that
  module a `print` of its own, silent only while the runner applies a migration in the calling task (`_quiet`);
  anywhere else it prints as before.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from piccolo.apps.migrations.auto import migration_manager as piccolo_migration_manager
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.methods.create import Create
from piccolo.table import Table, create_table_class

from harness.core.errors import ConfigurationError

APP_NAME = "harness"
MIGRATIONS_FOLDER = Path(__file__).resolve().parent / "versions"
_PACKAGE = f"{__package__}.versions"
_CONF_MODULE = f"{__package__}.piccolo_conf"

CURRENT_ENGINE: ContextVar[Engine | None] = ContextVar("harness_piccolo_migration_engine", default=None)
"""The engine of the migration under way in this task: piccolo_conf.py's `DB`."""

Plan = Mapping[str, Sequence[str]]
"""Harness revision -> the Piccolo migration ids it consists of, both oldest first."""


async def migrate(engine: Engine, plan: Plan, target: str | None) -> None:
    """Upgrade or downgrade to the harness revision `target` (None: base, the bookkeeping table dropped too).

    Each harness revision runs in one transaction with its bookkeeping rows: PostgreSQL and SQLite both roll
    DDL back, so a failed revision leaves the schema and the record as they were."""
    modules = _modules(tuple(id_ for ids in plan.values() for id_ in ids))
    revisions = list(plan)
    keep = revisions[: revisions.index(target) + 1] if target is not None else []
    ledger = _ledger(engine)
    with _piccolo_conf():
        token = CURRENT_ENGINE.set(engine)
        try:
            await ledger.create_table(if_not_exists=True)
            ran = set(await ledger.get_migrations_which_ran(app_name=APP_NAME))
            for revision in reversed(revisions[len(keep) :]):
                ids = [id_ for id_ in reversed(plan[revision]) if id_ in ran]
                await _apply(engine, ledger, [modules[id_] for id_ in ids], backwards=True)
            for revision in keep:
                ids = [id_ for id_ in plan[revision] if id_ not in ran]
                await _apply(engine, ledger, [modules[id_] for id_ in ids], backwards=False)
            if target is None:
                await ledger.alter().drop_table(if_exists=True)
        finally:
            CURRENT_ENGINE.reset(token)


async def applied(engine: Engine) -> list[str]:
    """The ids of the harness app's Piccolo migrations that the `migration` table records; none without the table."""
    ledger = _ledger(engine)
    if not await ledger.table_exists():
        return []
    return await ledger.get_migrations_which_ran(app_name=APP_NAME)


async def drop_bookkeeping(engine: Engine) -> None:
    """Drop Piccolo's `migration` table (drop_schema removes everything)."""
    await _ledger(engine).alter().drop_table(if_exists=True)


def sqlite_create_table(table: type[Table]) -> list[str]:
    """Piccolo's CREATE TABLE for SQLite with the table's constraints inline: Piccolo adds them with ALTER TABLE
    ... ADD CONSTRAINT, which SQLite does not have (it would need a table rebuild, which Piccolo cannot do)."""
    create, *rest = table.create_table().ddl
    inline = "".join(f", CONSTRAINT {c._meta.name} {c.ddl}" for c in table._meta.constraints)
    return [create[:-1] + inline + ")", *(s for s in rest if not s.startswith("ALTER TABLE"))]


async def _apply(engine: Engine, ledger: type[Migration], modules: list[ModuleType], backwards: bool) -> None:
    if not modules:
        return
    async with _begin(engine):  # MigrationManager.run()'s own transaction joins this one
        for module in modules:
            manager = await module.forwards()
            if isinstance(engine, SQLiteEngine):
                manager = _SQLiteMigrationManager(**{f.name: getattr(manager, f.name) for f in fields(manager)})
            with _quiet():
                await manager.run(backwards=backwards)
            if backwards:
                await ledger.delete().where((ledger.name == module.ID) & (ledger.app_name == APP_NAME))
            else:
                await ledger.insert(ledger(name=module.ID, app_name=APP_NAME))


def _begin(engine: Engine) -> Any:
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)  # a writer from the start
    return engine.transaction()


_QUIET: ContextVar[bool] = ContextVar("harness_piccolo_quiet", default=False)
"""True while the runner applies a migration in this task: Piccolo's progress line is left out."""


def _print_unless_quiet(*args: Any, **kwargs: Any) -> None:
    """`print` for Piccolo's migration_manager module: silent while `_quiet` is in effect in this task."""
    if not _QUIET.get():
        print(*args, **kwargs)


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep `MigrationManager.run()`'s progress line off stdout, in this task only (other tasks, threads and
    Piccolo's own CLI print as before)."""
    piccolo_migration_manager.print = _print_unless_quiet  # type: ignore[attr-defined]
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


class _SQLiteMigrationManager(MigrationManager):
    """Creates tables with their constraints inline (see `sqlite_create_table`). Adding a constraint to an
    existing table still fails on SQLite: Piccolo has no table-rebuild mode."""

    async def _run_query(self, query: Any) -> None:
        if isinstance(query, Create) and query.table._meta.constraints and not self.preview:
            for statement in sqlite_create_table(query.table):
                await query.table._meta.db.run_ddl(statement)
        else:
            await super()._run_query(query)


def _ledger(engine: Engine) -> type[Migration]:
    """Piccolo's bookkeeping table, bound to this engine rather than to the one `Migration` first found."""
    kwargs = {"tablename": Migration._meta.tablename, "db": engine}
    return cast(type[Migration], create_table_class(class_name="Migration", bases=(Migration,), class_kwargs=kwargs))


@cache
def _modules(ids: tuple[str, ...]) -> dict[str, ModuleType]:
    """The migration modules by Piccolo id; every file of the folder must belong to a harness revision."""
    found = {}
    for path in sorted(MIGRATIONS_FOLDER.glob("*.py")):
        if path.name != "__init__.py":
            module = importlib.import_module(f"{_PACKAGE}.{path.stem}")
            found[module.ID] = module
    if set(found) != set(ids):
        raise ConfigurationError(
            f"Piccolo migrations and harness revisions disagree: files {sorted(found)}, mapped {sorted(ids)}"
        )
    return found


_conf_lock = threading.Lock()
_conf_users = 0
_conf_saved: str | None = None


@contextmanager
def _piccolo_conf() -> Iterator[None]:
    """PICCOLO_CONF names our conf module while any migration runs; the previous value comes back after the last."""
    global _conf_users, _conf_saved
    with _conf_lock:
        if _conf_users == 0:
            _conf_saved = os.environ.get("PICCOLO_CONF")
            os.environ["PICCOLO_CONF"] = _CONF_MODULE
        _conf_users += 1
    try:
        yield
    finally:
        with _conf_lock:
            _conf_users -= 1
            if _conf_users == 0:
                if _conf_saved is None:
                    os.environ.pop("PICCOLO_CONF", None)
                else:
                    os.environ["PICCOLO_CONF"] = _conf_saved
