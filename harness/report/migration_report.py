"""The report's migration section: each adapter's migration tool, its add_due_date times, its 0002 files.

The facts (tool, autogenerate, downgrade, SQLite, transactional DDL, files) are each adapter's
`migration_facts` (harness.core.contract.MigrationFacts), recorded with the run by the benchmark suite
(`environment["harness"]["migrations"]`), so the section describes the run, and the report imports no ORM. The
times are the medians of the `add_due_date` benchmark (scenarios/migrations.py) from the run's table. The 0002
files are read from the source tree, as found (never retyped), like the adapters' code (harness/report/sources.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from harness.report.document import Block, CodeGrid, Heading, Paragraph, Table
from harness.report.results import ADAPTER_ORDER, Run, parameter_value, time_summary

SCENARIO = "add_due_date"
ROOT = Path(__file__).resolve().parents[2]
"""The repository root: `MigrationFacts.files` are relative to it."""
FACT_COLUMNS = {
    "autogenerate": "autogenerate",
    "downgrade": "downgrade",
    "sqlite": "SQLite (table rebuilds)",
    "transactional_ddl": "transactional DDL",
}


def migration_section(run: Run) -> list[Block]:
    """The section, where the run timed the migrations or recorded the tools' facts; else nothing."""
    facts: dict[str, dict[str, Any]] = run.environment.get("harness", {}).get("migrations") or {}
    medians = _medians(run)
    if not facts and medians.empty:
        return []
    adapters = _adapters(facts, medians)
    blocks: list[Block] = [
        Heading(2, "Migrations: each ORM's own tool"),
        Paragraph(
            "Every adapter moves the shared schema between revisions 0001_shared_schema and 0002_task_due_date with "
            "its ORM's own migration tool. `add_due_date`: the median time to apply 0002 (a nullable "
            "`tasks.due_date` and an index on (user_id, due_date)) to a tasks table of the size shown, on a "
            "database of its own filled identically for every adapter; each round starts at 0001 (migrated down, "
            "untimed, the rows kept) and is checked after the upgrade (column, index, row count)."
        ),
        Table(_times_table(adapters, facts, medians)),
    ]
    if facts:
        blocks.append(Table(_facts_table(adapters, facts)))
        blocks += [
            Paragraph("**The committed 0002 migration of each tool** (as generated and reviewed, read from the files)"),
            CodeGrid([(adapter, _files_source(facts[adapter].get("files") or ())) for adapter in adapters]),
        ]
    else:
        blocks.append(Paragraph("This run did not record the migration tools' facts (a run of an older version)."))
    return blocks


def _medians(run: Run) -> pd.DataFrame:
    summary = time_summary(run.table)
    return summary[summary["scenario"] == SCENARIO]


def _adapters(facts: dict[str, Any], medians: pd.DataFrame) -> list[str]:
    present = set(facts) | set(medians["adapter"])
    return [a for a in ADAPTER_ORDER if a in present] + sorted(present - set(ADAPTER_ORDER))


def _times_table(adapters: list[str], facts: dict[str, dict[str, Any]], medians: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for adapter in adapters:
        row: dict[str, Any] = {"adapter": adapter, "tool": facts.get(adapter, {}).get("tool", "-")}
        for database, part in medians.groupby("database", sort=True):
            found = part[part["adapter"] == adapter]
            size = parameter_value(part["parameter"].iloc[0], "size")
            label = f"{SCENARIO} on {database}" + (f", {size:,.0f} rows" if size else "") + ": median ms"
            row[label] = "-" if found.empty else f"{found['time_median'].iloc[0] * 1e3:.1f}"
        rows.append(row)
    return pd.DataFrame(rows)


def _facts_table(adapters: list[str], facts: dict[str, dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"adapter": adapter, **{title: facts.get(adapter, {}).get(key, "-") for key, title in FACT_COLUMNS.items()}}
            for adapter in adapters
        ]
    )


def _files_source(files: list[str] | tuple[str, ...]) -> str:
    """The files one after another, each under a comment naming it."""
    if not files:
        return "# no migration file recorded"
    return "\n\n".join(f"# --- {name} ---\n{_read(name)}" for name in files)


def _read(name: str) -> str:
    path = ROOT / name
    try:
        return path.read_text().rstrip()
    except OSError:
        return f"# {name}: not found in this source tree"
