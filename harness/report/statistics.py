"""The statistics every view of the results shares: the bootstrap of medians and the false discovery rate.

`resampled_medians` resamples one benchmark's raw timing samples with replacement, `BOOTSTRAP_RESAMPLES` times,
and returns the median of each resample. The tier recommendation (harness/report/tiers.py) builds its margin's
interval from it; `ratio_interval` builds the 95 percent interval of one adapter's time over another's (the
ratio of their medians, each benchmark's samples resampled independently, or round by round where the rounds
were interleaved), which the report's tables, the
ratio chart and `orm-harness stability` show. With fewer than `MIN_SAMPLES` rounds there is no interval: the
spread of one or two rounds says nothing. An interval that reaches into `EQUIVALENCE` of 1.0 is a tie: the two
adapters are not told apart beyond the noise.

Every bootstrap takes a `numpy.random.Generator`; `rng(seed)` gives one seeded with `SEED`, so a report is
the same each time it is written from the same results.

`benjamini_hochberg` adjusts the p-values of many tests for their number (the q-values of `orm-harness
compare`): declaring every q below 0.05 significant keeps the expected share of false discoveries among them
at 5 percent, however many benchmarks are compared.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import false_discovery_control

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
MIN_SAMPLES = 3
"""Fewer timing samples than this and there is no interval (the spread is not judged)."""
SEED = 0
EQUIVALENCE = 0.03
"""Two medians within 3% of each other are a tie even where the interval of their ratio excludes 1.0. The interval
sees the noise between the rounds of one run, where interleaving pairs the rounds and makes it narrow; repeated runs
of the same commit move a ratio by more (a median of 3 to 4% over three runs, README "How far to trust a scenario
table"), and an order one run declared from a gap below 1% was reversed by the next. 3% is also the precision
every median is measured to (harness/bench/runner.py)."""


def rng(seed: int = SEED) -> np.random.Generator:
    """The seeded generator of a bootstrap: the same results give the same intervals."""
    return np.random.default_rng(seed)


def resampled_medians(values: Sequence[float], generator: np.random.Generator) -> np.ndarray:
    """The medians of `BOOTSTRAP_RESAMPLES` resamples (with replacement) of `values`."""
    data = np.asarray(values, dtype=float)
    return np.median(data[generator.integers(0, len(data), (BOOTSTRAP_RESAMPLES, len(data)))], axis=1)


def percentile_interval(draws: np.ndarray) -> tuple[float, float]:
    """The central `CONFIDENCE` interval of bootstrap draws."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def ratio_interval(
    numerator: Sequence[float] | None,
    denominator: Sequence[float] | None,
    generator: np.random.Generator | None = None,
) -> tuple[float, float] | None:
    """The bootstrap interval of median(numerator) / median(denominator), or None with too few samples.

    With as many samples on both sides, a resample draws the same rounds from both: interleaved rounds
    (harness/bench/interleave.py) are paired, sample i of each measured in the same round, so what the machine did
    in a round stays on both sides of the ratio instead of widening it. For samples that are not paired, drawing
    the same indices changes nothing: each side is still a uniform resample of its own rounds."""
    if not numerator or not denominator or min(len(numerator), len(denominator)) < MIN_SAMPLES:
        return None
    generator = generator if generator is not None else rng()
    if len(numerator) == len(denominator):
        top, bottom = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
        rounds = generator.integers(0, len(top), (BOOTSTRAP_RESAMPLES, len(top)))
        return percentile_interval(np.median(top[rounds], axis=1) / np.median(bottom[rounds], axis=1))
    return percentile_interval(resampled_medians(numerator, generator) / resampled_medians(denominator, generator))


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
