"""INTERIM, until revision 0003_tier_workloads exists in every adapter's migration tool: the EMBEDDINGS schema.

The migrations stop at 0002, while every adapter's models have what the tier workloads add: the `documents` table
with its vector column (docs/schema.md). `create_schema()` migrates to head and then runs these statements through
`execute`, so every database the tests and benchmarks create has them; the raw adapter's create-all path runs them
too. The raw baseline's DDL is written here once: it becomes the raw adapter's 0003 files, and the other tools' 0003
revisions are made from their models, when this module goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from harness.core.schema import EMBEDDING_DIMENSIONS

PENDING_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        f"""CREATE TABLE documents (
  id SERIAL PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  category VARCHAR(50) NOT NULL,
  embedding vector({EMBEDDING_DIMENSIONS}) NOT NULL)""",
        "CREATE INDEX ix_documents_category ON documents (category)",
    ),
    # SQLite has no vector type: the column keeps pgvector's text form, a JSON array, which sqlite-vec reads.
    "sqlite": (
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
    """Add the tier workloads' tables to a database at revision 0002."""
    for statement in PENDING_DDL[provider.dialect]:
        await provider.execute(statement)
