"""The report and its charts, written from the small run; report.html checked in headless Chromium."""

from __future__ import annotations

import ast
import base64
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core.config import DatabaseConfig
from harness.core.factory import adapter_class
from harness.report.sources import family_methods
from tests.reports.conftest import ADAPTERS, SmallRun

PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Written:
    """What `orm-harness run` wrote for the small run."""

    markdown: Path
    html: Path
    charts: list[Path]


@pytest.fixture(scope="module")
def report(small_run: SmallRun) -> Written:
    directory = small_run.directory
    return Written(directory / "report.md", directory / "report.html", sorted((directory / "charts").glob("*.png")))


def test_every_chart_is_written(report: Written, small_run: SmallRun) -> None:
    names = {chart.stem for chart in report.charts}
    expected = {"ratio_to_raw", "statements", "concurrency", "memory"}
    families = ("crud", "eager", "bulk", "transactions", "concurrency", "migrations", "users", "audit")
    expected |= {f"family_{f}" for f in families}
    if "postgresql" in small_run.databases:
        expected.add("pool")
    assert names == expected
    for chart in report.charts:
        assert chart.read_bytes().startswith(PNG) and chart.stat().st_size > 10_000
    assert (small_run.directory / "charts" / "ratio_to_raw.svg").read_text().lstrip().startswith("<?xml")


def test_markdown_has_every_section(report: Written) -> None:
    text = report.markdown.read_text()
    for heading in (
        "## Tier recommendation",
        "## Environment and method",
        "## How each adapter works",
        "## Results by scenario family",
        "## Unstable results",
        "## Each adapter's code, by scenario family",
    ):
        assert heading in text
    for family in ("crud", "eager", "bulk", "transactions", "concurrency"):
        assert f"### {family}" in text
    assert "| tier | database |" in text and "x fastest ORM | x raw" in text
    for chart in report.charts:
        assert f"](charts/{chart.name})" in text


def test_code_is_taken_from_the_backends(report: Written) -> None:
    """Each adapter's hook appears verbatim, as the backend module has it."""
    text = report.markdown.read_text()
    source = (Path(__file__).resolve().parents[2] / "backends" / "tortoise" / "provider.py").read_text()
    hook = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "_get_many_optimized"
    )
    lines = source.splitlines()[hook.lineno - 1 : hook.end_lineno]
    assert "get_many_optimized" in family_methods("eager")
    assert textwrap.dedent("\n".join(lines)) in text
    helper = next(
        node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == "_query"
    )
    assert "\n".join(source.splitlines()[helper.lineno - 1 : helper.end_lineno]) in text  # the filter builder it calls
    assert "`expected_eager_statements` (hook `_eager_statements`)" in text
    for adapter in ("sqlalchemy", "tortoise"):  # their own eager cost, not the contract's
        assert f"# {adapter}: {adapter_class(adapter).__name__}._eager_statements is the contract's" not in text


def test_html_is_self_contained(report: Written) -> None:
    page = report.html.read_text()
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(report.charts)
    assert all(base64.b64decode(data).startswith(PNG) for data in images)
    assert not re.search(r'(src|href)="(?!data:)', page)


_CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const shown = images.filter(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0);
  const mark = document.createElement("div");
  mark.id = "chart-check";
  mark.textContent = `shown ${shown.length} of ${images.length}`;
  document.body.appendChild(mark);
});
</script>"""


def test_html_renders_every_chart_in_chromium(report: Written, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium); see README for the manual check")
    page = tmp_path / "report.html"
    page.write_text(report.html.read_text().replace("</body>", _CHECK + "</body>"))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]
    done = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<div id="chart-check">shown (\d+) of (\d+)</div>', done.stdout)
    assert found, f"no check result from chromium: {done.stderr[-2000:]}"
    assert int(found[1]) == int(found[2]) == len(report.charts)


def test_migration_section_has_the_tools_their_times_and_their_files(report: Written, small_run: SmallRun) -> None:
    text = report.markdown.read_text()
    section = text.split("## Migrations: each ORM's own tool", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line[:1] == "|"]
    header = next(row for row in rows if any(cell.startswith("add_due_date on") for cell in row))
    for database in small_run.databases:
        column = next(i for i, cell in enumerate(header) if cell.startswith(f"add_due_date on {database},"))
        for adapter in ("raw", "sqlalchemy", "tortoise"):
            times = next(row for row in rows if row[0] == adapter)
            assert float(times[column]) > 0, (adapter, database)
    for fact in ("Alembic", "aerich", "Versioned SQL", "transactional DDL", "SQLite (table rebuilds)"):
        assert fact in section
    for migration in ("versions/0002_task_due_date.py", "_task_due_date.py", "0002_task_due_date.up.sqlite.sql"):
        assert migration in section
    assert "op.add_column" in section and "ADD COLUMN" in section.upper()
    html = report.html.read_text()
    assert "Migrations: each ORM" in html and "op.add_column" in html


def test_each_adapter_s_declared_capabilities_are_shown(report: Written, small_run: SmallRun) -> None:
    """What an adapter declares (connection model, row locks, notes, schema differences) reaches the report, for
    every adapter and database the run measured."""
    text = report.markdown.read_text()
    for database in small_run.databases:
        for adapter in ADAPTERS.split(","):
            declared = adapter_class(adapter)(DatabaseConfig(_url(database))).capabilities
            line = next(line for line in text.splitlines() if line.startswith(f"- **{adapter} on {database}**"))
            assert declared.connection_model in line
            for sentence in (*declared.notes, *declared.schema_differences):
                assert sentence in line, (adapter, database, sentence)


def test_a_tier_with_a_workload_says_how_each_adapter_does_each_operation(report: Written, small_run: SmallRun) -> None:
    """The USERS and AUDIT sections list their operations with each adapter's declared path (harness/report/
    workloads.py); a path that is not native carries its reason."""
    text = report.markdown.read_text()
    assert "## Tiers and the work they exist for" in text
    for tier, workload in (("USERS", "users"), ("AUDIT", "audit")):
        assert f"### {tier}: the `{workload}` workload" in text
    for operation in ("find_user_by_email", "sign_in", "audit_events_between", "purge_audit_events"):
        assert any(line.startswith(f"| {operation} |") for line in text.splitlines()), operation
    declared = adapter_class("tortoise")(DatabaseConfig(_url("sqlite"))).capabilities.paths["audit_events_between"]
    assert (
        declared.kind == "raw SQL" and f"tortoise, `audit_events_between` on sqlite: raw SQL: {declared.note}" in text
    )


def _url(database: str) -> str:
    return "sqlite:///unused.db" if database == "sqlite" else "postgresql://unused@localhost/unused"
