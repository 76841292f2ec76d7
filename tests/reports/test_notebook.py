"""notebooks/analysis.ipynb runs from top to bottom against the small run and draws its charts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.reports.conftest import SmallRun

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "analysis.ipynb"


def test_notebook_executes(small_run: SmallRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORM_HARNESS_RUN", str(small_run.directory))
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOK.parents[1]))  # the kernel imports harness from this checkout
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert str(small_run.directory) in "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 8
