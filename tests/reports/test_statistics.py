"""The shared statistics: one adapter's time over another's (paired rounds, trials), its bootstrap interval, ties,
Benjamini-Hochberg, the report's use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.report import statistics
from harness.report.compare import _status
from harness.report.report import _family_table
from harness.report.results import below_the_floor, load_run, time_summary, trial_samples
from tests.reports.conftest import SmallRun


def test_the_bootstrap_interval_is_repeatable_and_contains_the_estimate(reference_run: Path) -> None:
    found = trial_samples(load_run(reference_run).table)
    key = next(k for k, v in found.items() if len(v) == 2 and min(map(len, v)) >= 20 and k[0] != "raw")
    slower, raw = found[key], found[("raw", *key[1:])]
    interval = statistics.ratio_interval(slower, raw, statistics.rng())
    estimate = statistics.ratio(slower, raw)
    assert interval == statistics.ratio_interval(slower, raw, statistics.rng())
    assert interval is not None and estimate is not None and interval[0] <= estimate <= interval[1]
    assert interval[1] - interval[0] < 0.5 * estimate


def test_identical_samples_are_a_tie_and_separated_ones_are_not() -> None:
    generator = np.random.default_rng(1)
    same = list(generator.normal(1.0, 0.05, 50))
    assert statistics.is_tie(statistics.ratio_interval([same], [list(same)])) is True
    slower = [x * 1.3 for x in generator.normal(1.0, 0.05, 50)]
    interval = statistics.ratio_interval([slower], [same])
    assert statistics.is_tie(interval) is False and interval is not None and interval[0] > 1.0


def test_a_gap_inside_the_equivalence_band_is_a_tie_however_narrow_its_interval() -> None:
    """Paired rounds make an interval narrow: 1% apart with an interval of 1.005-1.015 is still a tie, since runs of
    the same commit drift by more; beyond the band either way it is not."""
    band = statistics.EQUIVALENCE
    assert statistics.is_tie((1.005, 1.015)) is True
    assert statistics.is_tie((1 + band / 2, 1 + 2 * band)) is True
    assert statistics.is_tie((1 + 1.5 * band, 1 + 3 * band)) is False
    assert statistics.is_tie((0.80, 1 / (1 + 1.5 * band))) is False
    assert statistics.is_tie((0.80, 0.995)) is True


def test_too_few_rounds_give_no_interval() -> None:
    assert statistics.ratio_interval([[1.0]], [[2.0]]) is None
    assert statistics.ratio_interval([[1.0, 1.1]], [[2.0, 2.1, 2.2]]) is None
    assert statistics.ratio_interval([], []) is None and statistics.ratio(None, [[1.0]]) is None
    assert statistics.ratio_interval([[1.0], [1.1, 1.2]], [[2.0], [2.1, 2.2]]) is not None  # three over two trials
    assert statistics.is_tie(None) is None


def test_trials_that_disagree_widen_the_interval_beyond_their_rounds_spread() -> None:
    """Each trial's rounds say 1.2 and 0.9 with no spread at all (paired, a constant ratio per round): the interval
    spans both trials and is a tie, where two trials that both say 1.2 give 1.2 exactly. The ratio is the trials'
    geometric mean."""
    drift = np.random.default_rng(4).uniform(1.0, 1.5, 20)
    first, second = [1.2 * drift, 1.0 * drift], [0.9 * drift, 1.0 * drift]
    trials = [list(first[0]), list(second[0])], [list(first[1]), list(second[1])]
    assert statistics.ratio(*trials) == pytest.approx((1.2 * 0.9) ** 0.5)
    interval = statistics.ratio_interval(*trials, statistics.rng())
    assert interval is not None and statistics.is_tie(interval) is True
    assert interval == pytest.approx((0.9, 1.2))
    agreeing = [list(first[0]), list(1.2 * drift)], [list(first[1]), list(drift)]
    assert statistics.ratio_interval(*agreeing, statistics.rng()) == pytest.approx((1.2, 1.2))


def test_summary_marks_ties_with_the_fastest() -> None:
    """The fastest ORM (raw left out of the choice): raw with the same samples ties with it, a clearly slower ORM
    does not, and the fastest ORM itself is no tie."""
    generator = np.random.default_rng(2)
    base = generator.normal(1e-3, 2e-5, 40)
    rows = []
    for adapter, data in (("raw", base), ("sqlalchemy", base * 1.0), ("tortoise", base * 1.5)):
        keys = ("r", adapter, "sqlite", "get_by_pk", "crud", "")
        rows += [(*keys, "time_sample", float(x), "s") for x in data]
        stats = {"time_median": np.median(data), "time_iqr": 0.0, "time_q1": 0.0, "time_q3": 0.0}
        stats |= {"time_cv": 0.01, "rounds": len(data)}
        rows += [(*keys, metric, float(value), "") for metric, value in stats.items()]
    table = pd.DataFrame(
        rows, columns=["run", "adapter", "database", "scenario", "family", "parameter", "metric", "value", "unit"]
    )
    summary = time_summary(table).set_index("adapter")
    fastest, other = "sqlalchemy", "raw"
    assert set(summary["fastest"]) == {fastest}
    assert summary.loc[fastest, "tied"] is None and summary.loc[other, "tied"] is True
    assert summary.loc["tortoise", "tied"] is False and summary.loc["tortoise", "fastest_low"] > 1.4
    text = _family_table(
        summary.reset_index().assign(
            statements_queries=1.0, statements_round_trips=1.0, rows_per_op=1.0, memory_peak=1.0
        )
    )
    cells = dict(zip(text["adapter"], text["x fastest ORM"], strict=True))
    assert cells[fastest] == "1.00 fastest" and cells[other].endswith("= fastest")
    assert cells["tortoise"].startswith("1.50 (") and "= fastest" not in cells["tortoise"]


def test_one_round_says_so(small_run: SmallRun) -> None:
    summary = time_summary(load_run(small_run.directory).table)
    assert summary["fastest_low"].isna().all() and summary["tied"].isna().all()
    text = small_run.directory.joinpath("report.md").read_text()
    assert "n/a (1 round)" in text and "= fastest |" not in text  # no table cell claims a tie


def test_benjamini_hochberg_on_a_known_vector() -> None:
    p = [0.01, 0.04, 0.03, 0.005, float("nan")]
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 0.02, 0.02, 0.04, 0.04 after the running minimum from the top
    q = statistics.benjamini_hochberg(p)
    assert np.allclose(q[:4], [0.02, 0.04, 0.04, 0.02]) and np.isnan(q[4])
    assert statistics.benjamini_hochberg([]).size == 0


def test_the_status_is_decided_by_q() -> None:
    assert _status(1.0, 1.5, 0.5, 0.01, 0.1, 0.05) == "regression"
    assert _status(1.0, 1.5, 0.5, 0.2, 0.1, 0.05) == "unchanged"  # a p of 0.01 adjusted to a q of 0.2
    assert _status(1.0, 0.5, -0.5, 0.01, 0.1, 0.05) == "improvement"


def _one_benchmark(scales: dict[str, float], rounds: int = 40) -> pd.DataFrame:
    """A results table of one benchmark whose adapters' samples are one sample set scaled."""
    base = np.random.default_rng(3).normal(1e-3, 2e-5, rounds)
    rows = []
    for adapter, scale in scales.items():
        data = base * scale
        keys = ("r", adapter, "postgresql", "update_many", "bulk", "size=1000")
        rows += [(*keys, "time_sample", float(x), "s") for x in data]
        stats = {"time_median": np.median(data), "time_iqr": 0.0, "time_q1": 0.0, "time_q3": 0.0}
        stats |= {"time_cv": 0.01, "rounds": len(data)}
        rows += [(*keys, metric, float(value), "") for metric, value in stats.items()]
    columns = ["run", "adapter", "database", "scenario", "family", "parameter", "metric", "value", "unit"]
    return pd.DataFrame(rows, columns=columns)


def test_an_orm_beating_raw_beyond_the_noise_fails_the_honesty_check() -> None:
    (line,) = below_the_floor(time_summary(_one_benchmark({"raw": 1.0, "tortoise": 0.8, "piccolo": 1.2})))
    assert line.startswith("honesty check failed: tortoise beat the raw baseline on `update_many[size=1000]`")
    assert "(postgresql)" in line and "0.80x raw" in line


def test_below_raw_within_the_noise_or_without_an_interval_passes() -> None:
    assert below_the_floor(time_summary(_one_benchmark({"raw": 1.0, "tortoise": 1.0, "piccolo": 1.3}))) == []
    assert below_the_floor(time_summary(_one_benchmark({"raw": 1.0, "tortoise": 0.5}, rounds=1))) == []


def test_interleaved_rounds_are_paired_so_shared_drift_cancels() -> None:
    drift = np.random.default_rng(1).uniform(1.0, 2.0, 40)  # the machine, round by round, for both adapters
    slow, fast = list(1.2 * drift), list(1.0 * drift)
    paired = statistics.ratio_interval([slow], [fast], statistics.rng())
    unpaired = statistics.ratio_interval([slow], [fast[:-1]], statistics.rng())
    assert paired is not None and unpaired is not None
    assert statistics.ratio([slow], [fast]) == pytest.approx(1.2)
    assert paired == pytest.approx((1.2, 1.2))
    assert unpaired[1] - unpaired[0] > 0.2


def _trials(
    log_ratios: list[float], rounds: int, generator: np.random.Generator
) -> tuple[list[list[float]], list[list[float]]]:
    """Two adapters' paired rounds, trial by trial: trial t's per-round ratio is exp(log_ratios[t]) with 2% of round
    noise, on a drift both share."""
    top, bottom = [], []
    for log_ratio in log_ratios:
        drift = generator.uniform(1.0, 1.5, rounds)
        bottom.append(list(drift))
        top.append(list(drift * np.exp(log_ratio + generator.normal(0, 0.02, rounds))))
    return top, bottom


def test_the_trial_effect_is_how_far_trials_disagree_beyond_their_rounds() -> None:
    """Pairs whose trials differ by a normal effect of 4% on top of their rounds' noise: the pooled estimate finds 4%;
    where the trials differ by their rounds' noise alone it finds next to nothing; pairs with too few rounds a trial
    do not count."""
    generator = np.random.default_rng(5)
    rounds = statistics.TRIAL_EFFECT_ROUNDS
    disagreeing = [_trials(list(generator.normal(0.1, 0.04, 2)), rounds, generator) for _ in range(300)]
    assert np.sqrt(statistics.trial_effect(disagreeing)) == pytest.approx(0.04, rel=0.2)
    agreeing = [_trials([0.1, 0.1], rounds, generator) for _ in range(300)]
    assert np.sqrt(statistics.trial_effect(agreeing)) < 0.01
    short = [_trials(list(generator.normal(0.1, 0.04, 2)), rounds - 1, generator) for _ in range(50)]
    assert statistics.trial_effect(short) == 0.0
    assert statistics.trial_effect([_trials([0.1], rounds, generator)]) == 0.0  # one trial: nothing to compare


def test_the_trial_effect_widens_an_interval_whose_trials_happen_to_agree() -> None:
    """Two trials that both say 1.2 to the round give 1.2 exactly on their own; with a trial effect of 5% the interval
    is about 1.2 exp(+-1.96 * 5% / sqrt(2)), and the ratio itself does not move."""
    drift = np.random.default_rng(6).uniform(1.0, 1.5, 40)
    trials = [list(1.2 * drift), list(1.2 * drift)], [list(drift), list(drift)]
    assert statistics.ratio_interval(*trials, statistics.rng()) == pytest.approx((1.2, 1.2))
    low, high = statistics.ratio_interval(*trials, statistics.rng(), trial_effect=0.05**2) or (0.0, 0.0)
    half_width = 1.96 * 0.05 / np.sqrt(2)
    assert low == pytest.approx(1.2 * np.exp(-half_width), rel=0.01)
    assert high == pytest.approx(1.2 * np.exp(half_width), rel=0.01)
    assert statistics.ratio(*trials) == pytest.approx(1.2)


def _trial_table(database: str, scenario: str, trials: dict[str, list[list[float]]]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for adapter, samples in trials.items():
        keys = ("r", adapter, database, scenario, "crud", "")
        flat = [x for trial in samples for x in trial]
        rows += [(*keys, "time_sample", float(x), "s") for x in flat]
        rows += [(*keys, "trial_rounds", float(len(trial)), "") for trial in samples]
        stats = {"time_median": np.median(flat), "time_iqr": 0.0, "time_q1": 0.0, "time_q3": 0.0}
        stats |= {"time_cv": 0.01, "rounds": len(flat)}
        rows += [(*keys, metric, float(value), "") for metric, value in stats.items()]
    return rows


def test_a_database_whose_trials_disagree_gives_every_case_on_it_wider_intervals() -> None:
    """On PostgreSQL twenty cases' trials disagree by 5%, on SQLite none do; the same agreeing case on each then has
    an interval against raw about 1.1 exp(+-7%) on PostgreSQL and 1.1 exactly on SQLite."""
    generator = np.random.default_rng(7)
    rounds = statistics.TRIAL_EFFECT_ROUNDS
    rows: list[tuple[object, ...]] = []
    for n in range(20):
        tortoise, raw = _trials(list(generator.normal(0.2, 0.05, 2)), rounds, generator)
        rows += _trial_table("postgresql", f"noisy{n}", {"raw": raw, "tortoise": tortoise})
    drift = generator.uniform(1.0, 1.5, rounds)
    agreeing = {"raw": [list(drift), list(drift)], "tortoise": [list(1.1 * drift), list(1.1 * drift)]}
    for database in ("postgresql", "sqlite"):
        rows += _trial_table(database, "agreeing", agreeing)
    columns = ["run", "adapter", "database", "scenario", "family", "parameter", "metric", "value", "unit"]
    summary = time_summary(pd.DataFrame(rows, columns=columns)).set_index(["database", "scenario", "adapter"])
    on_postgresql, on_sqlite = (
        summary.loc[("postgresql", "agreeing", "tortoise")],
        summary.loc[("sqlite", "agreeing", "tortoise")],
    )
    assert (on_sqlite["raw_low"], on_sqlite["raw_high"]) == pytest.approx((1.1, 1.1))
    assert on_postgresql["raw_low"] < 1.1 * np.exp(-0.04) and on_postgresql["raw_high"] > 1.1 * np.exp(0.04)
    assert on_postgresql["ratio_to_raw"] == pytest.approx(1.1)
