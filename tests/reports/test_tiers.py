"""The tier file and the recommendation computed from the small run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.report.results import BASELINE, load_run, time_summary
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
