"""embeddings: the EMBEDDINGS tier's work: store vectors, find a query's nearest documents, exactly and through an
approximate (HNSW) index (harness/core/workloads/embeddings.py has the operations, docs/schema.md the table).

Every answer is checked against numpy: the exact top-k of the same float32 vectors, in float64 (`exact_neighbours`).
Two answers can differ where two documents are equally near, and the database computes in float32, so a check
compares distances (`check_exact`): the k distances returned must be the k smallest, each the document's true
distance, within `TOLERANCE`. The query vectors are the dataset's (`Dataset.query_vectors`), made as Python lists
in the untimed setup, so a round times the adapter's search, not the conversion.

`knn_hnsw` runs on a database of its own (`Scenario.prepare`): the HNSW index would serve the exact searches of the
shared database too. Its documents are the same for every adapter (`hnsw_dataset`), loaded through the raw adapter,
and numerous enough for PostgreSQL's planner to choose the index (its check asks); the index is then built once
through the adapter's own `build_vector_index`, untimed. Its recall@k (the share of the exact top-k the index
finds, over every query vector of that dataset) is measured after the timed rounds and recorded with the benchmark
(`extra_info["quality"]`, harness/bench/extra_info.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset, DatasetSize, generate, load
from harness.core.factory import adapter_class
from harness.core.workloads.embeddings import HNSW_INDEX, Neighbour, nearest_sql, vector_text
from scenarios.base import Scenario, ScenarioFailed, Sizes, expect

K = 10
EF_SEARCH = 40
"""`hnsw.ef_search` of the approximate search, set explicitly (it is pgvector's default)."""
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
"""The index's build parameters (pgvector's defaults)."""
RECALL_QUERIES = 50
"""Query vectors the recall is measured over."""
TOLERANCE = 1e-4
"""How far a distance the database reports (float32 arithmetic) may be from numpy's (float64)."""


def exact_neighbours(
    vectors: np.ndarray, query: Any, k: int, among: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, distances) of the exact top-k by cosine distance, nearest first: numpy's answer. `vectors` row i is
    document i + 1; `among` restricts the candidates to those rows (a boolean mask)."""
    matrix = vectors.astype(np.float64)
    target = np.asarray(query, dtype=np.float64)
    distances = 1.0 - (matrix @ target) / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(target))
    if among is not None:
        distances = np.where(among, distances, np.inf)
    order = np.argsort(distances, kind="stable")[:k]
    order = order[np.isfinite(distances[order])]  # fewer than k candidates: all of them
    return order + 1, distances[order]


def true_distances(vectors: np.ndarray, query: Any, ids: list[int]) -> np.ndarray:
    """numpy's cosine distance of each of `ids` to `query`."""
    rows = vectors[np.asarray(ids, dtype=np.int64) - 1].astype(np.float64)
    target = np.asarray(query, dtype=np.float64)
    return 1.0 - (rows @ target) / (np.linalg.norm(rows, axis=1) * np.linalg.norm(target))


def check_exact(
    found: list[Neighbour], vectors: np.ndarray, query: Any, k: int, among: np.ndarray | None = None
) -> None:
    """Raise `ScenarioFailed` unless `found` is an exact top-k of `query`, nearest first (see the module docstring)."""
    _, best = exact_neighbours(vectors, query, k, among)
    ids = [n.id for n in found]
    expect(len(found), len(best), "neighbours returned")
    expect(len(set(ids)), len(ids), "distinct neighbours")
    if among is not None and not all(among[i - 1] for i in ids):
        raise ScenarioFailed(f"neighbours outside the filter: {[i for i in ids if not among[i - 1]]}")
    reported = np.array([n.distance for n in found])
    true = true_distances(vectors, query, ids)
    if not np.allclose(reported, true, atol=TOLERANCE):
        raise ScenarioFailed(f"distances reported {reported.round(6)} are not the documents' {true.round(6)}")
    if not np.allclose(np.sort(true), best, atol=TOLERANCE) or np.any(np.diff(reported) < -TOLERANCE):
        raise ScenarioFailed(f"not the exact top-{k} nearest first: distances {true.round(6)}, best {best.round(6)}")


def recall(found: list[Neighbour], vectors: np.ndarray, query: Any, k: int) -> float:
    """The share of the exact top-k that `found` holds: a document counts when it is within the k-th exact
    distance (ties and float32 rounding allowed for by `TOLERANCE`)."""
    _, best = exact_neighbours(vectors, query, k)
    true = true_distances(vectors, query, [n.id for n in found]) if found else np.array([])
    return float(np.sum(true <= best[-1] + TOLERANCE) / k)


def in_category(data: Dataset, category: str) -> np.ndarray:
    return np.array([d["category"] == category for d in data.documents])


# --- the scenarios -----------------------------------------------------------------------------------


async def vector_bulk_load(p: BaseORMProvider, data: Dataset, size: int, rows: list[dict[str, Any]]) -> int:
    """Insert 500 documents with 384-dimension embeddings in one bulk call."""
    return await p.create_many(p.models.Document, rows)


async def knn_exact(p: BaseORMProvider, data: Dataset, query: list[float]) -> list[Neighbour]:
    """Exact top-10 nearest documents of a query by cosine distance (every row's distance computed)."""
    return await p.nearest_documents(query, K)


async def knn_filtered(p: BaseORMProvider, data: Dataset, query: list[float], category: str) -> list[Neighbour]:
    """Exact top-10 nearest documents of a query within one category (one in eight documents)."""
    return await p.nearest_documents(query, K, category)


async def knn_hnsw(p: BaseORMProvider, data: Dataset, size: int, query: list[float]) -> list[Neighbour]:
    """Approximate top-10 nearest documents through an HNSW index (ef_search 40), its recall@10 recorded."""
    return await p.approximate_nearest_documents(query, K, EF_SEARCH)


# --- untimed steps -----------------------------------------------------------------------------------


async def _drop_new_documents(p: BaseORMProvider, data: Dataset, size: int = 0) -> None:
    await p.delete(p.models.Document, {"id__gt": len(data.documents)})


async def _prepare_bulk_load(p: BaseORMProvider, data: Dataset, size: int) -> dict[str, Any]:
    await _drop_new_documents(p, data)
    vectors = np.resize(data.document_vectors, (size, data.document_vectors.shape[1]))
    rows = [{"title": f"loaded {n}", "category": "news", "embedding": v} for n, v in enumerate(vectors.tolist())]
    return {"rows": rows}


async def _check_bulk_load(p: BaseORMProvider, data: Dataset, inserted: int, size: int, rows: Any) -> int:
    expect(inserted, size, "create_many reported")
    added = {"id__gt": len(data.documents)}  # ids go on counting where earlier rounds stopped (sequences)
    expect(await p.count(p.models.Document, added), size, "documents added")
    for order, row in (("id", rows[0]), ("-id", rows[-1])):
        stored = await p.get_many(p.models.Document, added, limit=1, order_by=order)
        if not np.allclose(stored[0].embedding, row["embedding"], atol=1e-6):
            raise ScenarioFailed(f"document {stored[0].id} does not hold the embedding inserted")
    return size


async def _first_query(p: BaseORMProvider, data: Dataset) -> dict[str, Any]:
    return {"query": data.query_vectors[0].tolist()}


async def _check_knn_exact(p: BaseORMProvider, data: Dataset, found: list[Neighbour], query: list[float]) -> int:
    check_exact(found, data.document_vectors, query, K)
    expect([n.title for n in found], [data.documents[n.id - 1]["title"] for n in found], "titles")
    return len(found)


async def _first_query_and_category(p: BaseORMProvider, data: Dataset) -> dict[str, Any]:
    return {"query": data.query_vectors[0].tolist(), "category": data.documents[0]["category"]}


async def _check_knn_filtered(
    p: BaseORMProvider, data: Dataset, found: list[Neighbour], query: list[float], category: str
) -> int:
    check_exact(found, data.document_vectors, query, K, in_category(data, category))
    return len(found)


@cache
def hnsw_dataset(size: int) -> Dataset:
    """`size` documents and their query vectors, nothing else: the approximate search's own database."""
    return generate(
        DatasetSize(
            users=0,
            tasks_per_user=0,
            comments_per_task=0,
            tags=0,
            tags_per_task=0,
            documents=size,
            embedding_queries=RECALL_QUERIES,
        )
    )


async def _fill_and_index(p: BaseORMProvider, size: int) -> None:
    """The documents of `hnsw_dataset(size)`, the same for every adapter through the raw adapter, then the index
    built through the adapter's own `build_vector_index`."""
    raw = adapter_class("raw")(DatabaseConfig(p.config.url, pool_min=1, pool_max=1))
    await raw.connect()
    try:
        await load(raw, hnsw_dataset(size))
    finally:
        await raw.disconnect()
    await p.build_vector_index(HNSW_M, HNSW_EF_CONSTRUCTION)


async def _hnsw_query(p: BaseORMProvider, data: Dataset, size: int) -> dict[str, Any]:
    return {"query": hnsw_dataset(size).query_vectors[0].tolist()}


async def _check_knn_hnsw(p: BaseORMProvider, data: Dataset, found: list[Neighbour], size: int, query: Any) -> int:
    """The index's answer is approximate: k distinct documents, each at its true distance, nearest first; and the
    planner does answer such a search through the index at this size (on 1,000 rows PostgreSQL 18 prefers a
    sequential scan and a sort; tests/test_tier_embeddings.py shows each adapter's SELECT has the indexable form)."""
    plan = await p.execute(f"EXPLAIN {nearest_sql(p.dialect, None)}", {"query": vector_text(query), "k": K})
    if not any(HNSW_INDEX in str(row) for row in plan):
        raise ScenarioFailed(f"the planner does not use {HNSW_INDEX} for a top-{K} search of {size} documents")
    vectors = hnsw_dataset(size).document_vectors
    ids = [n.id for n in found]
    expect(len(found), K, "neighbours returned")
    expect(len(set(ids)), K, "distinct neighbours")
    reported = np.array([n.distance for n in found])
    if not np.allclose(reported, true_distances(vectors, query, ids), atol=TOLERANCE):
        raise ScenarioFailed("the distances reported are not the documents' distances to the query")
    expect(bool(np.all(np.diff(reported) >= -TOLERANCE)), True, "nearest first")
    return len(found)


async def _hnsw_recall(p: BaseORMProvider, data: Dataset, found: list[Neighbour], size: int, query: Any) -> Any:
    """Recall@k of the index over every query vector of the dataset, with the search's settings."""
    own = hnsw_dataset(size)
    answers = [await p.approximate_nearest_documents(q, K, EF_SEARCH) for q in own.query_vectors.tolist()]
    scores = [recall(a, own.document_vectors, q, K) for a, q in zip(answers, own.query_vectors, strict=True)]
    return {
        "recall_at_k": round(float(np.mean(scores)), 4),
        "k": K,
        "queries": len(scores),
        "ef_search": EF_SEARCH,
        "m": HNSW_M,
        "ef_construction": HNSW_EF_CONSTRUCTION,
    }


async def one_query(p: BaseORMProvider, data: Dataset) -> int:
    return 1


SCENARIOS = (
    Scenario(
        vector_bulk_load,
        "embeddings",
        _check_bulk_load,
        setup=_prepare_bulk_load,
        restore=_drop_new_documents,
        parameter="size",
        sizes=Sizes(quick=100, full=500),
    ),
    Scenario(
        knn_exact,
        "embeddings",
        _check_knn_exact,
        setup=_first_query,
        expected_queries=one_query,
        operations=("nearest_documents",),
    ),
    Scenario(
        knn_filtered,
        "embeddings",
        _check_knn_filtered,
        setup=_first_query_and_category,
        expected_queries=one_query,
        operations=("nearest_documents",),
    ),
    Scenario(
        knn_hnsw,
        "embeddings",
        _check_knn_hnsw,
        setup=_hnsw_query,
        parameter="size",
        sizes=Sizes(quick=2000, full=5000),
        prepare=_fill_and_index,
        quality=_hnsw_recall,
        operations=("build_vector_index", "approximate_nearest_documents"),
    ),
)
