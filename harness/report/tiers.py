"""The tier recommendation: which ORM to choose for each database tier, from one run's results table.

A tier profile (`tiers.toml`, editable) gives each scenario a weight. An adapter's score on a tier is the
weighted geometric mean of its time ratio to the fastest adapter (per database, scenario and parameter, the
report's ratio: harness/report/results.py, `Ratios`): 1.0 means fastest everywhere that matters, 1.3 means 30
percent slower on the weighted average. The geometric mean keeps one huge scenario (insert_10k) from drowning the
small ones.

The recommended ORM has the lowest score; the raw baseline (and a reference store, on the scenarios it runs) is
scored for scale but never recommended.
The margin is the runner-up's score over the winner's, minus one. Whether it is larger than the spread is
decided by a bootstrap (harness/report/statistics.py, `resampled_log_ratios`) over the raw timing samples of the two
adapters, their trials and rounds, with the run's trial effect on that database: the margin counts as beyond the
spread when the 95 percent interval of the resampled margin (the weighted geometric mean of the runner-up's ratio
over the winner's) clears the equivalence band.
That is the spread between rounds of one run; the drift between runs on a shared machine can be larger,
and `across_runs` (the CLI's `orm-harness tiers RUN1 RUN2 ...`) shows it: how often each ORM won, and the
range of the margin.
The scenarios that decided it are the ones contributing most to the margin.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.core.errors import HarnessError
from harness.report.results import BASELINE, ORMS, Ratios, adapters_in, time_summary
from harness.report.statistics import BOOTSTRAP_RESAMPLES, SEED, is_tie, percentile_interval
from scenarios import FAMILIES

DEFAULT_TIERS = Path(__file__).with_name("tiers.toml")


class TierFileError(HarnessError):
    """A tier file that does not parse, or whose weights are not valid."""


@dataclass(frozen=True)
class Tier:
    name: str
    description: str
    weights: dict[str, float]
    """Scenario id (or `id[parameter]`) -> weight."""
    workload: str | None = None
    """The scenario family that measures the work this tier exists for (its own section in the report)."""


@dataclass(frozen=True)
class Decider:
    benchmark: str
    """Scenario id, with its parameter in brackets where it has one."""
    ratio: float
    """Runner-up's time over the winner's on this benchmark (the report's ratio)."""
    share: float
    """This benchmark's part of the log margin (the shares of all benchmarks add up to 1)."""


@dataclass(frozen=True)
class Recommendation:
    tier: str
    database: str
    scores: dict[str, float]
    """Adapter -> score, the raw baseline included (for scale)."""
    winner: str | None
    runner_up: str | None
    margin: float | None
    interval: tuple[float, float] | None
    """The bootstrap 95 percent interval of the margin, or None when there are too few samples."""
    deciders: list[Decider] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    """Weighted scenarios not measured for every ORM of the run, hence not scored."""
    coverage: float = 0.0
    """The share of the tier's total weight that was measured and scored."""

    @property
    def beyond_spread(self) -> bool | None:
        """True if the margin is larger than the spread of the samples (its interval clear of the equivalence band,
        `is_tie`); None if that cannot be judged."""
        if self.interval is None:
            return None
        low, high = self.interval
        return not is_tie((1 + low, 1 + high))


def load_tiers(path: str | Path | None = None, scenario_ids: Iterable[str] | None = None) -> dict[str, Tier]:
    """Read and check a tier file (the packaged `tiers.toml` by default).

    `scenario_ids`, when given, are the known scenario ids: a weight on any other id is an error, which
    catches a typo that would otherwise silently weigh nothing.
    """
    path = Path(path) if path else DEFAULT_TIERS
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        raise TierFileError(f"cannot read tier file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TierFileError(f"tier file {path} does not parse: {exc}") from None
    if not document:
        raise TierFileError(f"tier file {path} defines no tiers")
    known = set(scenario_ids) if scenario_ids is not None else None
    return {name: _tier(path, name, body, known) for name, body in document.items()}


def _tier(path: Path, name: str, body: Any, known: set[str] | None) -> Tier:
    where = f"tier file {path}, tier {name}"
    if not isinstance(body, dict) or not isinstance(body.get("weights"), dict):
        raise TierFileError(f"{where}: needs a [{name}.weights] table of scenario = weight")
    unexpected = set(body) - {"description", "weights", "workload"}
    if unexpected:
        raise TierFileError(
            f"{where}: unknown keys {', '.join(sorted(unexpected))} (use description, workload, weights)"
        )
    workload = body.get("workload")
    if workload is not None and workload not in FAMILIES:
        raise TierFileError(f"{where}: workload {workload!r} is not a scenario family ({', '.join(FAMILIES)})")
    weights = {key: _weight(where, key, value) for key, value in body["weights"].items()}
    if not any(weights.values()):
        raise TierFileError(f"{where}: every weight is zero")
    if known is not None:
        unknown = sorted({_split(key)[0] for key in weights} - known)
        if unknown:
            raise TierFileError(f"{where}: unknown scenario {', '.join(unknown)} (see `orm-harness list`)")
    return Tier(name, str(body.get("description", "")), weights, workload)


def _weight(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise TierFileError(f"{where}: weight of {key} must be a finite number >= 0, got {value!r}")
    return float(value)


def _split(key: str) -> tuple[str, str | None]:
    """`"id[concurrency=8]"` -> ("id", "concurrency=8"); `"id"` -> ("id", None)."""
    scenario, bracket, rest = key.partition("[")
    return scenario.strip(), rest.rstrip("]").strip() if bracket else None


def select(tiers: dict[str, Tier], names: Sequence[str] | None) -> dict[str, Tier]:
    """The named tiers (case-insensitive), all of them when `names` is empty."""
    if not names:
        return tiers
    by_upper = {name.upper(): name for name in tiers}
    missing = [name for name in names if name.upper() not in by_upper]
    if missing:
        raise TierFileError(f"unknown tier {', '.join(missing)}: choose from {', '.join(tiers)}")
    return {by_upper[name.upper()]: tiers[by_upper[name.upper()]] for name in names}


def recommend(table: pd.DataFrame, tiers: dict[str, Tier], seed: int = SEED) -> list[Recommendation]:
    """A recommendation per tier and database of the run."""
    summary = time_summary(table)
    between = Ratios(table)
    return [
        _recommend(tier, database, rows, between, np.random.default_rng(seed))
        for database, rows in summary.groupby("database", sort=False)
        for tier in tiers.values()
    ]


def _benchmark_weights(tier: Tier, measured: pd.DataFrame) -> tuple[dict[tuple[str, str], float], list[str]]:
    """Weight per (scenario, parameter) measured for every ORM, and the weighted scenarios left out."""
    present = measured.groupby("scenario")["parameter"].unique().to_dict()
    weights: dict[tuple[str, str], float] = {}
    left_out = []
    for key, weight in tier.weights.items():
        scenario, parameter = _split(key)
        parameters = [p for p in present.get(scenario, ()) if parameter is None or p == parameter]
        if weight and not parameters:
            left_out.append(key)
        for p in parameters:
            weights[(scenario, p)] = weights.get((scenario, p), 0.0) + weight / len(parameters)
    return {k: w for k, w in weights.items() if w}, left_out


def _recommend(
    tier: Tier, database: str, rows: pd.DataFrame, between: Ratios, rng: np.random.Generator
) -> Recommendation:
    adapters = adapters_in(rows)
    orms = [a for a in adapters if a in ORMS]
    medians = rows.pivot_table(index=["scenario", "parameter"], columns="adapter", values="time_median")
    complete = medians.dropna(subset=orms).reset_index()
    weights, left_out = _benchmark_weights(tier, complete)
    coverage = 1 - sum(tier.weights[key] for key in left_out) / sum(tier.weights.values())
    if not orms or not weights:
        return Recommendation(tier.name, database, {}, None, None, None, None, left_out=left_out)
    ratios = _ratios_to_fastest(
        medians.loc[list(weights)], [a for a in adapters if a in ORMS or a == BASELINE], database, between
    )
    w = pd.Series(weights)
    scores = {a: float(np.exp((np.log(ratios[a]) * w).sum() / w.sum())) for a in adapters if ratios[a].notna().all()}
    ranked = sorted(orms, key=scores.__getitem__)
    if len(ranked) < 2:
        return Recommendation(tier.name, database, scores, ranked[0], None, None, None, [], left_out, coverage)
    winner, runner_up = ranked[:2]
    lead = pd.Series({key: between(runner_up, winner, (database, *key)) for key in weights})
    return Recommendation(
        tier.name,
        database,
        scores,
        winner,
        runner_up,
        scores[runner_up] / scores[winner] - 1,
        _interval(between, database, winner, runner_up, w, rng),
        _deciders(lead, w),
        left_out,
        coverage,
    )


def _ratios_to_fastest(medians: pd.DataFrame, scale: list[str], database: str, between: Ratios) -> pd.DataFrame:
    """Per weighed benchmark, each measured adapter's ratio to the fastest of `scale` (the ORMs and the baseline: a
    reference store, another kind of store, is scored against them but does not set the scale)."""
    rows = {}
    for key, measured in medians.iterrows():
        present = [a for a in measured.index if pd.notna(measured[a])]
        case = (database, *key)
        fastest = between.fastest([a for a in scale if a in present], case)
        rows[key] = {a: between(a, fastest, case) for a in present}
    return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=medians.columns)


def _interval(
    between: Ratios, database: str, winner: str, runner_up: str, weights: pd.Series, rng: np.random.Generator
) -> tuple[float, float] | None:
    """Bootstrap 95 percent interval of the margin: each benchmark's ratio of the runner-up over the winner resampled
    (its trials and rounds), the draws weighted like the scores; None where a benchmark has too few rounds."""
    log_ratio = np.zeros(BOOTSTRAP_RESAMPLES)
    for (scenario, parameter), weight in weights.items():
        case = (database, scenario, parameter)
        draws = between.draws(runner_up, winner, case, rng)
        if draws is None:
            return None
        log_ratio += weight * draws
    return percentile_interval(np.exp(log_ratio / weights.sum()) - 1)


def _deciders(lead: pd.Series, weights: pd.Series) -> list[Decider]:
    """The benchmarks that contribute most to the winner's lead (`lead`: the runner-up's ratio over the winner's per
    benchmark), largest first (at most three)."""
    contribution = weights * np.log(lead)
    total = contribution.sum()
    top = contribution[contribution > 0].sort_values(ascending=False).head(3)
    return [Decider(_label(key), float(lead[key]), float(top[key] / total) if total else 0.0) for key in top.index]


def _label(key: tuple[str, str]) -> str:
    scenario, parameter = key
    return f"{scenario}[{parameter}]" if parameter else scenario


def recommendations_frame(recommendations: list[Recommendation]) -> pd.DataFrame:
    """The tier table: one row per tier and database, one score column per adapter, then the verdict."""
    adapters = list(dict.fromkeys(a for r in recommendations for a in r.scores))
    return pd.DataFrame([_row(r, adapters) for r in recommendations])


def _row(r: Recommendation, adapters: list[str]) -> dict[str, str]:
    scores = {a if a in ORMS else f"{a} (scale)": _score(r.scores.get(a)) for a in adapters}
    return {
        "tier": r.tier,
        "database": r.database,
        **scores,
        "recommended": r.winner or "-",
        "runner-up": r.runner_up or "-",
        "margin": f"{r.margin:+.0%}" if r.margin is not None else "-",
        "beyond spread": _verdict(r),
        "weight measured": f"{r.coverage:.0%}",
        "decided by": ", ".join(f"{d.benchmark} ({d.ratio:.2f}x)" for d in r.deciders) or "-",
    }


def _score(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _verdict(r: Recommendation) -> str:
    if r.interval is None:
        return "-" if r.margin is None else "not judged (too few rounds)"
    low, high = r.interval
    return f"{'yes' if r.beyond_spread else 'no'} (95% {low:+.0%} to {high:+.0%})"


def across_runs(per_run: list[list[Recommendation]]) -> pd.DataFrame:
    """The run-to-run view of repeated runs: per tier and database, how often each ORM won, and the range of
    the margins (each run's winner over its runner-up)."""
    rows = []
    by_key: dict[tuple[str, str], list[Recommendation]] = {}
    for recommendations in per_run:
        for r in recommendations:
            by_key.setdefault((r.tier, r.database), []).append(r)
    for (tier, database), found in by_key.items():
        winners = pd.Series([r.winner for r in found if r.winner]).value_counts()
        margins = [r.margin for r in found if r.margin is not None]
        rows.append(
            {
                "tier": tier,
                "database": database,
                "winners": ", ".join(f"{name} {count}/{len(found)}" for name, count in winners.items()) or "-",
                "margin range": f"{min(margins):+.0%} to {max(margins):+.0%}" if margins else "-",
                "same winner every run": "yes" if len(winners) == 1 and winners.iloc[0] == len(found) else "no",
            }
        )
    return pd.DataFrame(rows)
