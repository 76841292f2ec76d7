"""The charts of a run, drawn from the results table only, one colour per adapter throughout.

Each `*_figure` function takes the tidy table and returns a matplotlib `Figure` (or None when the run has
nothing to draw, e.g. no pool on SQLite), so the notebook shows the same charts the report embeds.
`write_charts` saves them as PNG (the headline also as SVG) under the run's `charts/` directory.
Figures are built with the object-oriented API, never pyplot, so no GUI backend or global state is involved.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator

from harness.core.adapters import REGISTRY
from harness.report.results import (
    BASELINE,
    FAMILY_ORDER,
    UNSTABLE_CV,
    adapters_in,
    benchmarks_wide,
    order,
    parameter_value,
    time_summary,
)

ADAPTER_COLOURS = {adapter.name: adapter.colour for adapter in REGISTRY}
"""Each adapter's colour, as harness/core/adapters.py declares it."""
_SPARE_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#d62728")
CONCURRENCY = "concurrency"
RATIO_COLOURS = colormaps["YlOrRd"].with_extremes(under="#66bd63", bad="#ffffff")
"""1x raw is pale yellow, slower is redder; below 1 (faster than raw) is green."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SVG_CHARTS = {"ratio_to_raw"}
"""The headline chart is also written as SVG, for the README: it scales without blurring its small labels."""


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: Path
    svg: Path | None = None


def colour(adapter: str, adapters: list[str]) -> str:
    """The adapter's fixed colour; adapters outside the catalogue get spare ones in a stable order."""
    if adapter in ADAPTER_COLOURS:
        return ADAPTER_COLOURS[adapter]
    others = [a for a in adapters if a not in ADAPTER_COLOURS]
    return _SPARE_COLOURS[others.index(adapter) % len(_SPARE_COLOURS)]


def _marker(adapter: str, adapters: list[str]) -> str:
    return MARKERS[adapters.index(adapter) % len(MARKERS)]


def benchmark_label(scenario: str, parameter: str) -> str:
    """`get_by_pk`, or `concurrent_get_by_pk c=8` for a parameterised benchmark."""
    short = {"concurrency": "c", "size": "n"}
    parts = [f"{short.get(k, k)}={v}" for k, _, v in (p.partition("=") for p in parameter.split(",") if p)]
    return f"{scenario} {' '.join(parts)}" if parts else scenario


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def add_title(fig: Figure, text: str) -> None:
    """The figure's title, wrapped to its width so that narrow figures do not clip it."""
    fig.suptitle(textwrap.fill(text, width=int(fig.get_figwidth() * 10)), fontsize=11)


def _legend(fig: Figure, adapters: list[str], extra: list[Patch] | None = None, lines: bool = False) -> None:
    handles: list[Artist] = [
        Line2D([], [], color=colour(a, adapters), marker=_marker(a, adapters), label=a)
        if lines
        else Patch(color=colour(a, adapters), label=a)
        for a in adapters
    ]
    handles += extra or []
    # Below the plots: constrained layout stacks an "outside upper" legend onto the suptitle.
    columns = min(len(handles), max(2, int(fig.get_figwidth() / 1.7)))  # wrap rather than clip when narrow
    fig.legend(handles=handles, loc="outside lower center", ncols=columns, frameon=False)


def _log_axis(ax: Axes, values: pd.Series) -> None:
    """A log y axis with plain-number labels, starting a decade boundary below the smallest bar."""
    ax.set_yscale("log")
    positive = values[values > 0]
    smallest, largest = (float(positive.min()), float(positive.max())) if len(positive) else (1.0, 10.0)
    bottom, top = 10 ** np.floor(np.log10(smallest)), largest * 2.2  # headroom for the value labels
    ax.set_ylim(bottom, top)
    # 1-2-5 ticks label a range of a decade or two; over more, ticks at the decades alone stay readable.
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if top / bottom < 300 else (1.0,)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _databases(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["database"].unique())


def _grouped_bars(ax: Axes, frame: pd.DataFrame, value: str, adapters: list[str]) -> None:
    """Bars of `value` per benchmark (x) and adapter (colour), each labelled with its value."""
    benchmarks = list(dict.fromkeys(zip(frame["scenario"], frame["parameter"], strict=True)))
    width = 0.8 / len(adapters)
    for i, adapter in enumerate(adapters):
        rows = frame[frame["adapter"] == adapter].set_index(["scenario", "parameter"]).reindex(benchmarks)
        x = np.arange(len(benchmarks)) + (i - (len(adapters) - 1) / 2) * width
        bars = ax.bar(x, rows[value], width, color=colour(adapter, adapters), label=adapter)
        ax.bar_label(bars, labels=[_short(v) for v in rows[value]], fontsize=6, padding=1, rotation=90)
    ax.set_xticks(np.arange(len(benchmarks)), [benchmark_label(*b) for b in benchmarks], rotation=30, ha="right")
    ax.set_xlim(-0.6, len(benchmarks) - 0.4)
    ax.grid(axis="y", which="major", alpha=0.3)


def family_figure(table: pd.DataFrame, family: str) -> Figure | None:
    """Median time of each scenario of a family, whiskers at the quartiles: a panel per scenario and database.

    One linear axis per scenario, starting at zero, so bar heights compare honestly within a panel while
    scenarios of very different cost (one row against ten thousand) share the figure.
    """
    summary = time_summary(table)
    summary = summary[summary["family"] == family]
    if summary.empty:
        return None
    adapters, databases = adapters_in(summary), _databases(summary)
    benchmarks = list(dict.fromkeys(zip(summary["scenario"], summary["parameter"], strict=True)))
    rows_per_db = -(-len(benchmarks) // 6)  # at most six panels a row, rows filled evenly
    columns = -(-len(benchmarks) // rows_per_db)
    fig = new_figure(max(6.5, 2.1 * columns + 0.8), 2.5 * rows_per_db * len(databases) + 1.0)
    axes = fig.subplots(rows_per_db * len(databases), columns, squeeze=False)
    for d, database in enumerate(databases):
        for i, benchmark in enumerate(benchmarks):
            ax = axes[d * rows_per_db + i // columns, i % columns]
            rows = summary[(summary["database"] == database) & (summary["scenario"] == benchmark[0])]
            _scenario_panel(ax, rows[rows["parameter"] == benchmark[1]], adapters)
            ax.set_title(f"{benchmark_label(*benchmark)}\n{database}", fontsize=8, loc="left")
        for j in range(len(benchmarks), rows_per_db * columns):
            axes[d * rows_per_db + j // columns, j % columns].set_visible(False)
    unstable = Patch(facecolor="#bbbbbb", hatch="////", edgecolor="white", label=f"hatched: CV >= {UNSTABLE_CV:.0%}")
    _legend(fig, adapters, [unstable])
    unit = "per round" if family == CONCURRENCY else "per operation"
    add_title(fig, f"{family}: median time {unit}, ms (whiskers: interquartile range; lower is better)")
    return fig


def _scenario_panel(ax: Axes, rows: pd.DataFrame, adapters: list[str]) -> None:
    rows = rows.set_index("adapter").reindex(adapters) * 1  # a copy, in the fixed adapter order
    median, q1, q3 = (rows[c].astype(float) * 1e3 for c in ("time_median", "time_q1", "time_q3"))
    errors = np.vstack([median - q1, q3 - median]).clip(min=0)
    bars = ax.bar(range(len(adapters)), median, yerr=errors, capsize=2, color=[colour(a, adapters) for a in adapters])
    for bar, unstable in zip(bars, rows["unstable"].fillna(False), strict=True):
        if unstable:
            bar.set_hatch("////")
            bar.set_edgecolor("white")
    ax.bar_label(bars, labels=[_short(v) for v in median], fontsize=6, padding=1)
    for x in np.flatnonzero(median.isna().to_numpy()):  # not measured (failed or skipped): say so
        ax.text(float(x), 0, "n/a", ha="center", va="bottom", fontsize=7, color="#666666")
    ax.set_xticks([])
    ax.set_ylim(0, np.nanmax(q3.to_numpy(dtype=float)) * 1.18 if q3.notna().any() else 1)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", alpha=0.3)


def _short(value: float) -> str:
    """Three significant digits, never in exponent notation; n/a where nothing was measured."""
    if not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def ratio_heatmap_figure(table: pd.DataFrame) -> Figure | None:
    """Each adapter's median time as a multiple of the raw baseline's, adapter x benchmark, per database, with the
    95 percent bootstrap interval of each ratio (time_summary) written under it."""
    summary = time_summary(table).dropna(subset=["ratio_to_raw"])
    summary = summary[summary["adapter"] != BASELINE]
    if summary.empty:
        return None
    databases = _databases(summary)
    columns = len(summary.drop_duplicates(["scenario", "parameter"]))
    adapters = adapters_in(summary)
    fig = new_figure(max(8.0, 0.42 * columns + 2.5), (0.45 * len(adapters) + 1.6) * len(databases) + 0.8)
    axes = fig.subplots(len(databases), 1, squeeze=False)[:, 0]
    norm = LogNorm(vmin=1, vmax=max(2.0, float(summary["ratio_to_raw"].max())))
    for ax, database in zip(axes, databases, strict=True):
        image = _heatmap(ax, summary[summary["database"] == database], adapters, norm)
        ax.set_title(database, loc="left", fontsize=10, fontweight="bold")
    bar = fig.colorbar(image, ax=list(axes), label="x raw SQL time (log scale)", shrink=0.9)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if str(v)[0] in "25" else ""))
    add_title(
        fig,
        "Time as a multiple of the raw SQL baseline (1.0 = as fast as raw, higher is slower, green is faster; "
        "under each value its 95% bootstrap interval, where there are enough rounds)",
    )
    return fig


def _heatmap(ax: Axes, frame: pd.DataFrame, adapters: list[str], norm: LogNorm) -> AxesImage:
    frame = order(frame)
    benchmarks = list(dict.fromkeys(zip(frame["scenario"], frame["parameter"], strict=True)))
    grids = [
        frame.pivot_table(index="adapter", columns=["scenario", "parameter"], values=value, dropna=False).reindex(
            index=adapters, columns=pd.MultiIndex.from_tuples(benchmarks)
        )
        for value in ("ratio_to_raw", "raw_low", "raw_high")
    ]
    grid, lows, highs = (g.to_numpy() for g in grids)
    image = ax.imshow(grid, cmap=RATIO_COLOURS, norm=norm, aspect="auto")
    for (row, col), value in np.ndenumerate(grid):
        if not np.isfinite(value):
            ax.text(col, row, "n/a", ha="center", va="center", fontsize=7, color="#888888")
            continue
        colour = "white" if norm(value) > 0.65 else "black"
        low, high = lows[row, col], highs[row, col]
        text = _ratio(value)
        if np.isfinite(low):  # the 95% interval, under the value: its error bar
            text += f"\n{_ratio(low)}-{_ratio(high)}"
        ax.text(col, row, text, ha="center", va="center", fontsize=6 if np.isfinite(low) else 7, color=colour)
    ax.set_yticks(range(len(adapters)), adapters)
    ax.set_xticks(range(len(benchmarks)), [benchmark_label(*b) for b in benchmarks], rotation=45, ha="right")
    family = dict(zip(zip(frame["scenario"], frame["parameter"], strict=True), frame["family"], strict=True))
    for edge in range(1, len(benchmarks)):
        if family[benchmarks[edge]] != family[benchmarks[edge - 1]]:
            ax.axvline(edge - 0.5, color="black", linewidth=1.5)  # family boundaries
    return image


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value < 1 else f"{value:.1f}" if value < 9.95 else f"{value:.0f}"


def statements_figure(table: pd.DataFrame) -> Figure | None:
    """Queries per operation of the eager-loading scenarios: the naive n_plus_one against eager loading."""
    wide = benchmarks_wide(table, ("statements_queries", "statements_round_trips"))
    wide = order(wide[wide["family"] == "eager"].dropna(subset=["statements_queries"]))
    if wide.empty:
        return None
    adapters, databases = adapters_in(wide), _databases(wide)
    fig = new_figure(9.0, 3.4 * len(databases) + 0.6)
    axes = fig.subplots(len(databases), 1, squeeze=False)[:, 0]
    for ax, database in zip(axes, databases, strict=True):
        rows = wide[wide["database"] == database]
        _grouped_bars(ax, rows, "statements_queries", adapters)
        ax.set_ylim(0, rows["statements_queries"].max() * 1.15)
        ax.set_ylabel("queries per operation")
        ax.set_title(database, loc="left", fontsize=10, fontweight="bold")
    _legend(fig, adapters)
    add_title(fig, "SQL queries sent per operation, counted at the driver (eager loading vs the N+1 loop)")
    return fig


def _concurrency_rows(table: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    wide = benchmarks_wide(table, metrics)
    wide = wide[wide["family"] == CONCURRENCY].dropna(subset=[metrics[0]])
    return wide.assign(level=wide["parameter"].map(lambda p: parameter_value(p, "concurrency")))


def _line_grid(
    frame: pd.DataFrame, panels: Sequence[tuple[str, str, Callable[[Axes], None] | None]], title: str
) -> Figure:
    """One row per (database, scenario), one column per (metric, y label, decorator); a line per adapter."""
    adapters = adapters_in(frame)
    cases = list(frame.groupby(["database", "scenario"]).groups)
    fig = new_figure(5.2 * len(panels), 3.1 * len(cases) + 0.6)
    axes = fig.subplots(len(cases), len(panels), squeeze=False)
    for row, (database, scenario) in enumerate(cases):
        rows = frame[(frame["database"] == database) & (frame["scenario"] == scenario)]
        for col, (metric, ylabel, decorate) in enumerate(panels):
            ax = axes[row, col]
            for i, (adapter, line) in enumerate(_lines(rows, metric, adapters)):
                dodge = 1 + 0.04 * (i - (len(adapters) - 1) / 2)  # equal values stay visible side by side
                style = {"marker": _marker(adapter, adapters), "color": colour(adapter, adapters)}
                ax.plot(line["level"] * dodge, line[metric], label=adapter, **style)
            if decorate:
                decorate(ax)
            levels = sorted(rows["level"].unique())
            ax.set_xscale("log", base=2)
            ax.set_xticks(levels, [f"{v:g}" for v in levels])
            ax.set_xlabel("concurrent tasks")
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            ax.set_title(f"{database} · {scenario}", loc="left", fontsize=9, fontweight="bold")
    _legend(fig, adapters, lines=True)
    add_title(fig, title)
    return fig


def _lines(rows: pd.DataFrame, metric: str, adapters: list[str]) -> Iterator[tuple[str, pd.DataFrame]]:
    for adapter in adapters:
        line = rows[rows["adapter"] == adapter].dropna(subset=[metric]).sort_values("level")
        if not line.empty:
            yield adapter, line


def concurrency_figure(table: pd.DataFrame) -> Figure | None:
    """Throughput and p99 latency against the number of concurrent tasks."""
    frame = _concurrency_rows(table, ("throughput", "latency_p99"))
    if frame.empty:
        return None
    panels = [
        ("throughput", "operations per second (higher is better)", None),
        ("latency_p99", "p99 latency, ms", None),
    ]
    return _line_grid(frame, panels, "Throughput and p99 latency against concurrency (pool of fixed size)")


def pool_figure(table: pd.DataFrame) -> Figure | None:
    """Pool checked-out peak and acquire wait against concurrency; None where no adapter has a pool."""
    metrics = ("pool_checked_out_peak", "pool_acquire_wait_p99", "pool_acquire_wait_p50", "pool_max")
    frame = _concurrency_rows(table, metrics)
    if frame.empty:
        return None
    pool_max = frame["pool_max"].max()

    def capacity(ax: Axes) -> None:
        ax.axhline(pool_max, color="black", linestyle=":", linewidth=1)
        ax.annotate(f"pool max {pool_max:g}", (0.01, pool_max), xycoords=("axes fraction", "data"), fontsize=7)

    panels = [
        ("pool_checked_out_peak", "connections checked out (peak)", capacity),
        ("pool_acquire_wait_p99", "p99 wait to acquire a connection, ms", None),
    ]
    return _line_grid(frame, panels, "Pool use against concurrency: checked-out peak and acquire wait")


def memory_figure(table: pd.DataFrame) -> Figure | None:
    """Peak memory allocated per operation (tracemalloc): a panel per family (rows) and database (columns)."""
    wide = order(benchmarks_wide(table, ("memory_peak",)).dropna(subset=["memory_peak"]))
    if wide.empty:
        return None
    wide = wide.assign(kib=wide["memory_peak"] / 1024)
    adapters, databases = adapters_in(wide), _databases(wide)
    families = list(dict.fromkeys(wide["family"]))
    widest = wide.drop_duplicates(["family", "scenario", "parameter"]).groupby("family").size().max()
    fig = new_figure(max(6.0, (0.75 * widest + 1.2)) * len(databases), 2.6 * len(families) + 0.8)
    axes = fig.subplots(len(families), len(databases), squeeze=False)
    for (row, family), (col, database) in product(enumerate(families), enumerate(databases)):
        ax, rows = axes[row, col], wide[(wide["family"] == family) & (wide["database"] == database)]
        if rows.empty:
            ax.set_visible(False)
            continue
        _grouped_bars(ax, rows, "kib", adapters)
        _log_axis(ax, rows["kib"])
        ax.set_ylabel("KiB per op (log)")
        ax.set_title(f"{family} · {database}", loc="left", fontsize=9, fontweight="bold")
    _legend(fig, adapters)
    add_title(fig, "Peak memory allocated per operation (tracemalloc; lower is better)")
    return fig


def figures(table: pd.DataFrame) -> Iterator[tuple[str, str, Figure]]:
    """(name, title, figure) for every chart the run has data for, headline first."""
    builders: list[tuple[str, str, Callable[[], Figure | None]]] = [
        ("ratio_to_raw", "Time relative to the raw baseline", lambda: ratio_heatmap_figure(table)),
    ]
    families = [f for f in FAMILY_ORDER if f in set(table["family"])]
    for family in families + sorted(set(table["family"]) - set(families)):
        builders.append((f"family_{family}", f"{family}: median time", partial(family_figure, table, family)))
    builders += [
        ("statements", "Statements per operation", lambda: statements_figure(table)),
        ("concurrency", "Throughput and p99 latency", lambda: concurrency_figure(table)),
        ("pool", "Pool use", lambda: pool_figure(table)),
        ("memory", "Memory per operation", lambda: memory_figure(table)),
    ]
    for name, title, build in builders:
        if (fig := build()) is not None:
            yield name, title, fig


def write_charts(table: pd.DataFrame, directory: Path) -> list[Chart]:
    """Save every chart as `directory/<name>.png`, the headline also as `.svg`."""
    directory.mkdir(parents=True, exist_ok=True)
    charts = []
    for name, title, fig in figures(table):
        png = directory / f"{name}.png"
        fig.savefig(png)
        svg = directory / f"{name}.svg" if name in SVG_CHARTS else None
        if svg:
            fig.savefig(svg)
        charts.append(Chart(name, title, png, svg))
    return charts
