"""INTERIM, until revision 0003_tier_workloads exists in every adapter's migration tool: the tier workloads' schema.

The migrations stop at 0002, while every adapter's models (and so its inserts of users) have what the tier
workloads add: `users.last_sign_in_at` and the unique index on lower(email), the `audit_events` table, the
`documents` table with its vector column, and the `follows` and `cache_entries` tables (docs/schema.md).
`create_schema()` migrates to head and then runs these statements through `execute`, so every database the tests
and benchmarks create has them; the raw adapter's create-all path runs them too. Migrating to base drops the tables
first (`drop_pending_tables`): follows references users, which the tools' own downgrades would otherwise fail to
drop on PostgreSQL. The raw baseline's DDL is written here once: it becomes the raw adapter's 0003 files, and the
other tools' 0003 revisions are made from their models, when this module goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from harness.core.schema import EMBEDDING_DIMENSIONS

PENDING_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMPTZ NULL",
        "CREATE UNIQUE INDEX ix_users_lower_email ON users (lower(email))",
        """CREATE TABLE audit_events (
  id SERIAL PRIMARY KEY,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
  actor_id INTEGER NOT NULL,
  action VARCHAR(50) NOT NULL,
  payload JSONB NOT NULL)""",
        "CREATE INDEX ix_audit_events_occurred_at ON audit_events (occurred_at)",
        "CREATE INDEX ix_audit_events_actor_id_occurred_at ON audit_events (actor_id, occurred_at)",
        f"""CREATE TABLE documents (
  id SERIAL PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  category VARCHAR(50) NOT NULL,
  embedding vector({EMBEDDING_DIMENSIONS}) NOT NULL)""",
        "CREATE INDEX ix_documents_category ON documents (category)",
        """CREATE TABLE follows (
  id SERIAL PRIMARY KEY,
  follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  followee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  UNIQUE (follower_id, followee_id))""",
        "CREATE INDEX ix_follows_followee_id ON follows (followee_id)",
        """CREATE TABLE cache_entries (
  key VARCHAR(255) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL)""",
        "CREATE INDEX ix_cache_entries_expires_at ON cache_entries (expires_at)",
    ),
    # SQLite's translation, as 0001_shared_schema.up.sqlite.sql makes it; its NOT NULL on a primary key that is not
    # the rowid is needed: SQLite would let such a key hold NULL (a documented quirk).
    "sqlite": (
        "ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMPTZ NULL",
        "CREATE UNIQUE INDEX ix_users_lower_email ON users (lower(email))",
        """CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
  actor_id INTEGER NOT NULL,
  action VARCHAR(50) NOT NULL,
  payload JSON NOT NULL)""",
        "CREATE INDEX ix_audit_events_occurred_at ON audit_events (occurred_at)",
        "CREATE INDEX ix_audit_events_actor_id_occurred_at ON audit_events (actor_id, occurred_at)",
        # SQLite has no vector type: the column keeps pgvector's text form, a JSON array, which sqlite-vec reads.
        f"""CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  category VARCHAR(50) NOT NULL,
  embedding vector({EMBEDDING_DIMENSIONS}) NOT NULL)""",
        "CREATE INDEX ix_documents_category ON documents (category)",
        """CREATE TABLE follows (
  id INTEGER PRIMARY KEY,
  follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  followee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  UNIQUE (follower_id, followee_id))""",
        "CREATE INDEX ix_follows_followee_id ON follows (followee_id)",
        """CREATE TABLE cache_entries (
  key VARCHAR(255) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL)""",
        "CREATE INDEX ix_cache_entries_expires_at ON cache_entries (expires_at)",
    ),
}
PENDING_TABLES = ("audit_events", "documents", "follows", "cache_entries")
"""The tables the statements above create, in creation order."""


class _Executes(Protocol):
    @property
    def dialect(self) -> str: ...

    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


async def create_pending_schema(provider: _Executes) -> None:
    """Add the tier workloads' columns, indexes and tables to a database at revision 0002."""
    for statement in PENDING_DDL[provider.dialect]:
        await provider.execute(statement)


async def drop_pending_tables(provider: _Executes) -> None:
    """Drop the tables above, if there, before a migration to base (see the module docstring)."""
    for table in reversed(PENDING_TABLES):
        await provider.execute(f"DROP TABLE IF EXISTS {table}")
