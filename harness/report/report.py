"""The report of a run: `report.md` and a self-contained `report.html`, written next to the run's JSON.

`write_report(run, tiers)` saves the tidy table (`results.csv`, `environment.json`), every chart under
`charts/`, and the report: the tier recommendation, the environment and method, a table per scenario
family (median, spread, ratios to the fastest adapter and to raw with their 95 percent bootstrap intervals,
ties with the fastest marked, statements, rows, memory) with unstable results flagged, the adapter tax
(harness/report/tax.py), the concurrency and pool charts, the migration tools (harness/report/migration_report.py),
and each adapter's code for each family side by side.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.adapters import BY_NAME
from harness.core.errors import redact
from harness.report.charts import Chart, benchmark_label, write_charts
from harness.report.document import Block, Bullets, CodeGrid, Heading, Image, Paragraph, Table, to_html, to_markdown
from harness.report.migration_report import migration_section
from harness.report.results import (
    BASELINE,
    FAMILY_ORDER,
    UNSTABLE_CV,
    Ratios,
    Run,
    adapters_in,
    below_the_floor,
    benchmarks_wide,
    order,
    save_table,
    time_summary,
)
from harness.report.sources import hook_sources
from harness.report.statistics import EQUIVALENCE, MIN_SAMPLES, TRIAL_EFFECT_ROUNDS
from harness.report.tax import tax_section
from harness.report.tiers import Recommendation, Tier, recommend, recommendations_frame
from harness.report.workloads import tier_sections

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
CHARTS_DIR = "charts"
RATIO_NOTE = (
    "x fastest ORM, x raw: the adapter's time over the fastest ORM's (raw left out of that choice; raw's own row "
    "says how far below it the database itself is) and over raw's: in each trial the median of the two adapters' "
    "per-round ratios (rounds measured one after the other, so a slow spell falls on both), then the geometric "
    "mean over the trials; with its 95% bootstrap interval in brackets (the trials and their rounds resampled, "
    "widened by the run's trial effect on that database, see Environment and method; seeded: the same results give "
    "the same intervals). `= fastest`: "
    f"the interval against the fastest ORM reaches within {EQUIVALENCE:.0%} of 1.0, so the two are not told apart "
    "beyond the noise (between rounds, or the drift between runs of the same commit): a tie, not a ranking. The "
    "intervals see the noise within this run only; runs differ by more (`orm-harness stability` measures by how "
    "much). n/a: too few rounds for an interval (the quick profile times one); read such ratios as indications. "
    f"Intervals need {MIN_SAMPLES} rounds or more."
)


@dataclass(frozen=True)
class ReportFiles:
    table: Path
    markdown: Path
    html: Path
    charts: list[Chart]
    recommendations: list[Recommendation]
    honesty: list[str]
    """`below_the_floor`'s findings: empty for an honest run."""


def write_report(run: Run, tiers: dict[str, Tier], warnings: Sequence[str] = ()) -> ReportFiles:
    """Write the table, the charts and both renderings of the report into the run's directory."""
    directory = run.directory
    table_path = save_table(run, directory)
    charts = write_charts(run.table, directory / CHARTS_DIR)
    recommendations = recommend(run.table, tiers)
    honesty = below_the_floor(time_summary(run.table))
    blocks = report_blocks(run, tiers, recommendations, charts, [*honesty, *warnings])
    markdown, page = directory / REPORT_MD, directory / REPORT_HTML
    markdown.write_text(to_markdown(blocks, directory))
    page.write_text(to_html(blocks, f"orm-harness report: {run.run_id}"))
    return ReportFiles(table_path, markdown, page, charts, recommendations, honesty)


def report_blocks(
    run: Run,
    tiers: dict[str, Tier],
    recommendations: list[Recommendation],
    charts: list[Chart],
    warnings: Sequence[str] = (),
) -> list[Block]:
    by_name = {chart.name: chart for chart in charts}
    summary = time_summary(run.table)
    blocks: list[Block] = [Heading(1, f"orm-harness report: run {run.run_id}"), Paragraph(_headline(run))]
    if partial := run.environment.get("harness", {}).get("partial"):
        warnings = [f"**Partial run**: {redact(partial)}; this report covers what was measured before.", *warnings]
    warnings = [*warnings, *_not_measured(summary)]
    if warnings:
        blocks += [Paragraph("**Warnings**"), Bullets(list(warnings))]
    blocks += _tier_section(tiers, recommendations)
    blocks += tier_sections(run, tiers, recommendations)
    blocks += _chart(by_name, "ratio_to_raw")
    blocks += _environment_section(run)
    blocks += _capabilities_section(run)
    blocks += _families_section(run, summary, by_name)
    blocks += _unstable_section(summary)
    blocks += tax_section(run.environment)
    blocks += _metric_sections(run, by_name)
    blocks += _resilience_section(run)
    blocks += migration_section(run)
    blocks += _code_section(run)
    return blocks


def _capabilities_section(run: Run) -> list[Block]:
    """What each adapter declared it does differently on each database (`Capabilities`, recorded with the run):
    the facts that explain many of the differences in the tables below."""
    databases = (run.environment.get("harness") or {}).get("databases") or {}
    items: list[str] = []
    for label, facts in databases.items():
        declared_by = facts.get("capabilities") or {}
        ordered = adapters_in(pd.DataFrame({"adapter": list(declared_by)}))
        items += [_capability_line(adapter, label, declared_by[adapter]) for adapter in ordered]
    if not items:
        return []
    intro = (
        "Declared by each adapter (its `capabilities`): how it talks to the database, whether "
        "`get(..., for_update=True)` takes a row lock, and what else explains its figures below."
    )
    return [Heading(2, "How each adapter works"), Paragraph(intro), Bullets(items)]


def _capability_line(adapter: str, database: str, declared: dict[str, Any]) -> str:
    locks = "row locks" if declared.get("row_locks") else "no row locks"
    parts = [f"**{adapter} on {database}**: {declared.get('connection_model')}, {locks}."]
    parts += list(declared.get("notes") or ())
    parts += [f"Schema: {difference}" for difference in declared.get("schema_differences") or ()]
    return " ".join(parts)


def _resilience_section(run: Run) -> list[Block]:
    """The server restart during concurrent reads (scenarios/resilience.py), where the run measured it."""
    entries = run.environment.get("resilience") or []
    if not entries:
        return []
    rows = [
        {
            "adapter": e["adapter"],
            "database": e["database"],
            "operations": e.get("total_ops"),
            "failed": e.get("failed_ops"),
            "server down (s)": e.get("server_down_s"),
            "served again after (s)": "-" if e.get("recovery_s") is None else e["recovery_s"],
            "recovered by itself": "yes" if e.get("recovered") else "**no**",
            "failed after recovery": e.get("failed_after_recovery"),
            "errors": ", ".join(f"{name} {count}" for name, count in (e.get("errors") or {}).items()) or "-",
        }
        for e in entries
    ]
    return [
        Heading(2, "Resilience: a server restart during concurrent reads"),
        Paragraph(
            "Eight tasks read users by primary key through one connected provider while the PostgreSQL server "
            "restarts (fast shutdown: every open connection is cut). A failed operation is retried after 20 ms. "
            "Server down: how long the restart took. Served again after: from the restart until the first "
            "read that succeeded once the server was back. Recovered by itself: through the same provider, "
            "never reconnected, within 10 s. The count of failures depends on how fast an adapter fails: read "
            "it with the operations attempted."
        ),
        Table(order(pd.DataFrame(rows))),
    ]


def _not_measured(summary: pd.DataFrame) -> list[str]:
    """Benchmarks some adapters of the run have on a database and others lack (a failed or skipped test); a
    reference store lacks the families it does not run (harness/core/adapters.py)."""
    lines = []
    for database, rows in summary.groupby("database"):
        adapters = set(rows["adapter"])
        for (scenario, family, parameter), group in rows.groupby(["scenario", "family", "parameter"], sort=False):
            for adapter in sorted(adapters - set(group["adapter"])):
                if adapter not in BY_NAME or BY_NAME[adapter].runs(family):
                    lines.append(f"not measured: {adapter} on `{benchmark_label(scenario, parameter)}` ({database})")
    return lines


def _headline(run: Run) -> str:
    env = run.environment
    databases = ", ".join(sorted(run.table["database"].unique()))
    return (
        f"Run `{run.run_id}` of {env.get('datetime') or 'unknown time'}, profile **{env.get('profile')}**, "
        f"on {databases}; adapters {', '.join(adapters_in(run.table))} (`{BASELINE}` is the hand-written SQL "
        f"baseline). Everything below is computed from the tidy table `results.csv`."
    )


def _chart(charts: dict[str, Chart], name: str) -> list[Block]:
    chart = charts.get(name)
    return [Image(chart.png, chart.title)] if chart else []


def _tier_section(tiers: dict[str, Tier], recommendations: list[Recommendation]) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Tier recommendation"),
        Paragraph(
            "Score: the weighted geometric mean of each adapter's median time over the fastest adapter's, with "
            "the weights of the tier profile (1.00 = fastest on every weighted scenario). The lowest-scoring "
            f"ORM is recommended; `{BASELINE}` is scored for scale only. Margin: the runner-up's score over the "
            "winner's. Beyond spread: whether the 95% bootstrap interval of the margin (resampling the rounds "
            "of this run) stays above zero; drift between runs can be larger: `orm-harness tiers RUN1 RUN2 ...` "
            "shows the spread across repeated runs. Decided by: the scenarios "
            "contributing most to the margin, with the runner-up's time over the winner's. Weight measured: the share "
            "of the tier's weights this run measured (a run of a few scenarios scores a tier on those alone)."
        ),
    ]
    if recommendations:
        blocks.append(Table(recommendations_frame(recommendations)))
    blocks.append(Bullets([f"**{t.name}**: {t.description} ({_weights(t)})" for t in tiers.values()]))
    left_out = sorted({f"{r.tier}: {', '.join(r.left_out)}" for r in recommendations if r.left_out})
    if left_out:
        blocks += [Paragraph("Weighted scenarios not measured for every ORM in this run, hence not scored:")]
        blocks.append(Bullets(left_out))
    return blocks


def _weights(tier: Tier) -> str:
    return ", ".join(f"{key} {weight:g}" for key, weight in tier.weights.items() if weight)


def _environment_section(run: Run) -> list[Block]:
    env = run.environment
    versions = pd.DataFrame(
        [
            {"adapter": adapter, "database": database, **_version_columns(facts)}
            for adapter, databases in env.get("adapters", {}).items()
            for database, facts in databases.items()
        ]
    )
    return [
        Heading(2, "Environment and method"),
        Table(order(versions)),
        Bullets(_method_facts(run)),
        Paragraph(
            "The adapters of one scenario are measured together, round by round in a new random order each "
            "round (seeded, recorded), so the machine's drift falls on all of them alike; a round times one call, "
            "or several of a repeatable one (no setup), or a concurrency round's operations, inside one event "
            "loop, after an untimed setup that puts the data back (and, on PostgreSQL, a VACUUM for writing "
            "scenarios). Rounds go on until each adapter's median is known to within the profile's precision or "
            "the group's time cap; a run repeats this in several trials, and `trial spread` says how far their "
            "medians differ. Median and interquartile range are over the rounds of every trial; the coefficient "
            f"of variation (CV = standard deviation / mean) flags a result as unstable at {UNSTABLE_CV:.0%} or more. "
            "Statements are counted at the driver, memory is tracemalloc's peak on a separate untimed round."
        ),
    ]


def _version_columns(facts: dict[str, Any]) -> dict[str, Any]:
    keys = ("orm", "orm_version", "driver", "driver_version", "server", "python", "connection_model", "pool_size")
    return {key.replace("_", " "): facts.get(key) if facts.get(key) is not None else "-" for key in keys}


def _trial_facts(table: pd.DataFrame) -> list[str]:
    """Trials and their spread, the precision reached and the calls per round (interleaved runs only)."""
    metric = table.groupby("metric")["value"]
    if "trial_spread" not in metric.groups:
        return []
    spread = metric.get_group("trial_spread")
    trials = table[table["metric"] == "trials"].groupby("database")["value"].max()
    per_database = ", ".join(f"{database} {n:.0f}" for database, n in trials.items())
    facts = [
        f"trials: {per_database}; trial spread (largest trial median over the smallest) median "
        f"{spread.median():.2f}, 90th percentile {spread.quantile(0.9):.2f}"
    ]
    effects = Ratios(table).trial_effects
    if effects:
        shown = ", ".join(f"{database} {math.sqrt(effect):.1%}" for database, effect in sorted(effects.items()))
        facts.append(
            "trial effect (how far a trial's ratio between two adapters moves beyond its rounds' noise, pooled over "
            f"the cases with {TRIAL_EFFECT_ROUNDS} rounds a trial or more; every interval includes it): {shown}"
        )
    if "median_precision" in metric.groups:
        precision = metric.get_group("median_precision")
        facts.append(
            f"precision of the medians (95% interval half-width over the median): median {precision.median():.1%}, "
            f"90th percentile {precision.quantile(0.9):.1%}"
        )
    if "calls_per_round" in metric.groups:
        calls = metric.get_group("calls_per_round")
        facts.append(f"calls per round: {calls.min():.0f} to {calls.max():.0f} (repeatable scenarios time several)")
    return facts


def _method_facts(run: Run) -> list[str]:
    env, table = run.environment, run.table
    harness, machine, commit = env.get("harness", {}), env.get("machine", {}), env.get("commit", {})
    rounds = table.loc[table["metric"] == "rounds", "value"]
    facts = [
        f"profile **{env.get('profile')}**, adapters' order seed {env.get('order_seed')}, "
        f"pytest-benchmark {env.get('pytest_benchmark')}",
        f"rounds per benchmark: {rounds.min():.0f} to {rounds.max():.0f} (median {rounds.median():.0f})",
        *_trial_facts(table),
        f"machine: {machine.get('cpu')} x {machine.get('cpu_count')}, {machine.get('system')}, {machine.get('python')}",
        f"commit: {commit.get('id', 'unknown')}{' (uncommitted changes)' if commit.get('dirty') else ''}",
    ]
    if "pool_size" in harness:
        tier = f", the pool configuration of tier {harness['pool_tier']}" if harness.get("pool_tier") else ""
        facts.append(
            f"pool size: {harness['pool_size']} connections (min = max) per adapter, where it has a pool{tier}"
        )
    if harness.get("concurrency"):
        facts.append(f"concurrency levels: {', '.join(map(str, harness['concurrency']))} tasks")
    for key in ("dataset", "sizes", "versions"):
        if isinstance(harness.get(key), dict):
            facts.append(f"{key}: " + ", ".join(f"{k} {v}" for k, v in harness[key].items()))
    if "pinned" in harness:
        facts.append(_pinned_fact(harness["pinned"]))
    for label, facts_of_db in (harness.get("databases") or {}).items():
        shown_facts = {key: value for key, value in facts_of_db.items() if key != "capabilities"}
        facts.append(f"database {label}: {_compact(shown_facts)}")
    if overhead := env.get("overhead"):
        driving = overhead.get("driving_median_us")
        facts.append(
            f"harness overhead per round: {overhead['round_median_us']:.2f} us timed"
            + (f" ({driving:.1f} us of event-loop driving outside the timer)" if driving is not None else "")
        )
    shown = {"harness_schema", "run_id", "started", "profile", "order_seed", "adapters", "families", "cpu"}
    shown |= {
        "pool_size",
        "pool_tier",
        "concurrency",
        "dataset",
        "sizes",
        "versions",
        "pinned",
        "databases",
        "migrations",
    }
    facts += [f"{key}: {_compact(value)}" for key, value in harness.items() if key not in shown]
    return facts


def _pinned_fact(status: dict[str, Any]) -> str:
    """Whether the run measured the repository's pinned set (constraints.txt), and where it did not."""
    if status.get("pinned") is None:
        return "versions: not compared with a pinned set (no constraints.txt beside this installation)"
    if status["pinned"]:
        return f"versions: the pinned set ({status['constraints']})"
    differs = ", ".join(f"{name} {v['installed']} (pinned {v['pinned']})" for name, v in status["differs"].items())
    return f"versions: **not the pinned set** ({status['constraints']}): {differs}"


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return f"`{redact(text)}`"


def _families_section(run: Run, summary: pd.DataFrame, charts: dict[str, Chart]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Results by scenario family"), Paragraph(RATIO_NOTE)]
    labels = run.environment.get("scenarios", {})
    extras = benchmarks_wide(
        run.table, ("statements_queries", "statements_round_trips", "rows_per_op", "memory_peak", "throughput")
    )
    detail = summary.merge(extras, how="left")
    families = [f for f in FAMILY_ORDER if f in set(summary["family"])]
    for family in families + sorted(set(summary["family"]) - set(families)):
        rows = detail[detail["family"] == family]
        blocks += [Heading(3, family), *_chart(charts, f"family_{family}")]
        scenarios = list(dict.fromkeys(rows["scenario"]))
        blocks.append(Bullets([f"`{s}`: {labels.get(s, {}).get('label', s)}" for s in scenarios]))
        for database, part in rows.groupby("database", sort=True):
            blocks += [Paragraph(f"**{family} on {database}**"), Table(_family_table(part))]
    return blocks


def _family_table(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "benchmark": [benchmark_label(s, p) for s, p in zip(rows["scenario"], rows["parameter"], strict=True)],
            "adapter": rows["adapter"],
            "median ms": (rows["time_median"] * 1e3).map(_number),
            "IQR ms": (rows["time_iqr"] * 1e3).map(_number),
            "CV": [
                f"{cv:.0%}{' (unstable)' if u else ''}" for cv, u in zip(rows["time_cv"], rows["unstable"], strict=True)
            ],
            "x fastest ORM": [_against_fastest(row) for row in rows.itertuples()],
            "x raw": [_against_raw(row) for row in rows.itertuples()],
            "queries/op": rows["statements_queries"].map(_count),
            "round trips/op": rows["statements_round_trips"].map(_count),
            "rows/op": rows["rows_per_op"].map(_count),
            "memory KiB/op": (rows["memory_peak"] / 1024).map(_number),
            "rounds": rows["rounds"].map(_count),
            "trial spread": rows["trial_spread"].map(_spread) if "trial_spread" in rows else "-",
        }
    )


def _spread(value: float) -> str:
    """The largest trial median over the smallest, as a percentage above 1: how far the trials disagree."""
    return "-" if pd.isna(value) else f"{value - 1:.0%}"


def _against_fastest(row: Any) -> str:
    """`1.34 (1.28-1.41)`; `= fastest` where it is a tie (statistics.is_tie); the fastest ORM itself says so."""
    if row.adapter == row.fastest:
        return "1.00 fastest"
    text = f"{row.ratio_to_fastest:.2f} {_interval(row, row.fastest_low, row.fastest_high)}"
    return f"{text} = fastest" if row.tied is True else text


def _against_raw(row: Any) -> str:
    if pd.isna(row.ratio_to_raw):
        return "-"
    if row.adapter == BASELINE:
        return "1.00 baseline"
    return f"{row.ratio_to_raw:.2f} {_interval(row, row.raw_low, row.raw_high)}"


def _interval(row: Any, low: float, high: float) -> str:
    if pd.isna(low):
        rounds = row.rounds
        return (
            f"n/a ({rounds:.0f} round{'' if rounds == 1 else 's'})" if rounds < MIN_SAMPLES else "n/a (too few rounds)"
        )
    return f"({low:.2f}-{high:.2f})"


def _number(value: float) -> str:
    """Three significant digits, never in exponent notation."""
    if pd.isna(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.6f}".rstrip("0").rstrip(".")


def _count(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:g}"


def _unstable_section(summary: pd.DataFrame) -> list[Block]:
    unstable = summary[summary["unstable"]]
    blocks: list[Block] = [Heading(2, "Unstable results")]
    if unstable.empty:
        return [*blocks, Paragraph(f"No result has a coefficient of variation of {UNSTABLE_CV:.0%} or more.")]
    frame = pd.DataFrame(
        {
            "database": unstable["database"],
            "benchmark": [
                benchmark_label(s, p) for s, p in zip(unstable["scenario"], unstable["parameter"], strict=True)
            ],
            "adapter": unstable["adapter"],
            "CV": unstable["time_cv"].map(lambda v: f"{v:.0%}"),
            "rounds": unstable["rounds"].map(_count),
        }
    )
    return [
        *blocks,
        Paragraph(
            f"{len(unstable)} of {len(summary)} results vary by {UNSTABLE_CV:.0%} or more between rounds: read their "
            "medians and ratios with care, and re-run (or compare repeated runs) before drawing conclusions."
        ),
        Table(frame),
    ]


def _metric_sections(run: Run, charts: dict[str, Chart]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Statements, concurrency, pool and memory")]
    for name, note in (
        ("statements", "Queries per operation (transaction control left out), counted at the driver."),
        ("concurrency", "Concurrent tasks share a pool of fixed size (SQLite: see each adapter's connection model)."),
        ("pool", "Peak connections checked out and the p99 time tasks waited to acquire one."),
        (
            "memory",
            "Memory allocated by one operation: tracemalloc's peak above the level just before the call, on an "
            "untimed round, with asyncio's 256 KiB socket read buffer left out (harness/bench/runner.py).",
        ),
    ):
        chart = _chart(charts, name)
        blocks += [Paragraph(f"**{name}**: {note}"), *chart] if chart else []
    if "pool" not in charts:
        blocks.append(Paragraph("**pool**: no pool metrics in this run (no adapter has a pool on its database)."))
    return blocks


def _code_section(run: Run) -> list[Block]:
    adapters = adapters_in(run.table)
    blocks: list[Block] = [
        Heading(2, "Each adapter's code, by scenario family"),
        Paragraph(
            "The scenarios are written once against the provider contract; what differs is each adapter's hooks "
            "for the contract methods a family calls, shown with the helpers they call in the adapter's package "
            "(each once per family, under the first method that reaches it). Shown as found in `backends/` "
            "(parsed, not retyped)."
        ),
    ]
    families = [f for f in FAMILY_ORDER if f in set(run.table["family"])]
    for family in families:
        blocks.append(Heading(3, f"{family}"))
        ran = set(run.table.loc[run.table["family"] == family, "adapter"])
        for hook in hook_sources(family, [a for a in adapters if a in ran]):
            hooks = f"hook{'s' if len(hook.hooks) > 1 else ''} " + ", ".join(f"`{name}`" for name in hook.hooks)
            blocks += [Paragraph(f"`{hook.method}` ({hooks})"), CodeGrid(list(hook.code.items()))]
    return blocks
