"""The escalation score (configs/score/, docs/ODD.md section 4): each event adds the score of
its kind to its actor's score; the daily series, the replicate table and the summary carry
the sums; doctrines compare on the same draws; bad input is refused on one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import config

from sim.config import ConfigError, InputConfig, ScoredKindConfig, validate
from sim.daily import SCORE_COLUMNS
from sim.engine import run
from sim.events import Actor, EventKind
from sim.metrics import summary
from sim.params import compile_params

#: the scale of Rivera et al. 2024 (arXiv 2401.03408), as the authors' scoring code gives it
RIVERA_2024 = {
    "de_escalation": -2,
    "status_quo": 0,
    "posturing": 4,
    "non_violent_escalation": 12,
    "violent_escalation": 28,
    "nuclear_escalation": 60,
}
ACTORS = [a.name.lower() for a in Actor]


def test_the_default_scale_is_the_frameworks_and_scores_every_kind_with_a_reason():
    score = config().score
    assert score.name == "rivera2024" and "2401.03408" in score.source
    assert {c.name: c.score for c in score.categories} == RIVERA_2024
    assert set(score.kinds) == {k.name.lower() for k in EventKind}
    for kind, entry in score.kinds.items():
        assert entry.score == RIVERA_2024[entry.category], kind
        assert entry.reason.strip(), f"{kind}: no reason"
    # acts without violence that calm things down are de-escalation, below zero
    for kind in ("truce", "talks_open", "fighters_released", "drawdown"):
        assert score.kinds[kind].category == "de_escalation" and score.kinds[kind].score < 0


def test_the_odd_lists_every_kind_with_its_category_score_and_reason():
    odd = (Path(__file__).resolve().parents[1] / "docs" / "ODD.md").read_text()
    for kind, entry in config().score.kinds.items():
        row = rf"^\| `{kind}` \| [a-z_]+ \| {entry.category} \| {entry.score} \| (.*) \|$"
        found = re.search(row, odd, flags=re.M)
        assert found and found.group(1) == entry.reason, f"docs/ODD.md section 4: {kind}"


def _run_with_every_column():
    """20 default replicates, every event and daily row kept; an attack with US casualties
    scores above the attack alone (so the highest of an event's kinds shows), and truces
    are left out of the mapping (so they score 0)."""
    cfg = config("replicates=20", "output.events=all", "output.daily=full")
    cfg.score.kinds["us_casualties"] = ScoredKindConfig("violent_escalation", 40.0, "test")
    del cfg.score.kinds["truce"]
    return cfg, run(cfg)


def test_each_event_scores_what_the_mapping_says():
    cfg, result = _run_with_every_column()
    events = result.events
    mapped = {kind: entry.score for kind, entry in cfg.score.kinds.items()}
    expected = events["kind"].map(lambda k: mapped.get(k, 0.0)).to_numpy(dtype=float, copy=True)
    # an attack that harms US personnel is also a us_casualties event: the higher score
    attack = (events["actor"] == "militia") & (events["kind"] != "embassy_assault")
    harmed = (attack & ((events["killed_us"] + events["wounded_us"]) > 0)).to_numpy()
    expected[harmed] = np.maximum(expected[harmed], mapped["us_casualties"])
    assert harmed.any()
    np.testing.assert_array_equal(events["score"].to_numpy(), expected)
    assert set(events.loc[events["kind"] == "truce", "score"]) <= {0.0}


def test_the_daily_and_replicate_scores_are_the_sums_of_the_events_scores():
    _, result = _run_with_every_column()
    events, daily, table = result.events, result.daily, result.replicates.set_index("replicate")
    by_actor = events.groupby(["replicate", "actor"])["score"].sum().unstack(fill_value=0.0)
    by_actor = by_actor.reindex(index=table.index, columns=ACTORS, fill_value=0.0)
    per_day = daily.groupby("replicate")[list(SCORE_COLUMNS)].sum()
    for actor, column in zip(ACTORS, SCORE_COLUMNS, strict=True):
        np.testing.assert_allclose(table[column], by_actor[actor], rtol=0, atol=1e-9)
        np.testing.assert_allclose(per_day[column], by_actor[actor], rtol=0, atol=1e-9)
    total = by_actor.sum(axis=1)
    np.testing.assert_allclose(table["score_total"], total, rtol=0, atol=1e-9)
    last = daily[daily["day"] == daily["day"].max()].set_index("replicate")
    np.testing.assert_allclose(last["score_total_cumulative"], total, rtol=0, atol=1e-9)
    # and the day's scores of one replicate accumulate into the cumulative column
    one = daily[daily["replicate"] == 0]
    np.testing.assert_allclose(
        one[list(SCORE_COLUMNS)].sum(axis=1).cumsum(), one["score_total_cumulative"], atol=1e-9
    )
    s = summary(result)
    assert s["score"]["total"] == table["score_total"].iloc[0]
    assert s["ensemble"]["mean_score"]["militia"] == pytest.approx(table["score_militia"].mean())


@pytest.mark.slow
def test_max_pressure_scores_higher_than_restraint_on_the_same_draws():
    """Paired on common random numbers (same seed, same 50 replicates).

    Bound: under ``restraint`` the US strikes only after one attack kills five or more
    (``kill_threshold: 5``), never after wounds or a campaign, never at leaders, and flies
    no bombers over: its score is its posture change after the first US death alone, an
    air-defence upgrade (+4) against site handovers and a drawdown (-2 each), so at most 4.
    Under ``max_pressure`` any attack may be answered (``respond_per_attack: 0.5``, within a
    day), so a year of tens of attacks brings strikes at 28 each: at least 28. Iran strikes
    only past its red line, which only US acts against it cross: never under restraint.

    The total of all actors is another matter: max pressure deters most attacks (each worth
    28, like a strike) and ends most replicates in war, after which nothing more happens, so
    the total is lower under it (docs/ODD.md section 4 says so; update it if this changes).
    """
    tables = {
        name: run(config(f"doctrine/us={name}", "replicates=50", "output.events=none")).replicates
        for name in ("restraint", "max_pressure")
    }
    calm, pressure = tables["restraint"], tables["max_pressure"]
    assert (calm["replicate"] == pressure["replicate"]).all()
    assert calm["score_us"].max() <= 4 < 28 <= pressure["score_us"].min()
    assert (pressure["score_us"] > calm["score_us"]).all()
    assert calm["score_iran"].max() <= 0 < pressure["score_iran"].mean()
    states = ["score_us", "score_iran"]
    assert (pressure[states].sum(axis=1) > calm[states].sum(axis=1)).all()
    assert pressure["score_total"].mean() < calm["score_total"].mean()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("kinds", "alien_invasion", ScoredKindConfig("posturing", 4, "")),
         "score.kinds.alien_invasion: not an event kind (one of air_defence_upgrade, "),
        (("kinds", "truce", ScoredKindConfig("de_escalation", "low", "")),
         "score.kinds.truce.score = 'low': must be a number"),
        (("kinds", "truce", ScoredKindConfig("de_escalation", True, "")),
         "score.kinds.truce.score = True: must be a number"),
        (("kinds", "truce", ScoredKindConfig("de_escalation", float("nan"), "")),
         "score.kinds.truce.score = nan: must be a number"),
        (("kinds", "truce", ScoredKindConfig("peace", -2, "")),
         "score.kinds.truce.category = 'peace': must be one of de_escalation, "),
        (("categories", 0, "many"), "score.categories[0].score = 'many': must be a number"),
    ],
)  # fmt: skip
def test_bad_scores_are_refused_on_one_line_naming_the_field(change, message):
    cfg = config()
    where, key, value = change
    if where == "kinds":
        cfg.score.kinds[key] = value
    else:
        cfg.score.categories[key].score = value
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_kind_left_out_scores_zero_and_the_score_cannot_change_mid_run():
    cfg = config()
    del cfg.score.kinds["show_of_force"]
    validate(cfg)  # allowed: it scores 0
    assert compile_params(cfg).score_of_kind[EventKind.SHOW_OF_FORCE] == 0.0
    cfg = config()
    cfg.inputs = {"x": InputConfig("2020-01-01", "score.kinds.truce.score", 5.0, "test")}
    with pytest.raises(ConfigError, match="cannot change mid-run"):
        validate(cfg)
