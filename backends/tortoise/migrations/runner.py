"""Run aerich 0.10.1 programmatically for one TortoiseProvider, inside the provider's own TortoiseContext.

aerich works on the current TortoiseContext (it finds connections and models through Tortoise's context variable,
which the provider sets), but keeps three things process-wide, which this module sets around each call:

- `aerich.migrate.Migrate`'s class attributes (app, migrations folder, dialect, DDL generator, last state), set by
  `Command.init()`;
- the bookkeeping model `aerich.models.Aerich`, one class, which Tortoise binds to one connection name and one
  dialect. It is added to the provider's app only for the call (so create-all and the provider's other calls never
  see it, and create no `aerich` table) and bound to the provider's connection;
- `Command`'s own context manager, which closes the current context's connections on exit: not used.

One lock per event loop serialises the calls, so two providers (SQLite and PostgreSQL, say) migrating from concurrent
tasks take turns instead of overwriting each other's settings. A migration is rare and short next to the queries it
would otherwise race with; no other provider call takes the lock.
"""

from __future__ import annotations

import asyncio
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from aerich import Command
from aerich.migrate import Migrate
from aerich.models import Aerich
from aerich.utils import import_py_module
from tortoise.context import TortoiseContext
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

APP = "models"
LOCATION = Path(__file__).resolve().parent
"""aerich keeps an app's revisions in `<location>/<app>/`: here, backends/tortoise/migrations/models/."""

BOOKKEEPING_TABLE = "aerich"
"""aerich's model has no table name of its own: Tortoise names it after the class."""

_LOCKS: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def aerich_config(config: dict[str, Any]) -> dict[str, Any]:
    """The provider's Tortoise config with aerich's model listed, as aerich's own CLI would be given it. aerich reads
    only the app's connection name from it: the context is initialised already, so `Command.init()` does not."""
    app = config["apps"][APP]
    return {**config, "apps": {APP: {**app, "models": [*app["models"], "aerich.models"]}}}


async def migrate(ctx: TortoiseContext, config: dict[str, Any], target: str | None) -> None:
    """Upgrade or downgrade the provider's database to the aerich version file `target` (a file stem such as
    "1_20261123163624_task_due_date"), or to nothing at all (None), the `aerich` table included.
    The caller has made `ctx` current."""
    loop = asyncio.get_running_loop()
    async with _LOCKS.setdefault(loop, asyncio.Lock()):
        alias = config["apps"][APP]["default_connection"]
        with _aerich_model_bound(ctx, alias):
            command = Command(tortoise_config=aerich_config(config), app=APP, location=str(LOCATION))
            await command.init()
            try:
                applied = {v.removesuffix(".py") for v in await command.get_applied_migrations(APP)}
            except OperationalError:  # a fresh database: no aerich table yet
                applied = set()
            modules = Migrate.get_all_version_modules()
            names = [m.name for m in modules]
            wanted = names.index(target) + 1 if target is not None else 0
            for module in modules[:wanted]:
                if module.name not in applied:
                    await _upgrade(ctx, command, module, alias)
            if newer := [name for name in names[wanted:] if name in applied]:
                # aerich reverts that version and every later one, newest first, each in a transaction that also
                # deletes its aerich row.
                await command.downgrade(version=_number(newer[0]), delete=False)
            if target is None:
                await ctx.db(alias).execute_script(f'DROP TABLE IF EXISTS "{BOOKKEEPING_TABLE}"')


async def applied(ctx: TortoiseContext, config: dict[str, Any]) -> list[str]:
    """The aerich version files (stems) the `aerich` table records as applied; none without the table. The caller
    has made `ctx` current."""
    loop = asyncio.get_running_loop()
    async with _LOCKS.setdefault(loop, asyncio.Lock()):
        with _aerich_model_bound(ctx, config["apps"][APP]["default_connection"]):
            try:
                return [v.removesuffix(".py") for v in await Command.get_applied_migrations(APP)]
            except OperationalError:  # no aerich table: a fresh database, or one made by create-all
                return []


async def _upgrade(ctx: TortoiseContext, command: Command, module: pkgutil.ModuleInfo, alias: str) -> None:
    """One step of `Command.upgrade()`'s loop, which itself can only go to the newest file."""
    file = module.name + ".py"
    if getattr(import_py_module(module), "RUN_IN_TRANSACTION", True):
        async with in_transaction(alias) as connection:
            await command._upgrade(connection, file, version_module=module)
    else:
        await command._upgrade(ctx.db(alias), file, version_module=module)


def _number(version: str) -> int:
    """aerich numbers its files: "1_20261123163624_task_due_date" is version 1."""
    return int(version.split("_", 1)[0])


@contextmanager
def _aerich_model_bound(ctx: TortoiseContext, alias: str) -> Iterator[None]:
    """Register aerich's model in the provider's app for the block, bound to the provider's connection: what
    Tortoise's own init does to every configured model (its connection name, then the dialect's base query)."""
    apps = ctx.apps
    assert apps is not None, "connect() initialises the provider's context"
    models = apps.apps[APP]
    Aerich._meta.app = APP
    Aerich._meta.default_connection = alias
    models[Aerich.__name__] = Aerich
    try:
        apps._init_relations()  # names the table "aerich" the first time
        apps._build_initial_querysets()
        yield
    finally:
        del models[Aerich.__name__]
