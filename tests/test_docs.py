"""The documentation cites the repository itself: every link and every file path named in docs/ exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_docs_are_there() -> None:
    assert {doc.name for doc in DOCS} >= {"architecture.md", "schema.md", "scenarios.md"}
    readme = (ROOT / "README.md").read_text()
    assert all(f"(docs/{doc.name})" in readme for doc in DOCS)


@pytest.mark.parametrize("doc", [ROOT / "README.md", *DOCS], ids=lambda path: path.name)
def test_links_resolve(doc: Path) -> None:
    links = [link for link in re.findall(r"\]\(([^)#\s]+)\)", doc.read_text()) if "://" not in link]
    assert [link for link in links if not (doc.parent / link).exists()] == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_paths_named_exist(doc: Path) -> None:
    """`harness/core/contract.py`, `tests/benchmarks/`: a path from the repository's root (a placeholder such as
    `backends/<adapter>/` or a glob is left out)."""
    paths = [
        token
        for token in re.findall(r"`([^`\s]+)`", doc.read_text())
        if "/" in token.rstrip("/") and not re.search(r"[<>*:|]", token) and not token.startswith(("/", "-", "."))
    ]
    assert paths, "no path named"
    assert [path for path in paths if not (ROOT / path).exists()] == []
