"""The statistics every view of the results shares: one adapter's time over another's, its bootstrap interval, and
the false discovery rate.

A run measures each benchmark in trials, and within a trial the adapters of a scenario in interleaved rounds (round i
of each adapter one after the other, harness/bench/interleave.py). `ratio` is one adapter's time over another's:
within a trial, the median over the rounds of the two adapters' per-round ratio (paired: a slow spell of the machine,
which lasts seconds here, falls on both sides of each round's ratio and cancels); across trials, the geometric mean
of the trials' ratios. Where the two have different rounds in a trial (not interleaved), the trial's ratio is the
ratio of its medians. The report's tables, the ratio chart and `orm-harness stability` show this ratio; each
benchmark's own median (pooled over the trials) stays the absolute time shown beside it.

`ratio_interval` is the 95 percent bootstrap interval of `ratio`, resampled at both levels: the trials with
replacement, then the rounds of each trial (in pairs where they are paired). A run's trials can disagree by more
than their rounds' spread (another moment of the machine, another state of the process); an interval from the
pooled rounds alone did not see that, and declared orders that the next run reversed. With fewer than
`MIN_SAMPLES` rounds there is no interval: the spread of one or two rounds says nothing. An interval that reaches
into `EQUIVALENCE` of 1.0 is a tie: the two adapters are not told apart beyond the noise.

Resampling two trials sees their disagreement only as far as those two happened to differ (one degree of freedom,
and the bootstrap halves it), so each draw also gets the run's `trial_effect`: the variance of a trial's log ratio
beyond its rounds' noise, pooled over every pair of adapters in every case of the database that has
`TRIAL_EFFECT_ROUNDS` rounds a trial (where the rounds' own noise is small), a normal draw of variance
trial_effect / trials. Without it, 3.6% to 10% of the differences between two runs of the same commit fell outside
what their intervals allowed (|z| > 1.96, where 5% is the promise; 15% among SQLite's cases of more than 30 rounds),
over four sets of three runs; with it 1.2% to 2.9%, and about one case in fifteen that no run had called a tie
became one (README "How far to trust a scenario table").

`resampled_log_ratios` gives the bootstrap's draws themselves, for a statistic built from several ratios (the tier
recommendation's margin, harness/report/tiers.py).

Every bootstrap takes a `numpy.random.Generator`; `rng(seed)` gives one seeded with `SEED`, so a report is
the same each time it is written from the same results.

`benjamini_hochberg` adjusts the p-values of many tests for their number (the q-values of `orm-harness
compare`): declaring every q below 0.05 significant keeps the expected share of false discoveries among them
at 5 percent, however many benchmarks are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.stats import false_discovery_control

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
MIN_SAMPLES = 3
"""Fewer timing samples than this and there is no interval (the spread is not judged)."""
SEED = 0
EQUIVALENCE = 0.03
"""Two adapters within 3% of each other are a tie even where the interval of their ratio excludes 1.0. The interval
sees the noise within one run, where interleaving pairs the rounds and makes it narrow; repeated runs
of the same commit move a ratio by more (a median of 3 to 4% over three runs, README "How far to trust a scenario
table"), and an order one run declared from a gap below 1% was reversed by the next. 3% is also the precision
every median is measured to (harness/bench/runner.py)."""


TRIAL_EFFECT_ROUNDS = 30
"""Pairs with fewer rounds in a trial do not inform `trial_effect`: their rounds' noise is most of what their trials
disagree by, and its estimate is rough."""


def rng(seed: int = SEED) -> np.random.Generator:
    """The seeded generator of a bootstrap: the same results give the same intervals."""
    return np.random.default_rng(seed)


def resampled_medians(values: Sequence[float] | np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """The medians of `BOOTSTRAP_RESAMPLES` resamples (with replacement) of `values`."""
    data = np.asarray(values, dtype=float)
    return np.median(data[generator.integers(0, len(data), (BOOTSTRAP_RESAMPLES, len(data)))], axis=1)


def percentile_interval(draws: np.ndarray) -> tuple[float, float]:
    """The central `CONFIDENCE` interval of bootstrap draws."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


Trials = Sequence[Sequence[float]]
"""One benchmark's timing samples, trial by trial (harness/report/results.py, `trial_samples`)."""


def ratio(numerator: Trials | None, denominator: Trials | None) -> float | None:
    """numerator's time over denominator's: the geometric mean over the trials of each trial's ratio (the median of
    its per-round ratios where the rounds are paired, else the ratio of its medians); None without samples."""
    logs = trial_log_ratios(numerator, denominator)
    return float(np.exp(np.mean(logs))) if logs else None


def trial_log_ratios(numerator: Trials | None, denominator: Trials | None) -> list[float]:
    """Each trial's log of numerator's time over denominator's (`ratio` is their mean), for the trials both measured."""
    return [_log_ratio(top, bottom) for top, bottom in _trials(numerator, denominator)]


def ratio_interval(
    numerator: Trials | None,
    denominator: Trials | None,
    generator: np.random.Generator | None = None,
    trial_effect: float = 0.0,
) -> tuple[float, float] | None:
    """The bootstrap interval of `ratio(numerator, denominator)`, or None with fewer than `MIN_SAMPLES` rounds on a
    side (`resampled_log_ratios`)."""
    draws = resampled_log_ratios(numerator, denominator, generator if generator is not None else rng(), trial_effect)
    return None if draws is None else percentile_interval(np.exp(draws))


def resampled_log_ratios(
    numerator: Trials | None, denominator: Trials | None, generator: np.random.Generator, trial_effect: float = 0.0
) -> np.ndarray | None:
    """`BOOTSTRAP_RESAMPLES` draws of log `ratio(numerator, denominator)`, or None with fewer than `MIN_SAMPLES`
    rounds on a side. Each draw takes the trials with replacement and, within each trial, its rounds: the same rounds
    from both sides where the trial's rounds are paired (interleaved, sample i of each measured in the same round),
    each side's own where they are not; then adds a normal draw of the run's `trial_effect` over the trials."""
    trials = _trials(numerator, denominator)
    if not trials or min(sum(len(top) for top, _ in trials), sum(len(bottom) for _, bottom in trials)) < MIN_SAMPLES:
        return None
    draws = np.stack([_resampled_log_ratios(top, bottom, generator) for top, bottom in trials], axis=1)
    chosen = generator.integers(0, len(trials), (BOOTSTRAP_RESAMPLES, len(trials)))
    resampled = np.take_along_axis(draws, chosen, axis=1).mean(axis=1)
    if trial_effect > 0:
        resampled += generator.normal(0.0, np.sqrt(trial_effect / len(trials)), BOOTSTRAP_RESAMPLES)
    return resampled


def trial_effect(pairs: Iterable[tuple[Trials, Trials]]) -> float:
    """The variance of a trial's log ratio beyond its rounds' noise (module docstring), pooled over `pairs` (one
    adapter's trials and another's, in the same case); those with fewer than two trials or fewer than
    `TRIAL_EFFECT_ROUNDS` rounds in one do not count. 0.0 where none counts, or where the trials agree no more than
    their rounds say (the estimate is then below zero)."""
    excess = []
    for numerator, denominator in pairs:
        trials = _trials(numerator, denominator)
        if len(trials) < 2 or min(min(len(top), len(bottom)) for top, bottom in trials) < TRIAL_EFFECT_ROUNDS:
            continue
        between = np.var([_log_ratio(top, bottom) for top, bottom in trials], ddof=1)  # arrays built once, above
        excess.append(between - np.mean([_log_ratio_variance(top, bottom) for top, bottom in trials]))
    return max(float(np.mean(excess)), 0.0) if excess else 0.0


def _trials(numerator: Trials | None, denominator: Trials | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The trials both sides measured, as arrays; a trial without samples on either side is left out."""
    pairs = zip(numerator or (), denominator or (), strict=False)
    return [(np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)) for top, bottom in pairs if top and bottom]


def _log_ratio(top: np.ndarray, bottom: np.ndarray) -> float:
    if len(top) == len(bottom):
        return float(np.median(np.log(top / bottom)))
    return float(np.log(np.median(top) / np.median(bottom)))


def _log_ratio_variance(top: np.ndarray, bottom: np.ndarray) -> float:
    """The variance of `_log_ratio` from its rounds, by the large-sample variance of a median: pi/2 sigma^2/n, sigma
    from the median absolute deviation (rounds are heavy-tailed)."""
    if len(top) == len(bottom):
        return _median_variance(np.log(top / bottom))
    return _median_variance(np.log(top)) + _median_variance(np.log(bottom))


def _median_variance(values: np.ndarray) -> float:
    sigma = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    return np.pi / 2 * sigma**2 / len(values)


def _resampled_log_ratios(top: np.ndarray, bottom: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """`_log_ratio` of `BOOTSTRAP_RESAMPLES` resamples of one trial's rounds."""
    if len(top) == len(bottom):
        rounds = generator.integers(0, len(top), (BOOTSTRAP_RESAMPLES, len(top)))
        return np.median(np.log(top / bottom)[rounds], axis=1)
    return np.log(resampled_medians(top, generator)) - np.log(resampled_medians(bottom, generator))


def is_tie(interval: tuple[float, float] | None) -> bool | None:
    """True if a ratio's interval reaches into `EQUIVALENCE` of 1.0 (not told apart beyond the noise); None without
    an interval."""
    if interval is None:
        return None
    return interval[0] <= 1 + EQUIVALENCE and interval[1] >= 1 / (1 + EQUIVALENCE)


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of `p_values`; a NaN (no test) stays NaN and does not count as a test."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        q[tested] = false_discovery_control(p[tested], method="bh")
    return q
