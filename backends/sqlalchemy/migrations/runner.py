"""Alembic, driven in-process from async code on a provider's own engine.

`migrate(engine, revision)` is Alembic's documented connection-sharing recipe: a `Config` built here (only
`script_location`, no alembic.ini, so no logging set up) whose `attributes["connection"]` is one of the provider's
connections, handed to env.py through `AsyncConnection.run_sync`. The harness's revision ids are Alembic's own (the
revisions were made with `--rev-id <harness id>`), so they pass through unchanged; None is Alembic's "base".
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import alembic
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

from harness.core.errors import ForeignKeyViolation
from harness.core.schema import REVISIONS

ALEMBIC_VERSION: str = alembic.__version__
SCRIPT_LOCATION = Path(__file__).parent
VERSION_TABLE = "alembic_version"

# Alembic's `op` and `context` are module-level proxies that a run installs for its duration: two runs interleaved
# at an await (two providers migrating from two tasks) would send one's operations to the other's connection. So
# one run at a time per process. A threading lock, polled, also holds across event loops in other threads, and a
# waiting task that is cancelled leaves nothing behind.
_ALEMBIC_PROXIES = threading.Lock()


@asynccontextmanager
async def _alembic_proxies() -> AsyncIterator[None]:
    while not _ALEMBIC_PROXIES.acquire(blocking=False):
        await asyncio.sleep(0.005)
    try:
        yield
    finally:
        _ALEMBIC_PROXIES.release()


async def migrate(engine: AsyncEngine, revision: str | None) -> None:
    """Upgrade or downgrade the database of `engine` to `revision` (None: base), all steps in one transaction."""
    async with _alembic_proxies(), engine.connect() as connection:
        await connection.run_sync(_migrate, revision or "base")


async def current(engine: AsyncEngine) -> str | None:
    """The revision alembic_version records (Alembic's `current`), None when there is no such table or row."""
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def _position(revision: str | None) -> int:
    return -1 if revision in (None, "base") else REVISIONS.index(revision)


def _migrate(connection: Connection, target: str) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch rebuild drops the old table: with foreign keys on, that deletes (ON DELETE CASCADE) every row
        # pointing at it. SQLite's recipe: keys off around the transaction (inside one the PRAGMA does nothing),
        # then foreign_key_check before commit.
        _set_foreign_keys(connection, on=False)
    try:
        # Alembic sees a transaction already open and adds none of its own (nor one per revision).
        with connection.begin(), _watch_writes(connection) as wrote:
            config = Config()
            config.set_main_option("script_location", str(SCRIPT_LOCATION))
            config.attributes["connection"] = connection
            current = MigrationContext.configure(connection).get_current_revision()
            if _position(target) > _position(current):
                command.upgrade(config, target)
            elif _position(target) < _position(current):
                command.downgrade(config, target)
            if sqlite and wrote and (orphans := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                raise ForeignKeyViolation(f"migrating to {target} broke foreign keys (rolled back): {orphans[:5]}")
    finally:
        if sqlite:
            _set_foreign_keys(connection, on=True)


def _set_foreign_keys(connection: Connection, *, on: bool) -> None:
    # On the DBAPI cursor: a SQLAlchemy execute would begin a transaction first.
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


_WRITE = re.compile(r"\s*(DROP\s+TABLE|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextmanager
def _watch_writes(connection: Connection) -> Iterator[list[str]]:
    """Collects the statements that could break a foreign key while keys are off: a dropped table, written rows
    (Alembic's own bookkeeping aside). foreign_key_check reads every child table (0.47 s with the 100,000-task
    dataset), so a revision that only adds a column or an index is not made to pay for it."""
    wrote: list[str] = []

    def watch(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if _WRITE.match(statement) and VERSION_TABLE not in statement:
            wrote.append(statement)

    event.listen(connection, "before_cursor_execute", watch)
    try:
        yield wrote
    finally:
        event.remove(connection, "before_cursor_execute", watch)
