"""Each tier's own section: its recommendation and how each adapter does the work the tier exists for.

A tier of `tiers.toml` may name its `workload`, the scenario family that measures that work (USERS: `users`). Its
section gives the tier's recommendation per database, then, for every operation of the workload
(harness/core/workloads, `OPERATIONS`), how each adapter does it as the adapter declared it for the run
(`capabilities.paths`): natively through its ORM, through a plugin, through raw SQL, or not at all, with the reason
beside every path that is not native. The numbers are in the workload's family table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.core.workloads import OPERATIONS
from harness.report.document import Block, Bullets, Heading, Paragraph, Table
from harness.report.results import Run, adapters_in
from harness.report.tiers import Recommendation, Tier


def tier_sections(run: Run, tiers: dict[str, Tier], recommendations: list[Recommendation]) -> list[Block]:
    """The sections of the tiers that name a workload measured in this run (none otherwise)."""
    paths = declared_paths(run)
    sections = [t for t in tiers.values() if t.workload in OPERATIONS and t.workload in paths]
    if not sections:
        return []
    blocks: list[Block] = [Heading(2, "Tiers and the work they exist for")]
    for tier in sections:
        workload = str(tier.workload)
        blocks += [Heading(3, f"{tier.name}: the `{workload}` workload"), Paragraph(tier.description)]
        blocks.append(Bullets([_verdict(r) for r in recommendations if r.tier == tier.name]))
        table, notes = _paths_table(workload, paths[workload])
        blocks += [Paragraph("How each adapter does each operation (as it declares, per database):"), Table(table)]
        if notes:
            blocks.append(Bullets(notes))
        blocks.append(Paragraph(f"Times: the `{workload}` family's tables below."))
    return blocks


def declared_paths(run: Run) -> dict[str, dict[tuple[str, str, str], dict[str, Any]]]:
    """workload -> {(operation, adapter, database): {"kind", "note"}}, from the capabilities the run recorded."""
    operation_workload = {op: workload for workload, ops in OPERATIONS.items() for op in ops}
    found: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = {}
    for database, facts in (run.environment.get("harness", {}).get("databases") or {}).items():
        for adapter, capabilities in (facts.get("capabilities") or {}).items():
            for operation, path in (capabilities.get("paths") or {}).items():
                if operation in operation_workload:
                    found.setdefault(operation_workload[operation], {})[(operation, adapter, database)] = path
    return found


def _paths_table(workload: str, paths: dict[tuple[str, str, str], dict[str, Any]]) -> tuple[pd.DataFrame, list[str]]:
    # An adapter that can do none of the workload's operations anywhere (a reference store of another tier's kind)
    # has nothing to show here.
    able = [a for (_, a, _), path in paths.items() if path["kind"] != "unavailable"]
    adapters = adapters_in(pd.DataFrame({"adapter": able}))
    databases = sorted({d for _, _, d in paths})
    rows, notes = [], []
    for operation in OPERATIONS[workload]:
        row = {"operation": operation}
        for adapter in adapters:
            kinds = {d: paths[(operation, adapter, d)]["kind"] for d in databases if (operation, adapter, d) in paths}
            row[adapter] = _cell(kinds)
            notes += [
                f"{adapter}, `{operation}` on {d}: {paths[(operation, adapter, d)]['kind']}: "
                f"{paths[(operation, adapter, d)]['note']}"
                for d, kind in kinds.items()
                if kind != "native" and paths[(operation, adapter, d)].get("note")
            ]
        rows.append(row)
    return pd.DataFrame(rows), notes


def _cell(kinds: dict[str, str]) -> str:
    """`native`, or per database where they differ: `native (postgresql), raw SQL (sqlite)`."""
    if not kinds:
        return "-"
    if len(set(kinds.values())) == 1:
        return next(iter(kinds.values()))
    return ", ".join(f"{kind} ({database})" for database, kind in kinds.items())


def _verdict(r: Recommendation) -> str:
    if r.winner is None:
        return f"{r.database}: no ORM scored (weighted scenarios not measured)"
    margin = f"margin {r.margin:+.0%} over {r.runner_up}" if r.margin is not None else "no runner-up"
    spread = {True: "beyond the spread", False: "within the spread: a tie", None: "spread not judged"}
    return f"{r.database}: **{r.winner}** ({margin}, {spread[r.beyond_spread]})"
