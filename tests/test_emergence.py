"""The ladder emerges from decisions: several routes to the top rungs, uncertain lags and
responses, attribution that can fail (docs/ODD.md, section 3).

The checks read what happened in many replicates, not the order of the code: which events
came before a replicate's first Iranian state strike, how often the US decides to answer a
death with and without attribution uncertainty, and what each new mechanism moves when it
is switched off on the same random draws.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from conftest import config, known_attacks
from scipy import stats

from sim.engine import Simulation, run
from sim.rules.today import Today
from sim.rules.us import attribute, decide_strikes
from sim.state import NEVER

#: the default year with all dated inputs off, and no talks: nothing dated, only mechanisms
YEAR = ("replicates=10000", "output.events=all", "output.daily=quantiles", "inputs=off")


#: the tests that read one cached run share an xdist group, so that run is made on one
#: worker only (under ``--dist loadgroup``)
YEAR_GROUP = pytest.mark.xdist_group("emergence_year")
SWITCH_GROUP = pytest.mark.xdist_group("emergence_switches")


@functools.cache
def _year() -> pd.DataFrame:
    cfg = config(*YEAR)
    assert cfg.inputs == "off" and cfg.scenario.diplomacy_opens is None
    return run(cfg).events


def routes_to_rung_7(events: pd.DataFrame) -> pd.Series:
    """Each replicate that reached rung 7 (an Iranian state strike), by what preceded its
    first one: a leadership strike after an embassy assault, a leadership strike without
    one (a lethal campaign), a US strike on Iranian personnel, or none of these (its
    proxies' losses adding up)."""
    marks = ["embassy_assault", "decapitation", "iranians_struck", "iran_direct_strike"]
    firsts = events[events.kind.isin(marks)].groupby(["replicate", "kind"]).day.min().unstack()
    firsts = firsts.reindex(columns=marks)
    top = firsts.dropna(subset=["iran_direct_strike"])
    before = top[marks[:3]].lt(top["iran_direct_strike"], axis=0)
    return pd.Series(
        np.select(
            [
                before.decapitation & before.embassy_assault,
                before.decapitation,
                before.iranians_struck,
            ],
            ["assault, then leadership strike", "lethal campaign, then leadership strike",
             "strike on Iranian personnel"],
            default="proxy losses",
        ),
        index=top.index,
    )  # fmt: skip


@pytest.mark.slow
@YEAR_GROUP
def test_rung_7_is_reached_by_several_routes():
    routes = routes_to_rung_7(_year())
    counts = routes.value_counts()
    assert len(routes) > 100
    assert (counts > 0).sum() >= 2, counts
    through_assault = (routes == "assault, then leadership strike").mean()
    assert 0 < through_assault < 1, counts


@pytest.mark.slow
@YEAR_GROUP
def test_an_embassy_assault_has_several_routes():
    """Assaults come after US strikes on Iraqi soil, after raids, or with no US strike or
    raid before them at all (the protest movement)."""
    ev = _year()
    marks = ["embassy_assault", "us_strike_iraq", "iraqi_raid", "decapitation"]
    firsts = ev[ev.kind.isin(marks)].groupby(["replicate", "kind"]).day.min().unstack()
    firsts = firsts.reindex(columns=marks).dropna(subset=["embassy_assault"])
    strike_before = firsts.us_strike_iraq.lt(firsts.embassy_assault) | firsts.decapitation.lt(
        firsts.embassy_assault
    )
    raid_only = firsts.iraqi_raid.lt(firsts.embassy_assault) & ~strike_before
    neither = ~strike_before & ~firsts.iraqi_raid.lt(firsts.embassy_assault)
    assert strike_before.any() and raid_only.any() and neither.any()


@pytest.mark.slow
@YEAR_GROUP
def test_iran_sometimes_absorbs_a_loss():
    kinds = _year().kind
    assert (kinds == "iran_absorbs").sum() > 0
    assert (kinds == "iran_direct_strike").sum() > 0


def _decisions(*overrides: str, R: int = 20000):
    """One unclaimed attack by group 0 killing one US national in each of R replicates,
    attributed and decided on: (blamed group, scheduled or not) of each."""
    cfg = config(*overrides)
    sim = Simulation(cfg, replicates=range(R))
    today = Today(sim.state, sim.params, sim.streams, 0, sim.log)
    attacks = known_attacks(np.arange(R), np.zeros(R), np.ones(R), np.zeros(R))
    attacks.signal[:] = 3  # unclaimed
    attribute(today, attacks)
    decide_strikes(today, attacks)
    decided = sim.state.response_due[np.arange(R), attacks.blamed] != NEVER
    return attacks, decided, cfg.doctrine.us


@pytest.mark.slow
def test_attribution_uncertainty_lowers_the_chance_a_death_is_answered():
    """Without attribution uncertainty the US decides with its doctrine's probability;
    with it, only when its Beta confidence reaches the threshold, and then perhaps on the
    wrong group (the true one with probability equal to the confidence)."""
    R = 20000
    _, sure, us = _decisions("doctrine.us.attribution_uncertainty=false", R=R)
    p = us.respond_if_us_killed
    assert p < 1
    assert abs(sure.mean() - p) < 4 * np.sqrt(p * (1 - p) / R)

    attacks, unsure, us = _decisions(R=R)
    q, t = us.intelligence_quality, us.attribution_threshold
    assert q >= 0.5  # the confidence is then a Beta(q / (1 - q), 1)
    confidence = stats.beta(q / (1 - q), 1)
    p_sure_enough = confidence.sf(t)
    expected = p * p_sure_enough
    assert abs(unsure.mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / R)
    # among the decided, the wrong group with probability E[1 - c | c >= t]
    wrong = attacks.blamed[unsure] != 0
    e_wrong = confidence.expect(lambda c: 1 - c, lb=t, conditional=True)
    n = unsure.sum()
    assert abs(wrong.mean() - e_wrong) < 4 * np.sqrt(e_wrong * (1 - e_wrong) / n)


@pytest.mark.slow
def test_only_the_automatic_doctrine_answers_every_attributed_death():
    for name in ("restraint", "proportional", "decapitation", "syria_only", "max_pressure"):
        assert config(f"doctrine/us={name}").doctrine.us.respond_if_us_killed < 1, name
    red = config("doctrine/us=red_line").doctrine.us
    assert red.respond_if_us_killed == 1 and red.attribution_threshold == 0


#: each new mechanism, how to switch it off, an output it moves, and the direction the
#: switch moves it in (on the same random draws)
SWITCHED_OFF = {
    "claims": (
        ["actors.dynamics.claim_probability=0"],
        lambda r: (r.events.signal.isin(["claimed", "claimed_by_front"])).sum(),
        "down",
    ),
    "attribution uncertainty": (
        ["doctrine.us.attribution_uncertainty=false"],
        lambda r: _wrong_blames(r.events),
        "down",
    ),
    "outrage at US strikes": (
        ["actors.dynamics.outrage_per_strike_in_iraq=0"],
        lambda r: (r.events.kind == "embassy_assault").sum(),
        "down",
    ),
    "the protest movement": (
        ["actors.dynamics.protest_outrage=0"],
        lambda r: (r.events.kind == "embassy_assault").sum(),
        "down",
    ),
    "the lethal-campaign route": (
        ["doctrine.us.decapitation_if_lethal_campaign=0"],
        lambda r: (r.events.kind == "decapitation").sum(),
        "down",
    ),
    "lost obedience": (
        [
            "actors.dynamics.obedience_loss_on_decapitation=0",
            "actors.dynamics.obedience_loss_network=0",
        ],
        lambda r: r.daily_quantiles.obedience_mean.min(),
        "up",
    ),
    "envoys": (
        ["doctrine.iran.envoy_visit_probability=0"],
        lambda r: r.daily_quantiles.obedience_mean.mean(),
        "down",
    ),
    "splinters": (
        ["actors.dynamics.splinter_probability=0"],
        lambda r: _attacks(r.events).source.eq("kataib_hezbollah_splinter").sum(),
        "down",
    ),
    "Iran's absorbing a loss": (
        ["doctrine.iran.direct_retaliation_probability=1"],
        lambda r: r.replicates.iran_direct_strikes.sum(),
        "up",
    ),
    "Iran's warning": (
        ["doctrine.iran.warning_probability=0"],
        lambda r: r.events.loc[r.events.kind == "iran_direct_strike", "killed_us"].sum(),
        "up",
    ),
}


def _attacks(events: pd.DataFrame) -> pd.DataFrame:
    return events[events.kind.isin(["base_attack", "convoy_ied"])]


def _wrong_blames(events: pd.DataFrame) -> int:
    attacks = _attacks(events)
    return int((attacks.blamed != attacks.source).sum())


@functools.cache
def _switch_baseline():
    return run(
        config("replicates=2000", "output.events=all", "output.daily=quantiles", "inputs=off")
    )


@pytest.mark.slow
@SWITCH_GROUP
def test_a_splinter_forms_only_as_its_group_loses_its_leaders_and_attacks_in_its_own_name():
    """Kataib Hezbollah's splinter in waiting splits off on the day a US strike kills the
    group's leaders (never otherwise), and attacks, under its own name, only after."""
    events = _switch_baseline().events
    formed = events[events.kind == "splinter_formed"]
    assert formed.source.eq("kataib_hezbollah_splinter").all() and len(formed) > 0
    assert formed.replicate.is_unique  # a splinter forms once
    strikes = events[events.kind == "decapitation"]
    struck = set(zip(strikes.replicate, strikes.day, strikes.target, strict=True))
    split = zip(formed.replicate, formed.day, formed.target, strict=True)
    assert all(at in struck for at in split)
    # not every leadership strike on the group splits it
    on_group = strikes[strikes.target == "jurf_al_sakhar"]
    assert on_group.replicate.nunique() > formed.replicate.nunique()
    theirs = _attacks(events)[lambda a: a.source == "kataib_hezbollah_splinter"]
    assert len(theirs) > 0
    assert (theirs.day > theirs.replicate.map(formed.set_index("replicate").day)).all()
    # a split is not an attack: each replicate's count of attacks is its attack events
    table = _switch_baseline().replicates.set_index("replicate")
    counted = _attacks(events).groupby("replicate").size()
    assert (table.attacks == counted.reindex(table.index, fill_value=0)).all()


@pytest.mark.slow
@SWITCH_GROUP
@pytest.mark.parametrize("mechanism", list(SWITCHED_OFF))
def test_switching_a_new_mechanism_off_moves_its_output(mechanism):
    overrides, output, direction = SWITCHED_OFF[mechanism]
    on = output(_switch_baseline())
    off = output(
        run(
            config(
                "replicates=2000",
                "output.events=all",
                "output.daily=quantiles",
                "inputs=off",
                *overrides,
            )
        )
    )
    assert (off < on) if direction == "down" else (off > on), (mechanism, on, off)


#: a US doctrine of swift, certain punishment of every attack that spares lives and Iraqi
#: soil (depots in Syria destroyed, no leadership strikes), facing an Iran that holds its
#: proxies back: the learned fear of an answer keeps the groups quiet
PUNISH_EVERY_ATTACK = (
    "doctrine/iran=restrain_proxies",
    "doctrine.us.respond_per_attack=1",
    "doctrine.us.respond_if_us_wounded=1",
    "doctrine.us.strike_in_iraq_probability=0",
    "doctrine.us.decapitation_probability=0",
    "doctrine.us.decapitation_if_lethal_campaign=0",
    "doctrine.us.strike_fighter_loss=0.001",
    "doctrine.us.strike_stock_loss=0.8",
    "actors.dynamics.learning_rate=0.3",
)


def _outcomes(*overrides: str) -> pd.Series:
    result = run(config("replicates=200", "output.events=none", "inputs=off", *overrides))
    return result.replicates.outcome.value_counts(normalize=True)


@pytest.mark.slow
def test_deterrence_holds_after_sustained_strong_responses():
    """Sustained quiet after a strong response: common under certain punishment; the same
    draws without the answer to each attack mostly stay in chronic harassment (a quiet
    year by chance, between bursts, is classed the same way, so the share is not 0, but
    it is a small fraction of the punished one)."""
    punished = _outcomes(*PUNISH_EVERY_ATTACK).get("deterrence_holds", 0)
    assert punished > 0.5
    unanswered = _outcomes(*PUNISH_EVERY_ATTACK, "doctrine.us.respond_per_attack=0")
    assert unanswered.get("deterrence_holds", 0) < 0.2 * punished


@pytest.mark.slow
def test_the_us_withdraws_under_domestic_cost_of_casualties():
    """Each US death costs resolve; at a high domestic cost withdrawal is common. With no
    cost of deaths nor of votes, resolve never falls: no withdrawal at all."""
    no_votes = "doctrine.us.resolve_loss_per_expulsion_vote=0"
    assert _outcomes("doctrine.us.resolve_loss_per_us_death=0.4", no_votes)["withdrawal"] > 0.3
    assert "withdrawal" not in _outcomes("doctrine.us.resolve_loss_per_us_death=0", no_votes)


@pytest.mark.slow
def test_the_us_withdraws_under_iraqi_parliamentary_pressure():
    """A sovereignty crisis: a government that puts sovereignty first, expulsion votes that
    cost resolve; common withdrawal, and none when votes cost nothing."""
    crisis = ("doctrine/iraq=sovereignty_first", "doctrine.us.resolve_loss_per_us_death=0")
    assert _outcomes(*crisis, "doctrine.us.resolve_loss_per_expulsion_vote=0.5")["withdrawal"] > 0.3
    assert "withdrawal" not in _outcomes(*crisis, "doctrine.us.resolve_loss_per_expulsion_vote=0")
