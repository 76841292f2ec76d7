"""The EMBEDDINGS tier operations (harness/core/workloads/embeddings.py), every adapter x database, against numpy's
answers on the contract dataset; how each adapter declares them; and the benchmark skipping, with its recorded
reason, what an adapter declares unavailable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pytest

from harness.core.adapters import CONTRACT
from harness.core.config import DatabaseConfig
from harness.core.contract import BaseORMProvider
from harness.core.dataset import CATEGORIES, DatasetSize, generate
from harness.core.errors import InvalidArgument, OperationUnavailable
from harness.core.factory import adapter_class
from harness.core.schema import EMBEDDING_DIMENSIONS
from harness.core.statements import capture
from harness.core.workloads.embeddings import HNSW_INDEX, EmbeddingsOperations, vector_text
from scenarios.embeddings import check_exact, in_category, recall, true_distances
from tests.conftest import Loaded

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = EmbeddingsOperations.OPERATIONS


def path_of(p: BaseORMProvider, operation: str) -> Any:
    return p.capabilities.paths[operation]


def runnable(p: BaseORMProvider, operation: str) -> None:
    """Skip, with the adapter's declared reason, where it cannot run `operation` (vectors on this SQLite)."""
    if (path := path_of(p, operation)).kind == "unavailable":
        pytest.skip(f"{p.name} declares {operation} unavailable on {p.dialect}: {path.note}")


def queries(db: Loaded) -> list[list[float]]:
    return db.dataset.query_vectors.tolist()


# --- declarations ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("adapter", CONTRACT)
def test_every_operation_is_declared_and_the_declaration_matches_the_code(adapter: str, dialect: str) -> None:
    """`native`/`plugin` exactly where the adapter overrides the operation's hook, `raw SQL` where it inherits the
    default; `unavailable` either way, with a reason. The raw baseline's SQL is its native path."""
    url = "sqlite:///unused.sqlite" if dialect == "sqlite" else "postgresql://user@localhost/unused"
    provider_class = adapter_class(adapter)
    paths = provider_class(DatabaseConfig(url)).capabilities.paths
    assert set(OPERATIONS) <= set(paths)
    for operation in OPERATIONS:
        path = paths[operation]
        assert path.note.strip(), (adapter, operation)
        overridden = f"_{operation}" in vars(provider_class)
        if path.kind == "unavailable" or adapter == "raw":
            assert path.kind in ("native", "unavailable"), (adapter, operation)
        else:
            assert path.kind == ("native" if overridden else "raw SQL") or (overridden and path.kind == "plugin"), (
                adapter,
                dialect,
                operation,
                path.kind,
            )


async def test_an_unavailable_operation_raises_its_reason_before_any_statement(db: Loaded) -> None:
    p = db.provider
    unavailable = [op for op in OPERATIONS if path_of(p, op).kind == "unavailable"]
    if not unavailable:
        pytest.skip(f"{p.name} runs every vector operation on {p.dialect}")
    calls = {
        "nearest_documents": lambda: p.nearest_documents(queries(db)[0], 3),
        "build_vector_index": lambda: p.build_vector_index(),
        "approximate_nearest_documents": lambda: p.approximate_nearest_documents(queries(db)[0], 3, 40),
    }
    for operation in unavailable:
        async with capture() as log:
            with pytest.raises(OperationUnavailable) as refused:
                await calls[operation]()
        assert path_of(p, operation).note in str(refused.value)
        assert log.statements == []


# --- exact search ------------------------------------------------------------------------------------


async def test_nearest_documents_are_the_exact_top_k_nearest_first(db: Loaded) -> None:
    p = db.provider
    runnable(p, "nearest_documents")
    for query in queries(db)[:3]:
        for k in (1, 7):
            found = await p.nearest_documents(query, k)
            check_exact(found, db.dataset.document_vectors, query, k)
            assert [n.title for n in found] == [db.dataset.documents[n.id - 1]["title"] for n in found]


async def test_nearest_documents_in_a_category_search_only_that_category(db: Loaded) -> None:
    p = db.provider
    runnable(p, "nearest_documents")
    query = queries(db)[1]
    for category in CATEGORIES[:3]:
        found = await p.nearest_documents(query, 5, category)
        check_exact(found, db.dataset.document_vectors, query, 5, in_category(db.dataset, category))
    assert await p.nearest_documents(query, 5, "no such category") == []


async def test_nearest_documents_sends_one_query(db: Loaded) -> None:
    p = db.provider
    runnable(p, "nearest_documents")
    async with capture() as log:
        await p.nearest_documents(queries(db)[0], 4, CATEGORIES[0])
    assert log.queries == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": [0.1] * (EMBEDDING_DIMENSIONS - 1), "k": 3}, "384 dimensions"),
        ({"query": [float("nan")] * EMBEDDING_DIMENSIONS, "k": 3}, "finite"),
        ({"query": "not a vector", "k": 3}, "sequence of numbers"),
        ({"query": [0.1] * EMBEDDING_DIMENSIONS, "k": 0}, "k must be"),
        ({"query": [0.1] * EMBEDDING_DIMENSIONS, "k": True}, "k must be"),
        ({"query": [0.1] * EMBEDDING_DIMENSIONS, "k": 3, "category": ""}, "category"),
    ],
)
async def test_bad_arguments_are_refused_before_any_statement(
    db: Loaded, arguments: dict[str, Any], message: str
) -> None:
    async with capture() as log:
        with pytest.raises(InvalidArgument, match=message):
            await db.provider.nearest_documents(**arguments)
        with pytest.raises(InvalidArgument, match="ef_search"):
            await db.provider.approximate_nearest_documents([0.1] * EMBEDDING_DIMENSIONS, 10, 5)
        with pytest.raises(InvalidArgument, match="ef_construction"):
            await db.provider.build_vector_index(m=16, ef_construction=20)
    assert log.statements == []


async def test_documents_keep_their_embeddings(db: Loaded) -> None:
    p = db.provider
    for document_id in (1, len(db.dataset.documents)):
        stored = await p.get(p.models.Document, {"id": document_id})
        assert stored is not None and isinstance(stored.embedding, list)
        assert stored.title == db.dataset.documents[document_id - 1]["title"]
        assert np.allclose(stored.embedding, db.dataset.document_vectors[document_id - 1], atol=1e-6)


# --- approximate search ------------------------------------------------------------------------------


async def test_the_hnsw_index_answers_the_approximate_search(fresh: Loaded) -> None:
    """Built twice (the second is a no-op), the index can serve the adapter's own SELECT (EXPLAIN of the statement
    it sent, with the same values; sequential scans off, as on 200 rows a scan and sort costs less), and its answers
    are real neighbours, found with high recall."""
    p = fresh.provider
    runnable(p, "approximate_nearest_documents")
    await p.build_vector_index(m=16, ef_construction=64)
    await p.build_vector_index(m=16, ef_construction=64)
    vectors, scores = fresh.dataset.document_vectors, []
    for query in queries(fresh):
        async with capture() as log:
            found = await p.approximate_nearest_documents(query, 5, 40)
        assert len({n.id for n in found}) == len(found) == 5
        assert np.allclose(
            [n.distance for n in found], true_distances(vectors, query, [n.id for n in found]), atol=1e-4
        )
        scores.append(recall(found, vectors, query, 5))
    assert np.mean(scores) >= 0.9
    assert log.queries == 2  # the setting, then the search, in one transaction
    search = next(s.sql for s in log.statements if "LIMIT" in s.sql)  # its parameters: the query vector, then k
    connection = await asyncpg.connect(p.config.postgres_dsn)
    try:
        await connection.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {search}", vector_text(query), 5))
    finally:
        await connection.close()
    assert HNSW_INDEX in plan, plan


# --- data --------------------------------------------------------------------------------------------


def test_the_embeddings_are_seeded_unit_vectors_in_topics() -> None:
    size = DatasetSize(users=1, documents=400, embedding_queries=5)
    first, again, other = generate(size), generate(size), generate(size, seed=7)
    assert np.array_equal(first.document_vectors, again.document_vectors)
    assert not np.array_equal(first.document_vectors, other.document_vectors)
    vectors = first.document_vectors
    assert vectors.shape == (400, EMBEDDING_DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert first.query_vectors.shape == (5, EMBEDDING_DIMENSIONS)
    assert {d["category"] for d in first.documents} == set(CATEGORIES)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1)
    # Topics: every document has neighbours far closer than a random pair of documents.
    assert similarity.max(axis=1).min() > 0.4 > float(np.abs(similarity[similarity > -1]).mean()) + 0.3


# --- the benchmark's skip --------------------------------------------------------------------------------


def test_a_benchmark_whose_operation_is_unavailable_is_skipped_and_its_reason_recorded(tmp_path: Path) -> None:
    """No approximate index on SQLite: every adapter declares so; the suite skips knn_hnsw there, with the reason,
    and records it in the run's facts (pytest-benchmark writes them with the benchmarks that ran: count's)."""
    target = tmp_path / "benchmark.json"
    command = [
        *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/benchmarks/test_scenarios.py"),
        *(
            "--benchmark-only",
            "--quick",
            "--db",
            "sqlite",
            "--adapters",
            "raw,piccolo",
            "--scenarios",
            "knn_hnsw,count",
        ),
        *(f"--benchmark-json={target}", "-rs"),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "2 passed, 2 skipped" in done.stdout and "No approximate index on SQLite" in done.stdout
    run = json.loads(target.read_text())
    assert sorted(b["name"] for b in run["benchmarks"]) == ["test_count[piccolo-sqlite]", "test_count[raw-sqlite]"]
    skipped = run["machine_info"]["harness"]["skipped"]
    assert sorted((s["adapter"], s["scenario"], s["database"]) for s in skipped) == [
        ("piccolo", "knn_hnsw", "sqlite"),
        ("raw", "knn_hnsw", "sqlite"),
    ]
    assert all("No approximate index on SQLite" in s["reason"] for s in skipped)
