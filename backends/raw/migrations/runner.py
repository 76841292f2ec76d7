"""Apply the raw baseline's versioned SQL files: the smallest migration tool that does the job.

A revision of `harness.core.schema.REVISIONS` is four files in this folder, `<revision>.<up|down>.<dialect>.sql`,
written by hand (there are no models to generate them from); the harness ids are the file names, so no
mapping is needed. Each file runs as one transaction together with its bookkeeping row in
`harness_migrations(revision, applied_at)`: a file that fails leaves the schema and the bookkeeping as they
were. Going to base also drops `harness_migrations`, so base is an empty database.

A SQLite file that rebuilds a table (SQLite's 12-step procedure: its ALTER TABLE cannot change a constraint or a
type) puts the line `-- runner: foreign_keys off` in its header: the file then runs with foreign keys off, so
dropping the old table cascades nothing, and `PRAGMA foreign_key_check` runs before COMMIT. Files that don't
ask for it skip that check, a scan of every table (0.5 s with the 100,000-task dataset).

The runner holds no state: it drives whatever `ScriptRunner` it is given (the provider's own pool or
connection), so providers on different databases migrate at once without sharing anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from harness.core.errors import ConfigurationError
from harness.core.schema import REVISIONS

FOLDER = Path(__file__).parent
BOOKKEEPING = "harness_migrations"
FOREIGN_KEYS_OFF = "-- runner: foreign_keys off"
_CREATE_BOOKKEEPING = f"""CREATE TABLE IF NOT EXISTS {BOOKKEEPING} (
  revision TEXT PRIMARY KEY,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)"""

Direction = Literal["up", "down"]


class ScriptRunner(Protocol):
    def fetch(self, sql: str, params: Sequence[Any]) -> Awaitable[list[Any]]: ...

    async def script(self, sql: str) -> None:
        """Run several statements, each on its own (autocommit)."""

    async def atomic_script(self, sql: str, *, foreign_keys_off: bool = False) -> None:
        """Run several statements as one transaction: all of them or none. `foreign_keys_off` (SQLite): foreign
        keys off during the transaction and every table checked before COMMIT, for a table rebuild."""


def migration_file(revision: str, direction: Direction, dialect: str) -> Path:
    return FOLDER / f"{revision}.{direction}.{dialect}.sql"


async def create_all(db: ScriptRunner, dialect: str) -> None:
    """The head schema without bookkeeping: every up file, in one transaction (the raw baseline has no models
    to create tables from, and a second copy of the DDL would drift from the migrations)."""
    await db.atomic_script("\n".join(migration_file(r, "up", dialect).read_text() for r in REVISIONS))


async def migrate(db: ScriptRunner, dialect: str, target: str | None) -> None:
    """Apply up files or down files, one transaction each, until the database is at `target` (None: base)."""
    await db.script(_CREATE_BOOKKEEPING)
    applied = {row[0] for row in await db.fetch(f"SELECT revision FROM {BOOKKEEPING}", [])}
    current = len(applied)
    if applied != set(REVISIONS[:current]):
        raise ConfigurationError(
            f"{BOOKKEEPING} lists {', '.join(sorted(applied))}: not a prefix of {', '.join(REVISIONS)}"
        )
    goal = 0 if target is None else REVISIONS.index(target) + 1
    for revision in REVISIONS[current:goal]:
        await _apply(db, revision, "up", dialect)
    for revision in reversed(REVISIONS[goal:current]):
        await _apply(db, revision, "down", dialect)
    if target is None:
        await db.script(f"DROP TABLE {BOOKKEEPING}")


async def applied(db: ScriptRunner, dialect: str) -> list[str]:
    """The revisions `harness_migrations` records; none without the table (base, or a create-all database)."""
    if dialect == "postgresql":
        exists = f"SELECT to_regclass('{BOOKKEEPING}') IS NOT NULL"
    else:
        exists = f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{BOOKKEEPING}'"
    if not (await db.fetch(exists, []))[0][0]:
        return []
    return [row[0] for row in await db.fetch(f"SELECT revision FROM {BOOKKEEPING}", [])]


async def _apply(db: ScriptRunner, revision: str, direction: Direction, dialect: str) -> None:
    """One file and its bookkeeping row, in one transaction."""
    sql = migration_file(revision, direction, dialect).read_text()
    # Revision ids are the constants of REVISIONS (the contract checks `revision`): safe to inline, which puts
    # the bookkeeping statement in the file's script and so in its transaction.
    if direction == "up":
        bookkeeping = f"INSERT INTO {BOOKKEEPING} (revision) VALUES ('{revision}')"
    else:
        bookkeeping = f"DELETE FROM {BOOKKEEPING} WHERE revision = '{revision}'"
    await db.atomic_script(f"{sql}\n{bookkeeping};", foreign_keys_off=FOREIGN_KEYS_OFF in sql.splitlines())
