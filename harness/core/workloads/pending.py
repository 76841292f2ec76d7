"""INTERIM, until revision 0003_tier_workloads exists in every adapter's migration tool: the tier workloads' schema.

The migrations stop at 0002, while every adapter's models (and so its inserts of users) have what the tier
workloads add: `users.last_sign_in_at` and the unique index on lower(email), the `audit_events` table, and the
`documents` table with its vector column (docs/schema.md). `create_schema()` migrates to head and then runs these
statements through `execute`, so every database the tests and benchmarks create has them; the raw adapter's
create-all path runs them too. The raw baseline's DDL is written here once: it becomes the raw adapter's 0003 files,
and the other tools' 0003 revisions are made from their models, when this module goes.
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
    ),
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
    ),
}


class _Executes(Protocol):
    @property
    def dialect(self) -> str: ...

    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


async def create_pending_schema(provider: _Executes) -> None:
    """Add the tier workloads' columns, indexes and tables to a database at revision 0002."""
    for statement in PENDING_DDL[provider.dialect]:
        await provider.execute(statement)
