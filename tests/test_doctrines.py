"""Each doctrine does what its name says, shown over fixed seeds and many replicates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import config, known_attacks

from sim.config import ConfigError, compose, validate
from sim.engine import Simulation, run
from sim.events import EventKind
from sim.rules.today import Today
from sim.rules.us import decide_strikes, strike_size
from sim.state import NEVER

R = 200
ALL_EVENTS = ("output.events=all", "output.daily=full")


def _run(*overrides):
    return run(config(f"replicates={R}", "seed=4", *ALL_EVENTS, *overrides))


def _strikes(ev):
    return ev[ev.kind.isin(["us_strike_iraq", "us_strike_syria", "decapitation"])]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("group", "options"),
    [
        (
            "us",
            ["restraint", "proportional", "red_line", "decapitation", "syria_only", "max_pressure"],
        ),
        ("iran", ["restrain_proxies", "calibrated", "revenge", "talks_first"]),
        ("israel", ["none", "interdict_syria", "interdict_iraq_and_syria"]),
        ("iraq", ["passive", "crackdown", "sovereignty_first"]),
    ],
)
def test_every_doctrine_composes_under_its_name(group, options):
    for option in options:
        cfg = compose(f"doctrine/{group}={option}")
        assert getattr(cfg.doctrine, group).name == option


@pytest.mark.slow
def test_restraint_never_strikes_below_its_threshold():
    deadly = ("weapons.rocket.kill_per_munition=0.3",)  # make mass-casualty attacks happen
    result = _run("doctrine/us=restraint", *deadly)
    ev, us = result.events, result.config.doctrine.us
    assert us.kill_threshold == 5
    strikes = _strikes(ev)
    assert len(strikes) > 0
    mass = ev[(ev.actor == "militia") & (ev.killed_us >= us.kill_threshold)]
    first_mass = mass.groupby("replicate").day.min()
    # every strike answers a mass-casualty attack in its replicate, on or before its day
    assert (strikes.day.to_numpy() >= first_mass.reindex(strikes.replicate).to_numpy()).all()
    # and smaller deadly attacks, which red_line would answer, happen without reply
    small = ev[(ev.actor == "militia") & (ev.killed_us.between(1, us.kill_threshold - 1))]
    assert len(small) > 0


#: days within which an answer falls almost surely: the red line's lag, a negative binomial
#: of mean 2 and dispersion 0.5, exceeds 30 days with probability below 1e-6
ANSWER_WITHIN = 30


def test_red_line_answers_every_death_and_nothing_else():
    """red_line is the automatic doctrine: every attack that kills a US national is
    answered, on the group blamed, however unsure the blame, after a random lag."""
    result = _run("doctrine/us=red_line")
    us = result.config.doctrine.us
    assert us.respond_if_us_killed == 1.0 and us.attribution_threshold == 0.0
    ev = result.events
    deadly = ev[(ev.actor == "militia") & (ev.killed_us > 0)]
    strikes = _strikes(ev)
    assert len(deadly) > 20
    strike_days = strikes.groupby("replicate").day.apply(list)
    absorbed = result.replicates.set_index("replicate").outcome_day
    for r, d in zip(deadly.replicate, deadly.day, strict=True):
        if d + ANSWER_WITHIN >= result.config.days or 0 <= absorbed[r] <= d + ANSWER_WITHIN:
            continue  # the answer could fall after the horizon or after the war began
        assert any(d <= day <= d + ANSWER_WITHIN for day in strike_days.get(r, [])), (r, d)
    # nothing else: every strike follows a death in its replicate
    first_death = deadly.groupby("replicate").day.min()
    assert (strikes.day.to_numpy() >= first_death.reindex(strikes.replicate).to_numpy()).all()
    assert (ev.kind == "decapitation").sum() == 0


def test_syria_only_never_strikes_inside_iraq():
    result = _run("doctrine/us=syria_only")
    ev = result.events
    strikes = _strikes(ev)
    assert len(strikes) > 0
    assert set(strikes.kind) == {"us_strike_syria"}
    assert (
        result.params.theatre.country[[result.params.theatre.site_index[t] for t in strikes.target]]
        == "syria"
    ).all()

    assert result.replicates.us_strikes_in_iraq.sum() == 0


@pytest.mark.slow
def test_decapitation_strikes_leadership_where_red_line_does_not():
    decap = _run("doctrine/us=decapitation")
    red = _run("doctrine/us=red_line")
    assert (decap.events.kind == "decapitation").sum() > 0
    assert (red.events.kind == "decapitation").sum() == 0
    assert (decap.replicates.max_rung >= 6).mean() > (red.replicates.max_rung >= 6).mean()


@pytest.mark.slow
def test_strike_size_follows_the_doctrine():
    cfg = config("doctrine/us=proportional")
    sim = Simulation(cfg, replicates=[0, 1])
    attacks = known_attacks([0, 1], [2, 0], [0, 2], [0, 1])
    size = strike_size(sim.state, sim.params, attacks)
    assert size[0, 2] == 0.5  # harassment without casualties: half a strike
    assert size[1, 0] == 2.0  # two killed and one wounded: 0.5 * (1 + 3)
    assert size[0, 0] == 0.5  # no attack today (count trigger): half a strike
    huge = known_attacks([0], [1], [40], [0])
    assert strike_size(sim.state, sim.params, huge)[0, 1] == 3.0  # capped
    esc = Simulation(config("doctrine/us=max_pressure"), replicates=[0])
    esc.state.strikes_on_group[0, 1] = 2
    step = esc.params.config.doctrine.us.escalation_step
    assert strike_size(esc.state, esc.params, attacks)[0, 1] == 1 + 2 * step
    fixed = Simulation(config("doctrine/us=red_line"), replicates=[0])
    assert (strike_size(fixed.state, fixed.params, attacks) == 1).all()


@pytest.mark.slow
def test_proportional_answers_harassment_that_red_line_ignores():
    prop, red = _run("doctrine/us=proportional"), _run("doctrine/us=red_line")
    assert prop.replicates.us_strikes.sum() > 2 * red.replicates.us_strikes.sum()
    strikes = _strikes(prop.events)
    assert strikes.killed_militia.std() > 0  # sizes vary with the harm answered


def test_max_pressure_escalates_and_builds_up():
    result = _run("doctrine/us=max_pressure")
    ev, daily = result.events, result.daily
    assert (ev.kind == "build_up").sum() > 0 and (ev.kind == "drawdown").sum() == 0
    start_troops = daily[daily.day == 0].us_troops.iloc[0]
    assert daily.us_troops.max() > start_troops
    # later strikes on the same site kill a larger share than the first (escalating size)
    strikes = _strikes(ev).copy()
    strikes["nth"] = strikes.groupby(["replicate", "target"]).cumcount()
    first = strikes[strikes.nth == 0].killed_militia.mean()
    later = strikes[strikes.nth >= 2].killed_militia.mean()
    assert later > first


@pytest.mark.slow
def test_iran_restraint_removes_state_strikes_and_lowers_attacks():
    calibrated = _run("doctrine/iran=calibrated")
    restrained = _run("doctrine/iran=restrain_proxies")
    assert calibrated.replicates.iran_direct_strikes.sum() > 0
    assert restrained.replicates.iran_direct_strikes.sum() == 0
    d = restrained.replicates.attacks.to_numpy() - calibrated.replicates.attacks.to_numpy()
    assert d.mean() < -3 * d.std(ddof=1) / np.sqrt(R)


@pytest.mark.slow
def test_revenge_kills_where_calibrated_warns():
    deaths = {}
    for option in ("calibrated", "revenge"):
        ev = _run(f"doctrine/iran={option}", "doctrine.us.decapitation_probability=1").events
        iran = ev[ev.kind == "iran_direct_strike"]
        assert len(iran) > 10
        deaths[option] = iran.killed_us.mean()
    assert deaths["revenge"] > 5 * max(deaths["calibrated"], 0.01)


def test_talks_first_holds_proxies_back_while_talks_are_open():
    cfg = config("scenario=biden2021", f"replicates={R}", "doctrine/us=proportional", *ALL_EVENTS)
    sim = Simulation(cfg)
    cap = cfg.doctrine.iran.talks_green_light
    while not sim.done:
        sim.step()
        talks = sim.state.talks_open
        assert (sim.state.iran_green[talks] <= cap + 1e-12).all()
    kinds = sim.log.columns()["kind"]
    talks_day = sim.params.diplomacy_day
    going = (sim.state.outcome_day == NEVER) | (sim.state.outcome_day > talks_day)
    assert (kinds == EventKind.TALKS_OPEN).sum() == going.sum() > 0  # every one still going
    assert 0 < (kinds == EventKind.TALKS_COLLAPSE).sum() < R  # strikes end some of them


@pytest.mark.slow
def test_israel_none_removes_interdiction_and_leaves_more_stock():
    def final_stock(*overrides):
        sim = Simulation(config(f"replicates={R}", "seed=4", *overrides))
        result = sim.run()
        return result, sim.state.stock.sum(axis=(1, 2))

    on, stock_on = final_stock("doctrine/israel=interdict_iraq_and_syria")
    off, stock_off = final_stock("doctrine/israel=none")
    assert on.replicates.israeli_strikes.sum() > 0
    assert off.replicates.israeli_strikes.sum() == 0
    assert stock_off.mean() > stock_on.mean()
    syria = _run("doctrine/israel=interdict_syria").events
    targets = syria[syria.kind == "israeli_strike"].target
    theatre = on.params.theatre
    assert len(targets) and all(theatre.country[theatre.site_index[t]] == "syria" for t in targets)


@pytest.mark.slow
def test_iraqi_doctrines_raid_and_vote_as_named():
    passive = _run("doctrine/iraq=passive")
    crackdown = _run("doctrine/iraq=crackdown")
    sovereign = _run("doctrine/iraq=sovereignty_first")
    assert crackdown.replicates.iraqi_raids.sum() > 3 * passive.replicates.iraqi_raids.sum()
    assert sovereign.daily.sovereignty_pressure.mean() > passive.daily.sovereignty_pressure.mean()
    assert sovereign.replicates.expulsion_votes.sum() > passive.replicates.expulsion_votes.sum()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "rung"),
    [("dec2019_crisis", 7), ("summer2020_convoys", 2), ("biden2021", 4)],
)
def test_historical_presets_reach_their_periods_highest_rung(scenario, rung):
    """December 2019 reached an Iranian state strike (rung 7); summer 2020 rocket attacks
    on bases (rung 2, seed 003); 2021 a US strike in Syria (rung 4, seeds 000, 001)."""
    table = run(config(f"scenario={scenario}", f"replicates={R}", "seed=7")).replicates
    assert (table.max_rung >= rung).mean() > 0


@pytest.mark.slow
def test_counterfactual_presets_change_what_they_say():
    base = run(config("scenario=dec2019_crisis", f"replicates={R}")).replicates
    no_decap = run(config("scenario=dec2019_no_decapitation", f"replicates={R}")).replicates
    no_israel = run(config("scenario=dec2019_no_israel", f"replicates={R}")).replicates
    crackdown = run(config("scenario=dec2019_iraq_crackdown", f"replicates={R}")).replicates
    assert base.decapitations.sum() > 0 and no_decap.decapitations.sum() == 0
    assert base.israeli_strikes.sum() > 0 and no_israel.israeli_strikes.sum() == 0
    assert crackdown.iraqi_raids.sum() > 3 * base.iraqi_raids.sum()


def test_scenario_sets_the_starting_posture():
    cfg = config("scenario=biden2021")
    sim = Simulation(cfg)
    th = sim.params.theatre
    in_iraq = th.us_in_iraq  # the site arrays' columns are the US sites
    assert sim.state.personnel[0, in_iraq].sum() == pytest.approx(2500)
    for name in cfg.scenario.sites_handed_over:
        assert not sim.state.site_open[0, th.us_column[th.site_index[name]]]
    assert sim.params.diplomacy_day == 29  # 2021-01-20 -> 2021-02-18


def test_dated_inputs_take_effect_on_their_date():
    cfg = config("scenario=summer2020_convoys", "replicates=20")
    sim = Simulation(cfg)
    change_day = 102  # 2020-07-01 -> 2020-10-11, the militias' truce
    while sim.day < change_day:
        sim.step()
    assert sim.params.config.doctrine.iran.green_light == 0.8
    sim.step()
    assert sim.params.config.doctrine.iran.green_light == 0.3
    assert (sim.state.iran_green <= 0.3 + 1e-12).all()
    assert cfg.doctrine.iran.green_light == 0.8  # the run's own config is left as it was


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("doctrine.iran.green_light", 1.5, "must be a probability"),
        ("doctrine.iran.no_such_thing", 1.0, "not a parameter"),
        ("theatre.sites.0.lat", 30.0, "cannot change mid-run"),
        ("doctrine.us.posture_trigger", 1.0, "only numeric parameters"),
    ],
)
def test_bad_dated_inputs_are_refused(path, value, message):
    from sim.config import InputConfig

    cfg = config()
    cfg.inputs = {"x": InputConfig(date="2020-01-01", path=path, value=value, source="test")}
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


@pytest.mark.slow
def test_a_user_defined_ladder_is_used_without_code():
    result = run(config("ladder=detailed", "replicates=50", *ALL_EVENTS))
    names = {r.level: r.name for r in result.config.ladder.rungs}
    assert names[6] == "embassy assault" and max(names) == 9
    ev = result.events
    assert (ev[ev.kind == "israeli_strike"].rung == 1).all()
    assert (ev[ev.kind == "embassy_assault"].rung == 6).all()
    assert result.replicates.max_rung.max() <= 9


def test_militia_behaviour_can_change_mid_run():
    from sim.config import InputConfig

    cfg = config("days=30")
    cfg.inputs = {"x": InputConfig("2019-10-11", "actors.militias.1.obedience", 0.1, "test")}
    validate(cfg)
    sim = Simulation(cfg)
    for _ in range(10):
        sim.step()
    assert sim.params.obedience[0, 1] == cfg.actors.militias[1].obedience
    sim.step()
    assert (
        sim.params.obedience[0, 1] == 0.1
        and sim.params.obedience[0, 0] == cfg.actors.militias[0].obedience
    )


def test_campaign_and_closure_triggers_need_attacks():
    """At their lowest settings, the count triggers still need an attack to fire: quiet
    groups are never struck and a quiet Baghdad brings no closure threat."""
    cfg = config("doctrine/us=decapitation", "replicates=20", "days=60", *ALL_EVENTS)
    us = cfg.doctrine.us
    lowest = {f.name: f.metadata.get("lo") for f in dataclasses.fields(us)}
    us.respond_if_count_exceeded = 1.0
    us.attack_count_trigger = lowest["attack_count_trigger"]
    us.closure_threat_baghdad_attacks = lowest["closure_threat_baghdad_attacks"]
    for militia in cfg.actors.militias:
        militia.stock = {}
    for weapon in cfg.weapons.values():
        weapon.supplied_per_day = 0.0
    validate(cfg)
    kinds = set(run(cfg).events.kind)
    assert not kinds & {"us_strike_iraq", "us_strike_syria", "embassy_assault"}, kinds
    assert "embassy_closure_threat" not in kinds


def test_response_lags_follow_the_doctrine_negative_binomial():
    """One death blamed on group 0 in each of 4,000 replicates, under syria_only (lag mean
    10, dispersion 0.5: variance 10 + 0.5 * 10**2 = 60): the scheduled strikes' lags have
    that mean and variance, within four standard errors, and no two are bound to agree."""
    R = 4000
    cfg = config("doctrine/us=syria_only", "doctrine.us.respond_if_us_killed=1")
    cfg.doctrine.us.attribution_uncertainty = False
    sim = Simulation(cfg, replicates=range(R))
    today = Today(sim.state, sim.params, sim.streams, 0, sim.log)
    decide_strikes(today, known_attacks(np.arange(R), np.zeros(R), np.ones(R), np.zeros(R)))
    lag = sim.state.response_due[:, 0]
    assert (lag != NEVER).all()
    us = cfg.doctrine.us
    mean, var = us.response_lag_days, us.response_lag_days + us.response_lag_dispersion * 100
    assert abs(lag.mean() - mean) < 4 * np.sqrt(var / R)
    assert abs(lag.var() - var) < 0.25 * var  # the sample variance of a skewed count
    assert len(np.unique(lag)) > 10
