"""The tier file and the recommendation computed from the small run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.report.results import BASELINE, COLUMNS, load_run, time_summary
from harness.report.tiers import (
    DEFAULT_TIERS,
    Tier,
    TierFileError,
    across_runs,
    load_tiers,
    recommend,
    recommendations_frame,
    select,
)
from scenarios import CATALOGUE
from tests.reports.conftest import SmallRun


def test_default_tiers_are_the_six_and_valid() -> None:
    tiers = load_tiers(DEFAULT_TIERS, CATALOGUE)
    assert list(tiers) == ["PRIMARY", "USERS", "AUDIT", "CACHE", "EMBEDDINGS", "GRAPH"]
    assert all(t.description and any(t.weights.values()) for t in tiers.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[PRIMARY\nweights = 1", "does not parse"),
        ("[PRIMARY]\ndescription = 'x'", "needs a \\[PRIMARY.weights\\] table"),
        ("[PRIMARY.weights]\nget_by_pk = -1", "must be a finite number >= 0"),
        ("[PRIMARY.weights]\nget_by_pk = 'high'", "must be a finite number >= 0"),
        ("[PRIMARY.weights]\nget_by_pk = true", "must be a finite number >= 0"),
        ("[PRIMARY.weights]\nget_by_pk = nan", "must be a finite number >= 0"),
        ("[PRIMARY.weights]\nget_by_pk = 0", "every weight is zero"),
        ("[PRIMARY.weights]\nget_by_pkk = 1", "unknown scenario get_by_pkk"),
        ("[PRIMARY]\ncolour = 'red'\n[PRIMARY.weights]\nget_by_pk = 1", "unknown keys colour"),
        ("", "defines no tiers"),
    ],
)
def test_bad_tier_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(text)
    with pytest.raises(TierFileError, match=message):
        load_tiers(path, CATALOGUE)


def test_a_user_tier_and_a_parameter_weight(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text('[QUEUE.weights]\n"concurrent_get_by_pk[concurrency=8]" = 2\ninsert_one = 1\n')
    assert load_tiers(path, CATALOGUE)["QUEUE"].weights == {
        "concurrent_get_by_pk[concurrency=8]": 2.0,
        "insert_one": 1.0,
    }
    assert list(select(load_tiers(path, CATALOGUE), ["queue"])) == ["QUEUE"]
    with pytest.raises(TierFileError, match="unknown tier NOPE"):
        select(load_tiers(path, CATALOGUE), ["NOPE"])


def test_score_is_the_weighted_geometric_mean_of_ratios(small_run: SmallRun) -> None:
    table = load_run(small_run.directory).table
    tier = Tier("T", "", {"get_by_pk": 3.0, "one_level": 1.0, "concurrent_get_by_pk": 2.0})
    summary = time_summary(table)
    for r in recommend(table, {"T": tier}):
        rows = summary[summary["database"] == r.database]
        expected = {}
        for adapter in rows["adapter"].unique():
            logs, weights = [], []
            for (scenario, _), group in rows.groupby(["scenario", "parameter"]):
                if scenario in tier.weights:
                    share = tier.weights[scenario] / rows.loc[rows["scenario"] == scenario, "parameter"].nunique()
                    ratio = group.set_index("adapter")["time_median"] / group["time_median"].min()
                    logs.append(np.log(ratio[adapter]))
                    weights.append(share)
            expected[adapter] = float(np.exp(np.average(logs, weights=weights)))
        assert r.scores == pytest.approx(expected)
        orms = {a: s for a, s in r.scores.items() if a != BASELINE}
        assert r.winner == min(orms, key=orms.__getitem__) and r.winner != BASELINE
        assert r.runner_up is not None
        assert r.margin == pytest.approx(r.scores[r.runner_up] / r.scores[r.winner] - 1)
        assert r.coverage == 1.0 and not r.left_out
        assert {d.benchmark.split("[")[0] for d in r.deciders} <= set(tier.weights)


def _two_trials(ratios: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """A results table of one benchmark (get_by_pk on SQLite) in two trials of 20 paired rounds: raw's rounds drift
    (the machine), each adapter's are raw's times its ratio in that trial."""
    drift = np.random.default_rng(5).uniform(1e-4, 2e-4, 40)
    rows = []
    for adapter, (first, second) in {BASELINE: (1.0, 1.0), **ratios}.items():
        data = np.concatenate([first * drift[:20], second * drift[20:]])
        keys = ("r", adapter, "sqlite", "get_by_pk", "crud", "")
        rows += [(*keys, "time_sample", float(x), "s") for x in data]
        rows += [(*keys, "trial_rounds", 20.0, "rounds")] * 2
        stats = {"time_median": np.median(data), "time_iqr": 0.0, "time_q1": 0.0, "time_q3": 0.0, "time_cv": 0.01}
        rows += [(*keys, metric, float(value), "") for metric, value in (stats | {"rounds": len(data)}).items()]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_scores_and_margin_are_the_report_s_ratios_over_trials() -> None:
    """Within each trial the adapters' rounds keep a constant ratio to raw's (2.0 and 3.0, then 2.0 and 2.4): the
    scores are the trials' geometric means whatever the machine did round by round, and the margin's interval spans
    what the two trials say (Piccolo over Tortoise 1.5 and 1.2)."""
    table = _two_trials({"tortoise": (2.0, 2.0), "piccolo": (3.0, 2.4)})
    (r,) = recommend(table, {"T": Tier("T", "", {"get_by_pk": 1.0})})
    assert r.scores == pytest.approx({BASELINE: 1.0, "tortoise": 2.0, "piccolo": (3.0 * 2.4) ** 0.5})
    assert (r.winner, r.runner_up) == ("tortoise", "piccolo")
    assert r.margin == pytest.approx((1.5 * 1.2) ** 0.5 - 1)
    assert r.interval == pytest.approx((0.2, 0.5)) and r.beyond_spread is True
    assert [(d.benchmark, d.ratio) for d in r.deciders] == [("get_by_pk", pytest.approx((1.5 * 1.2) ** 0.5))]


def test_unmeasured_scenarios_are_named_not_scored(small_run: SmallRun) -> None:
    table = load_run(small_run.directory).table
    tier = Tier("T", "", {"get_by_pk": 1.0, "read_large": 3.0})
    (r, *_) = recommend(table, {"T": tier})
    assert r.left_out == ["read_large"] and r.coverage == pytest.approx(0.25)
    frame = recommendations_frame([r])
    assert frame.loc[0, "weight measured"] == "25%" and frame.loc[0, "recommended"] == r.winner


def test_across_runs_counts_winners(small_run: SmallRun) -> None:
    table = load_run(small_run.directory).table
    tiers = {"T": Tier("T", "", {"get_by_pk": 1.0, "one_level": 1.0})}
    once = recommend(table, tiers)
    frame = across_runs([once, once])
    assert list(frame["same winner every run"]) == ["yes"] * len(once)
    assert list(frame["winners"]) == [f"{r.winner} 2/2" for r in once]
