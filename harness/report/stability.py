"""How stable a ranking is across repeated runs: `orm-harness stability RUN RUN ...`.

A case is one (database, scenario, parameter) that every run measured for every ORM (the raw baseline is not
ranked). Each run is read as its report reads it (harness/report/results.py, `time_summary`): one adapter's time over
another's is `statistics.ratio` (paired rounds within a trial, the trials' geometric mean). Across the runs, per case:

* the fastest ORM of each run, and whether it is the same in every run. A run declares a tie when an ORM's 95
  percent interval against its fastest reaches into the equivalence band around 1.0 (harness/report/statistics.py,
  `is_tie`); the share of cases with the same fastest is given overall and among the cases no run declares a tie
  (where a change of the fastest is more than noise);
* for every pair of ORMs, whether their order (which one's ratio over the other is below 1) is the same in every
  run, and whether an order one run declares beyond the noise (the interval of the slower over the faster clears the
  equivalence band) is reversed by another run (a reversal: the other run's ratio says the opposite order);
* each ORM's ratio to raw in each run, and its spread: max / min - 1 across runs.

Per database, how fast the machine ran each run as the baseline saw it: raw's median over the first run's,
geometric mean over the cases. The intervals of one run cannot see the machine change speed between runs, and a ratio
to raw moves with it where one adapter's time is more Python and the other's more round trip.

The intervals measure the noise within one run, between its trials and their rounds; what the runs disagree on
beyond them is the drift between runs (a shared machine, another moment), which no single run shows. Per database,
`agreement` says which it is: how far the runs' ratios to raw differ, against how far their trials say a run's ratio
can move (the variance between a run's trials over their number). About equal, runs differ by what trials do, and
more trials (`--trials`) bring them closer; well above, something changed between the runs that no run sees.
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
from harness.report.results import BASELINE, ORMS, Ratios, Run, order, time_summary

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
    agreement: pd.DataFrame
    """Per database: `between runs`, the standard deviation of a run's log ratio to raw across the runs, and `from the
    trials`, what the runs' trials predict for it (each run's variance between its trials over their number, averaged
    over the runs), both the root mean square over every ORM and case whose runs all have two trials or more; empty
    where none has."""
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
    summaries = [time_summary(run.table).set_index([*CASE, "adapter"]).sort_index() for run in runs]
    present = [set(summary.index.get_level_values("adapter")) for summary in summaries]
    orms = [a for a in ORMS if all(a in adapters for adapters in present)]
    wide = [summary["time_median"].unstack("adapter") for summary in summaries]
    common = wide[0].dropna(subset=orms).index
    for grid in wide[1:]:
        common = common.intersection(grid.dropna(subset=orms).index)
    views = [_RunView(summary, Ratios(run.table)) for summary, run in zip(summaries, runs, strict=True)]
    rows = [_case(key, views, orms) for key in common]
    cases = order(pd.DataFrame(rows, columns=[*CASE, *_case_columns(orms)])) if rows else pd.DataFrame()
    return Stability(runs, orms, cases, _agreement(views, common, orms), _machine(wide, common))


def _agreement(views: list[_RunView], common: pd.Index, orms: list[str]) -> pd.DataFrame:
    """`Stability.agreement`: per database, how far the runs' log ratios to raw differ against their trials' say."""
    between: dict[str, list[float]] = {}
    predicted: dict[str, list[float]] = {}
    for key in common:
        for orm in orms:
            per_run = [view.trial_log_ratios(orm, BASELINE, key) for view in views]
            if min(len(trials) for trials in per_run) < 2:
                continue
            between.setdefault(key[0], []).append(float(np.var([np.mean(t) for t in per_run], ddof=1)))
            predicted.setdefault(key[0], []).append(float(np.mean([np.var(t, ddof=1) / len(t) for t in per_run])))
    rows = [
        {
            "database": database,
            "ratios": len(variances),
            "between runs": _percent(np.sqrt(np.mean(variances))),
            "from the trials": _percent(np.sqrt(np.mean(predicted[database]))),
        }
        for database, variances in sorted(between.items())
    ]
    return pd.DataFrame(rows)


def _machine(wide: list[pd.DataFrame], common: pd.Index) -> pd.DataFrame:
    """Per database, each run's raw medians over the first run's, geometric mean over the common cases."""
    if common.empty or any(BASELINE not in grid for grid in wide):
        return pd.DataFrame()
    logs = pd.DataFrame({i: np.log(grid.loc[common, BASELINE]) for i, grid in enumerate(wide, 1)})
    speed = np.exp(logs.sub(logs[1], axis=0).groupby(level="database").mean())
    frame = speed.rename(columns=lambda i: f"run {i}").map(lambda x: f"{x:.2f}x")
    frame["spread"] = (speed.max(axis=1) / speed.min(axis=1) - 1).map(_percent)
    return frame.reset_index()


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


@dataclass(frozen=True)
class _RunView:
    """One run as a case sees it: the report's summary (its fastest ORM, ratios to raw, ties) and its ratios."""

    summary: pd.DataFrame
    between: Ratios

    def a_first(self, key: tuple[str, str, str], a: str, b: str) -> bool:
        """Whether a is faster than b by the report's ratio."""
        return self.between(a, b, key) < 1

    def trial_log_ratios(self, a: str, b: str, key: tuple[str, str, str]) -> list[float]:
        """Each trial's log of a's time over b's (`statistics.trial_log_ratios`)."""
        return statistics.trial_log_ratios(self.between.found.get((a, *key)), self.between.found.get((b, *key)))

    def beyond(self, key: tuple[str, str, str], a: str, b: str) -> bool | None:
        """True if this run puts a before b beyond the noise, False if b before a, None if it does not tell them
        apart."""
        a_first = self.a_first(key, a, b)
        slower, faster = (b, a) if a_first else (a, b)
        return a_first if statistics.is_tie(self.between.interval(slower, faster, key)) is False else None


def _case(key: tuple[str, str, str], views: list[_RunView], orms: list[str]) -> list[object]:
    rows = [view.summary.loc[key].loc[orms] for view in views]
    fastest = [str(row["fastest"].iloc[0]) for row in rows]
    ties = [bool((row["tied"] == True).any()) for row in rows]  # noqa: E712 (a column of True, False and None)
    agrees, reversals = [], []
    for a, b in combinations(orms, 2):
        orders = [view.a_first(key, a, b) for view in views]
        agrees.append(len(set(orders)) == 1)
        declared = [view.beyond(key, a, b) for view in views]
        reversals.append(any(d is not None and d != order for d in declared for order in orders))
    spreads = []
    for orm in orms:
        ratios = np.array([row.loc[orm, "ratio_to_raw"] for row in rows], dtype=float)
        spreads.append(float(ratios.max() / ratios.min() - 1) if np.isfinite(ratios).all() else np.nan)
    return [
        *key,
        " | ".join(fastest),
        len(set(fastest)) == 1,
        any(ties),
        *agrees,
        *reversals,
        *spreads,
    ]


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
            "95% bootstrap interval of an ORM's time over its fastest's reaches within "
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
    if not result.agreement.empty:
        blocks += [
            Heading(2, "Runs against their trials"),
            Paragraph(
                "Per database, how far a run's ratio to raw moves between runs (the standard deviation of its "
                "logarithm, root mean square over the ORMs and cases) and how far the runs' own trials say it can "
                "(the variance between a run's trials over their number). About equal: the runs differ by what their "
                "trials do, and more trials (`--trials`) bring them closer. Well above: something changed between "
                "the runs that no run sees (the machine's speed, the code, the versions)."
            ),
            Table(result.agreement),
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
