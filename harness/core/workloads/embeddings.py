"""EMBEDDINGS tier: nearest-neighbour search over the `documents` table's vectors (docs/schema.md).

Distances are cosine distances (1 - cosine similarity; the dataset's vectors have unit length, so the ranking is
the L2 one too), nearest first:
- `nearest_documents(query, k, category=None)`: exact top-k, every candidate row's distance computed. On PostgreSQL
  pgvector's `<=>`; no vector index is used because the dataset's table has none (`build_vector_index` adds one,
  after which the planner may answer through it).
- `build_vector_index(m, ef_construction)`: an HNSW index on the embeddings for cosine distance (PostgreSQL), built
  once; pgvector's index serves `ORDER BY embedding <=> query LIMIT k` (the operator, ascending), not a function.
- `approximate_nearest_documents(query, k, ef_search)`: top-k through that index, with `hnsw.ef_search` (the size
  of the candidate list the graph search keeps, so at most that many rows come back) set for its transaction only.
On SQLite the distance is sqlite-vec's `vec_distance_cosine` where the interpreter can load the extension
(harness/core/workloads/vector_support.py); otherwise, and for the index, the adapters declare the operations
`unavailable`, and calling one raises `OperationUnavailable` with the declared reason.

Each public method validates its input (`InvalidArgument`, before any statement), refuses an operation the adapter
declares unavailable, and calls the adapter's hook (`_nearest_documents`, ...). The hooks' defaults below are the
raw-SQL path, through `execute`; an adapter overrides a hook where its ORM (or a plugin for it) does the operation.
On that path a query vector travels as pgvector's text form, `[0.1,0.2,...]` (a JSON array too, which sqlite-vec
reads), bound as a `vector` parameter: converted once per execution, where a text parameter cast in the SQL would be
cast again for every row under a generic plan (measured: 40 ms instead of 2 ms for a filtered top-10 of 8,000).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, NamedTuple, Protocol

from harness.core.errors import InvalidArgument, OperationUnavailable
from harness.core.schema import EMBEDDING_DIMENSIONS

MAX_K = 1000
"""The most neighbours one search returns (pgvector's HNSW search returns at most `hnsw.ef_search` <= 1000)."""
HNSW_INDEX = "ix_documents_embedding_hnsw"


class Neighbour(NamedTuple):
    """One document of a nearest-neighbour answer: its id, title and cosine distance to the query."""

    id: int
    title: str
    distance: float


class _Provider(Protocol):
    """The part of a provider the defaults use (`BaseORMProvider` has all of it)."""

    name: ClassVar[str]
    capabilities: Any

    @property
    def dialect(self) -> str: ...

    async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...


def vector_text(vector: Sequence[float]) -> str:
    """pgvector's text form of a vector, `[0.1,0.2,...]` (also a JSON array)."""
    return "[" + ",".join(map(repr, vector)) + "]"


def nearest_sql(dialect: str, category: str | None) -> str:
    """The raw-SQL top-k: id, title and distance of the `:k` documents nearest to `:query` (in `:category`)."""
    if dialect == "postgresql":
        distance = "embedding <=> CAST(:query AS vector)"
    else:
        distance = "vec_distance_cosine(embedding, :query)"
    where = " WHERE category = :category" if category is not None else ""
    return f"SELECT id, title, {distance} AS distance FROM documents{where} ORDER BY distance LIMIT :k"


def neighbours(rows: Sequence[Mapping[str, Any]]) -> list[Neighbour]:
    """Rows with id, title and distance as `Neighbour`s of plain Python types."""
    return [Neighbour(int(row["id"]), str(row["title"]), float(row["distance"])) for row in rows]


def checked_query(query: Any) -> list[float]:
    """`query` as a list of `EMBEDDING_DIMENSIONS` finite Python floats, or `InvalidArgument`."""
    try:
        values = [float(x) for x in query]
    except (TypeError, ValueError):
        raise InvalidArgument(f"a query vector must be a sequence of numbers, got {type(query).__name__}") from None
    if len(values) != EMBEDDING_DIMENSIONS:
        raise InvalidArgument(f"a query vector must have {EMBEDDING_DIMENSIONS} dimensions, got {len(values)}")
    if not all(map(math.isfinite, values)):
        raise InvalidArgument("a query vector must hold finite numbers only (no NaN or infinity)")
    return values


def _check_count(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{what} must be an integer from {low} to {high}, got {value!r}")
    return value


def _check_category(category: Any) -> None:
    if category is not None and (not isinstance(category, str) or not category):
        raise InvalidArgument(f"a category must be a non-empty string or None, got {category!r}")


class EmbeddingsOperations:
    """Nearest-neighbour search (the EMBEDDINGS tier). Defaults: SQL through `execute`, per dialect."""

    OPERATIONS: ClassVar[tuple[str, ...]] = (
        "nearest_documents",
        "build_vector_index",
        "approximate_nearest_documents",
    )

    async def nearest_documents(
        self: _Provider, query: Sequence[float], k: int, category: str | None = None
    ) -> list[Neighbour]:
        """The `k` documents nearest to `query` (of `category` only, if given) by exact cosine distance, nearest
        first. One SELECT."""
        vector, k = checked_query(query), _check_count(k, "k", 1, MAX_K)
        _check_category(category)
        _check_available(self, "nearest_documents")
        return await self._nearest_documents(vector, k, category)  # type: ignore[attr-defined]

    async def build_vector_index(self: _Provider, m: int = 16, ef_construction: int = 64) -> None:
        """Build the HNSW index for cosine distance on `documents.embedding` (pgvector's defaults: `m` links per
        node, `ef_construction` candidates while building, at least 2 * m); nothing if it exists. One statement."""
        _check_count(m, "m", 2, 100)
        _check_count(ef_construction, "ef_construction", 2 * m, 1000)
        _check_available(self, "build_vector_index")
        await self._build_vector_index(m, ef_construction)  # type: ignore[attr-defined]

    async def approximate_nearest_documents(
        self: _Provider, query: Sequence[float], k: int, ef_search: int
    ) -> list[Neighbour]:
        """The `k` documents nearest to `query` as the HNSW index finds them (`build_vector_index` first), nearest
        first, searching with `hnsw.ef_search = ef_search` (at least k). In one transaction: the setting, then one
        SELECT."""
        vector, k = checked_query(query), _check_count(k, "k", 1, MAX_K)
        _check_count(ef_search, "ef_search", k, MAX_K)
        _check_available(self, "approximate_nearest_documents")
        return await self._approximate_nearest_documents(vector, k, ef_search)  # type: ignore[attr-defined]

    # -- the raw-SQL defaults ---------------------------------------------------------------------------

    async def _nearest_documents(self: _Provider, query: list[float], k: int, category: str | None) -> list[Neighbour]:
        params: dict[str, Any] = {"query": vector_text(query), "k": k}
        if category is not None:
            params["category"] = category
        return neighbours(await self.execute(nearest_sql(self.dialect, category), params))

    async def _build_vector_index(self: _Provider, m: int, ef_construction: int) -> None:
        # DDL takes no bind parameters: m and ef_construction are checked integers.
        await self.execute(
            f"CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON documents USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {m}, ef_construction = {ef_construction})"
        )

    async def _approximate_nearest_documents(
        self: _Provider, query: list[float], k: int, ef_search: int
    ) -> list[Neighbour]:
        async with self.transaction():
            # set_config(..., true) is SET LOCAL with a bind parameter: the setting ends with the transaction.
            await self.execute("SELECT set_config('hnsw.ef_search', :ef_search, true)", {"ef_search": str(ef_search)})
            rows = await self.execute(nearest_sql(self.dialect, None), {"query": vector_text(query), "k": k})
        return neighbours(rows)


def _check_available(provider: _Provider, operation: str) -> None:
    path = provider.capabilities.paths.get(operation)
    if path is not None and path.kind == "unavailable":
        raise OperationUnavailable(f"{provider.name} cannot run {operation} on {provider.dialect}: {path.note}")
