"""Comparing two runs: per benchmark, the change of the median and whether it is significant.

For every (adapter, database, scenario, parameter) in either run: the medians of run A and run B, the
relative change (B / A - 1), and the two-sided Mann-Whitney U test on the raw timing samples (as asv
does). A comparison runs hundreds of these tests, and at p < 0.05 one in twenty unchanged benchmarks would
be flagged by chance: the p-values are adjusted for their number with Benjamini-Hochberg
(harness/report/statistics.py), which controls the false discovery rate. The adjusted value is the q-value;
compare.md and compare.csv show p and q. A change is a regression or an improvement only when it is both
significant (q < alpha: at most an expected share alpha of the changes flagged are false discoveries) and at
least `threshold` in size; otherwise it is unchanged. With only a few rounds a difference cannot reach
significance (three rounds against three give p >= 0.1): the quick profile is for smoke tests, not for
comparisons. The test treats rounds as independent; a shared machine's drift between runs (ratios moving by
tens of percent; `orm-harness stability` measures it) is not in the samples, hence the default threshold of 10
percent, as asv's default factor of 1.1: a significant change says the two runs' samples differ, not yet that the
code did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from scipy.stats import mannwhitneyu

from harness.report.charts import add_title, benchmark_label, new_figure
from harness.report.document import Block, Bullets, Heading, Image, Paragraph, Table, to_html, to_markdown
from harness.report.results import Run, adapters_in, benchmarks_wide, order, samples
from harness.report.statistics import benjamini_hochberg

DEFAULT_THRESHOLD = 0.10
DEFAULT_ALPHA = 0.05
STATUS_ORDER = ("regression", "improvement", "unchanged", "only in A", "only in B")
_BENCHMARK = ["adapter", "database", "family", "scenario", "parameter"]


@dataclass(frozen=True)
class Comparison:
    a: Run
    b: Run
    changes: pd.DataFrame
    """One row per benchmark: `_BENCHMARK` columns, median_a, median_b, change, p_value, q_value (p adjusted by
    Benjamini-Hochberg over every benchmark tested), status (decided by q)."""
    threshold: float
    alpha: float


def compare_runs(a: Run, b: Run, threshold: float = DEFAULT_THRESHOLD, alpha: float = DEFAULT_ALPHA) -> Comparison:
    medians = [
        benchmarks_wide(run.table, ("time_median",)).drop(columns="run").rename(columns={"time_median": name})
        for run, name in ((a, "median_a"), (b, "median_b"))
    ]
    changes = medians[0].merge(medians[1], on=_BENCHMARK, how="outer")
    changes["change"] = changes["median_b"] / changes["median_a"] - 1
    samples_a, samples_b = samples(a.table), samples(b.table)
    keys = zip(changes["adapter"], changes["database"], changes["scenario"], changes["parameter"], strict=True)
    changes["p_value"] = [_p_value(samples_a.get(key), samples_b.get(key)) for key in keys]
    changes["q_value"] = benjamini_hochberg(changes["p_value"].to_numpy())
    changes["status"] = [
        _status(row.median_a, row.median_b, row.change, row.q_value, threshold, alpha) for row in changes.itertuples()
    ]
    return Comparison(a, b, _sorted(changes), threshold, alpha)


def _p_value(a: list[float] | None, b: list[float] | None) -> float:
    if not a or not b:
        return float("nan")
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _status(median_a: float, median_b: float, change: float, q: float, threshold: float, alpha: float) -> str:
    if pd.isna(median_a):
        return "only in B"
    if pd.isna(median_b):
        return "only in A"
    if q < alpha and abs(change) >= threshold:
        return "regression" if change > 0 else "improvement"
    return "unchanged"


def _sorted(changes: pd.DataFrame) -> pd.DataFrame:
    """Regressions first (largest first), then improvements (largest first), then the rest by size."""
    rank = changes["status"].map(STATUS_ORDER.index)
    size = -changes["change"].abs().fillna(0)
    return changes.assign(_rank=rank, _size=size).sort_values(["_rank", "_size"]).drop(columns=["_rank", "_size"])


def changes_frame(comparison: Comparison, significant_only: bool = False) -> pd.DataFrame:
    """The changes formatted for reading: medians in ms, the change in percent, p and q rounded."""
    rows = comparison.changes
    if significant_only:
        rows = rows[rows["status"].isin(("regression", "improvement"))]
    return pd.DataFrame(
        {
            "status": rows["status"],
            "database": rows["database"],
            "benchmark": [benchmark_label(s, p) for s, p in zip(rows["scenario"], rows["parameter"], strict=True)],
            "adapter": rows["adapter"],
            "A ms": (rows["median_a"] * 1e3).map(_ms),
            "B ms": (rows["median_b"] * 1e3).map(_ms),
            "change": rows["change"].map(lambda v: "-" if pd.isna(v) else f"{v:+.1%}"),
            "p": rows["p_value"].map(lambda v: "-" if pd.isna(v) else f"{v:.3g}"),
            "q": rows["q_value"].map(lambda v: "-" if pd.isna(v) else f"{v:.3g}"),
        }
    )


def _ms(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.3g}"


def counts(comparison: Comparison) -> dict[str, int]:
    found = comparison.changes["status"].value_counts()
    return {status: int(found.get(status, 0)) for status in STATUS_ORDER}


def change_figure(comparison: Comparison) -> Figure | None:
    """Heatmap of the change per adapter x benchmark, one panel per database; * marks significant changes."""
    rows = order(comparison.changes.dropna(subset=["change"]))
    if rows.empty:
        return None
    databases = sorted(rows["database"].unique())
    adapters = adapters_in(rows)
    columns = len(rows.drop_duplicates(["scenario", "parameter"]))
    fig = new_figure(max(8.0, 0.42 * columns + 2.5), (0.45 * len(adapters) + 1.6) * len(databases) + 0.9)
    axes = fig.subplots(len(databases), 1, squeeze=False)[:, 0]
    limit = max(comparison.threshold * 2, float(rows["change"].abs().quantile(0.95)))
    norm = TwoSlopeNorm(vcenter=0, vmin=-limit, vmax=limit)
    for ax, database in zip(axes, databases, strict=True):
        image = _change_panel(ax, rows[rows["database"] == database], adapters, norm)
        ax.set_title(database, loc="left", fontsize=10, fontweight="bold")
    fig.colorbar(image, ax=list(axes), label="change of the median, B vs A", format=lambda v, _: f"{v:+.0%}")
    add_title(
        fig,
        f"{comparison.b.run_id} against {comparison.a.run_id}: change of the median time "
        f"(red = slower; * = significant, q < {comparison.alpha:g} and |change| >= {comparison.threshold:.0%})",
    )
    return fig


def _change_panel(ax: Axes, rows: pd.DataFrame, adapters: list[str], norm: TwoSlopeNorm) -> AxesImage:
    benchmarks = list(dict.fromkeys(zip(rows["scenario"], rows["parameter"], strict=True)))
    grid = rows.pivot_table(index="adapter", columns=["scenario", "parameter"], values="change")
    grid = grid.reindex(index=adapters, columns=pd.MultiIndex.from_tuples(benchmarks))
    flags = rows.set_index(["adapter", "scenario", "parameter"])["status"]
    image = ax.imshow(grid.to_numpy(), cmap="RdYlGn_r", norm=norm, aspect="auto")
    for (row, col), value in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(value):
            significant = flags.get((adapters[row], *benchmarks[col])) in ("regression", "improvement")
            colour = "white" if abs(norm(value) - 0.5) > 0.35 else "black"
            text = f"{value:+.0%}{'*' if significant else ''}"
            ax.text(col, row, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_yticks(range(len(adapters)), adapters)
    ax.set_xticks(range(len(benchmarks)), [benchmark_label(*b) for b in benchmarks], rotation=45, ha="right")
    return image


def write_comparison(comparison: Comparison, directory: Path) -> tuple[Path, Path]:
    """`compare.csv`, `compare.png`, `compare.md` and `compare.html` in `directory`; returns (md, html)."""
    directory.mkdir(parents=True, exist_ok=True)
    comparison.changes.to_csv(directory / "compare.csv", index=False)
    blocks = _blocks(comparison, directory)
    markdown, page = directory / "compare.md", directory / "compare.html"
    markdown.write_text(to_markdown(blocks, directory))
    page.write_text(to_html(blocks, f"orm-harness: {comparison.b.run_id} vs {comparison.a.run_id}"))
    return markdown, page


def _blocks(comparison: Comparison, directory: Path) -> list[Block]:
    a, b = comparison.a, comparison.b
    found = counts(comparison)
    blocks: list[Block] = [
        Heading(1, f"orm-harness: run {b.run_id} against {a.run_id}"),
        Bullets(
            [
                f"A: `{a.run_id}` ({a.environment.get('datetime')}, profile {a.environment.get('profile')})",
                f"B: `{b.run_id}` ({b.environment.get('datetime')}, profile {b.environment.get('profile')})",
                ", ".join(f"{n} {status}" for status, n in found.items() if n),
            ]
        ),
        Paragraph(
            f"Significant: two-sided Mann-Whitney U on the raw samples, its p-value adjusted for the number of "
            f"benchmarks compared (Benjamini-Hochberg: q, the false discovery rate) with q < {comparison.alpha:g}, "
            f"and a change of the median of at least {comparison.threshold:.0%}. Regressions first."
        ),
    ]
    figure = change_figure(comparison)
    if figure is not None:
        figure.savefig(directory / "compare.png", dpi=110)
        blocks.append(Image(directory / "compare.png", "change per adapter and benchmark"))
    return [*blocks, Table(changes_frame(comparison))]
