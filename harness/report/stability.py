"""How stable a ranking is across repeated runs: `orm-harness stability RUN RUN ...`.

A case is one (database, scenario, parameter) that every run measured for every ORM (the raw baseline is not
ranked). Across the runs, per case:

* the fastest ORM of each run, and whether it is the same in every run. A run declares a tie when the 95
  percent bootstrap interval of its runner-up's median over its fastest's reaches into the equivalence
  band around 1.0 (harness/report/statistics.py, `is_tie`); the share of cases with the same fastest is given
  overall and among the cases no run declares a tie (where a change of the fastest is more than noise);
* for every pair of ORMs, whether their order (which has the lower median) is the same in every run, and
  whether an order one run declares beyond the noise (the interval of the slower over the faster clears the
  equivalence band) is reversed by another run (a reversal: the other run's medians are in the opposite order);
* each ORM's ratio to raw (its median over raw's) in each run, and its spread: max / min - 1 across runs.

Per database, how fast the machine ran each run as the baseline saw it: raw's median over the first run's,
geometric mean over the cases. The intervals of one run cannot see the machine change speed between runs, and a ratio
to raw moves with it where one adapter's time is more Python and the other's more round trip.

The intervals measure the noise between the rounds of one run; what the runs disagree on beyond them is the
drift between runs (a shared machine, another moment), which no single run shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report import statistics
from harness.report.charts import benchmark_label
from harness.report.document import Block, Bullets, Heading, Paragraph, Table, to_markdown
from harness.report.results import BASELINE, ORMS, Run, Samples, adapters_in, benchmarks_wide, order, samples

STABILITY_MD = "stability.md"
STABILITY_CSV = "stability.csv"
CASE = ["database", "scenario", "parameter"]


@dataclass(frozen=True)
class Stability:
    runs: list[Run]
    orms: list[str]
    cases: pd.DataFrame
    """One row per case: CASE columns, `fastest` (each run's, joined by ` | `), `same_fastest`, `tie_declared`,
    per pair `order_agrees a/b` and `reversal a/b`, per ORM `spread <orm>` (ratio to raw, max / min - 1)."""
    machine: pd.DataFrame
    """Per database: `run <i>`, raw's times over the first run's (geometric mean over the cases), and their `spread`
    (max / min - 1); empty when a run has no raw baseline."""

    def fastest_frame(self) -> pd.DataFrame:
        """The share of cases whose fastest ORM is the same in every run, overall and where no run declares a tie."""
        decided = self.cases[~self.cases["tie_declared"]]
        return pd.DataFrame(
            [
                {"cases": "all", **_share(self.cases["same_fastest"])},
                {"cases": "no run declares a tie", **_share(decided["same_fastest"])},
            ]
        )

    def pairs_frame(self) -> pd.DataFrame:
        """Per pair of ORMs: the share of cases whose order agrees in every run, and the reversals."""
        rows = []
        for a, b in combinations(self.orms, 2):
            pair = f"{a}/{b}"
            rows.append(
                {
                    "pair": pair,
                    **_share(self.cases[f"order_agrees {pair}"]),
                    "reversed beyond noise": int(self.cases[f"reversal {pair}"].sum()),
                }
            )
        return pd.DataFrame(rows)

    def spread_frame(self) -> pd.DataFrame:
        """Per ORM: the spread of its ratio to raw across runs (max / min - 1), median, p90 and max over cases."""
        rows = []
        for orm in self.orms:
            spread = self.cases[f"spread {orm}"].dropna()
            rows.append(
                {
                    "orm": orm,
                    "cases": len(spread),
                    "median spread": _percent(spread.median()),
                    "p90 spread": _percent(spread.quantile(0.9)),
                    "max spread": _percent(spread.max()),
                }
            )
        return pd.DataFrame(rows)


def _share(flags: pd.Series) -> dict[str, str | int]:
    count, total = int(flags.sum()), len(flags)
    return {"agree": count, "of": total, "share": f"{count / total:.0%}" if total else "-"}


def _percent(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1%}"


def stability(runs: list[Run]) -> Stability:
    medians = [_medians(run) for run in runs]
    orms = [a for a in adapters_in(pd.concat(medians)) if a in ORMS and all(a in set(m["adapter"]) for m in medians)]
    wide = [m.pivot_table(index=CASE, columns="adapter", values="time_median") for m in medians]
    common = wide[0].dropna(subset=orms).index
    for grid in wide[1:]:
        common = common.intersection(grid.dropna(subset=orms).index)
    runs_samples = [samples(run.table) for run in runs]
    rows = [_case(key, [grid.loc[key] for grid in wide], runs_samples, orms) for key in common]
    cases = order(pd.DataFrame(rows, columns=[*CASE, *_case_columns(orms)])) if rows else pd.DataFrame()
    return Stability(runs, orms, cases, _machine(wide, common))


def _machine(wide: list[pd.DataFrame], common: pd.Index) -> pd.DataFrame:
    """Per database, each run's raw medians over the first run's, geometric mean over the common cases."""
    if common.empty or any(BASELINE not in grid for grid in wide):
        return pd.DataFrame()
    logs = pd.DataFrame({i: np.log(grid.loc[common, BASELINE]) for i, grid in enumerate(wide, 1)})
    speed = np.exp(logs.sub(logs[1], axis=0).groupby(level="database").mean())
    frame = speed.rename(columns=lambda i: f"run {i}").map(lambda x: f"{x:.2f}x")
    frame["spread"] = (speed.max(axis=1) / speed.min(axis=1) - 1).map(_percent)
    return frame.reset_index()


def _medians(run: Run) -> pd.DataFrame:
    return benchmarks_wide(run.table, ("time_median",))[["adapter", *CASE, "time_median"]]


def _case_columns(orms: list[str]) -> list[str]:
    pairs = [f"{a}/{b}" for a, b in combinations(orms, 2)]
    return [
        "fastest",
        "same_fastest",
        "tie_declared",
        *(f"order_agrees {p}" for p in pairs),
        *(f"reversal {p}" for p in pairs),
        *(f"spread {orm}" for orm in orms),
    ]


def _case(key: tuple[str, str, str], per_run: list[pd.Series], runs: list[Samples], orms: list[str]) -> list[object]:
    database, scenario, parameter = key
    fastest = [str(medians[orms].idxmin()) for medians in per_run]
    ties = []
    for medians, found in zip(per_run, runs, strict=True):
        ranked = medians[orms].sort_values()
        if len(ranked) > 1:
            interval = _interval(found, key, str(ranked.index[1]), str(ranked.index[0]))
            ties.append(bool(statistics.is_tie(interval)))
    agrees, reversals = [], []
    for a, b in combinations(orms, 2):
        signs = {bool(medians[a] < medians[b]) for medians in per_run}
        agrees.append(len(signs) == 1)
        beyond = [_beyond(found, key, a, b, medians) for medians, found in zip(per_run, runs, strict=True)]
        reversals.append(
            any(
                declared is not None and bool(other[a] < other[b]) != declared
                for declared in beyond
                for other in per_run
            )
        )
    spreads = []
    for orm in orms:
        ratios = np.array([medians[orm] / medians[BASELINE] if BASELINE in medians else np.nan for medians in per_run])
        spreads.append(float(ratios.max() / ratios.min() - 1) if np.isfinite(ratios).all() else np.nan)
    return [
        database,
        scenario,
        parameter,
        " | ".join(fastest),
        len(set(fastest)) == 1,
        any(ties),
        *agrees,
        *reversals,
        *spreads,
    ]


def _interval(found: Samples, key: tuple[str, str, str], slower: str, faster: str) -> tuple[float, float] | None:
    database, scenario, parameter = key
    return statistics.ratio_interval(
        found.get((slower, database, scenario, parameter)),
        found.get((faster, database, scenario, parameter)),
        statistics.rng(),
    )


def _beyond(found: Samples, key: tuple[str, str, str], a: str, b: str, medians: pd.Series) -> bool | None:
    """True if this run puts a before b beyond the noise, False if b before a, None if it does not tell them apart."""
    a_first = bool(medians[a] < medians[b])
    slower, faster = (b, a) if a_first else (a, b)
    interval = _interval(found, key, slower, faster)
    return a_first if statistics.is_tie(interval) is False else None


def write_stability(result: Stability, directory: Path) -> tuple[Path, Path]:
    """`stability.md` and `stability.csv` in `directory`; returns (md, csv)."""
    directory.mkdir(parents=True, exist_ok=True)
    markdown, table = directory / STABILITY_MD, directory / STABILITY_CSV
    result.cases.to_csv(table, index=False)
    markdown.write_text(to_markdown(_blocks(result), directory))
    return markdown, table


def _blocks(result: Stability) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, f"orm-harness: stability of the ranking across {len(result.runs)} runs"),
        Bullets([f"run {i}: `{run.run_id}` ({run.source})" for i, run in enumerate(result.runs, 1)]),
        Paragraph(
            f"{len(result.cases)} cases (database, scenario, parameter) measured for every ORM "
            f"({', '.join(result.orms)}) in every run; `{BASELINE}` is not ranked. A run declares a tie when the "
            "95% bootstrap interval of its runner-up's median over its fastest's reaches within "
            f"{statistics.EQUIVALENCE:.0%} of 1.0 (a gap that small is not told apart from the drift between runs)."
        ),
        Heading(2, "Fastest ORM: the same in every run"),
        Table(result.fastest_frame()),
        Heading(2, "Pairs of ORMs: the same order in every run"),
        Paragraph(
            "Reversed beyond noise: cases where one run puts one ORM before the other beyond the noise (the "
            f"interval of the slower over the faster stays above {1 + statistics.EQUIVALENCE:.2f}) and another run "
            "has them the other way round."
        ),
        Table(result.pairs_frame()),
        Heading(2, "Spread of each ORM's ratio to raw across runs"),
        Paragraph("Per case: the largest ratio to raw over the smallest, minus one; median, p90 and max over cases."),
        Table(result.spread_frame()),
    ]
    if not result.machine.empty:
        blocks += [
            Heading(2, "The machine in each run"),
            Paragraph(
                "Per database, raw's median in each case over the first run's, geometric mean over the cases: how "
                "fast the machine ran each run, as the baseline saw it. One run's intervals cannot see a change of "
                "speed between runs, and an ORM's ratio to raw moves with it where the ORM's time is more Python and "
                "raw's more round trip: compare runs made at the same speed."
            ),
            Table(result.machine),
        ]
    if not result.cases.empty:
        moved = result.cases[~result.cases["same_fastest"]]
        if not moved.empty:
            lines = [
                f"{row.database}: `{benchmark_label(row.scenario, row.parameter)}`: {row.fastest}"
                f"{' (a run declares a tie)' if row.tie_declared else ''}"
                for row in moved.itertuples()
            ]
            blocks += [Heading(2, "Cases whose fastest ORM changes"), Bullets(lines)]
    return blocks
