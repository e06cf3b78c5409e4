"""Dated inputs (docs/ODD.md section 7): each declared input can be switched off
(``inputs.NAME=off``) and moves the output it is documented to move, on common random
numbers (same seed, input on vs off); ``inputs=off`` switches all off; an input holds from
its date through its ``until`` and then gives the parameter back; one dated before the
start holds from day 0, one after the horizon does not act; overlapping inputs apply in
their order."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim.config import InputConfig, active_inputs
from sim.engine import Simulation


@functools.cache
def _run(*overrides: str) -> Simulation:
    sim = Simulation(config("output.events=all", "output.daily=full", *overrides))
    sim.run()
    return sim


def _attacks(sim: Simulation, first: str, last: str, column: str = "attacks") -> float:
    daily = sim.daily_frame()
    inside = (daily.date >= first) & (daily.date <= last)
    return float(daily.loc[inside, column].sum())


def _events(sim: Simulation, kind: str, first: str, last: str) -> int:
    ev = sim.events_frame()
    return int(((ev.kind == kind) & (ev.date >= first) & (ev.date <= last)).sum())


def _personnel(sim: Simulation, site: str) -> np.ndarray:
    th = sim.params.theatre
    return sim.state.personnel[:, th.us_column[th.site_index[site]]]


def _green(sim: Simulation, first: str, last: str) -> float:
    return _attacks(sim, first, last, "iran_green_light")


DEFAULT = ("replicates=100", "seed=3")
SUMMER = ("scenario=summer2020_convoys", "replicates=100", "seed=3")
BIDEN = ("scenario=biden2021", "replicates=100", "seed=3")
GAZA = ("scenario=gaza2023", "replicates=100", "seed=3")

#: each declared input: the run, and (output, whether it is larger with the input on)
DECLARED = {
    # fewer attacks in April and May 2020 under the COVID-19 lull
    ("default", "covid_lull"): (
        (*DEFAULT, "days=250"),
        lambda s: _attacks(s, "2020-04-01", "2020-05-31"),
        False,
    ),
    # no US personnel left at a handed-over site after its date
    ("default", "qayyarah_handover"): (
        (*DEFAULT, "days=190"),
        lambda s: _personnel(s, "qayyarah").sum(),
        False,
    ),
    ("default", "k1_handover"): (
        (*DEFAULT, "days=190"),
        lambda s: _personnel(s, "k1").sum(),
        False,
    ),
    ("default", "taji_handover"): (
        (*DEFAULT, "days=340"),
        lambda s: _personnel(s, "taji").sum(),
        False,
    ),
    # more Iraqi raids on the groups in the month after a Strategic Dialogue round
    ("default", "dialogue_june_2020"): (
        (*DEFAULT, "days=290"),
        lambda s: _events(s, "iraqi_raid", "2020-06-11", "2020-07-10"),
        True,
    ),
    ("default", "dialogue_august_2020"): (
        (*DEFAULT, "days=360"),
        lambda s: _events(s, "iraqi_raid", "2020-08-20", "2020-09-18"),
        True,
    ),
    ("summer2020_convoys", "dialogue_august_2020"): (
        (*SUMMER, "days=80"),
        lambda s: _events(s, "iraqi_raid", "2020-08-20", "2020-09-18"),
        True,
    ),
    ("summer2020_convoys", "taji_handover"): (
        (*SUMMER, "days=60"),
        lambda s: _personnel(s, "taji").sum(),
        False,
    ),
    # fewer attacks in the second half of October 2020 under the truce
    ("summer2020_convoys", "militia_truce"): (
        SUMMER,
        lambda s: _attacks(s, "2020-10-11", "2020-10-28"),
        False,
    ),
    # a lower green light from Iran between the election and the inauguration (a run
    # lengthened past the preset's horizon)
    ("summer2020_convoys", "us_election"): (
        (*SUMMER, "days=200"),
        lambda s: _green(s, "2020-11-03", "2021-01-17"),
        False,
    ),
    ("biden2021", "dialogue_april_2021"): (
        BIDEN,
        lambda s: _events(s, "iraqi_raid", "2021-04-07", "2021-05-06"),
        True,
    ),
    # drone attacks once the drones arrive (none are shipped before)
    ("biden2021", "drone_arrival"): (
        BIDEN,
        lambda s: _attacks(s, "2021-04-01", "2021-06-28", "attacks_drone"),
        True,
    ),
    ("biden2021", "dialogue_july_2021"): (
        (*BIDEN, "days=220"),
        lambda s: _events(s, "iraqi_raid", "2021-07-26", "2021-08-24"),
        True,
    ),
    # more attacks in the war's first five weeks under Iran's full green light
    ("gaza2023", "gaza_war"): (
        (*GAZA, "days=40"),
        lambda s: _attacks(s, "2023-10-17", "2023-11-23"),
        True,
    ),
    # fewer attacks during the Gaza truce
    ("gaza2023", "gaza_truce"): (
        (*GAZA, "days=50"),
        lambda s: _attacks(s, "2023-11-24", "2023-11-30"),
        False,
    ),
    # more Iraqi raids on the groups while the Higher Military Commission talks
    ("gaza2023", "hmc_talks"): (
        GAZA,
        lambda s: _events(s, "iraqi_raid", "2024-01-27", "2024-02-25"),
        True,
    ),
}


def test_every_declared_input_is_tested():
    for scenario in ("default", "summer2020_convoys", "biden2021", "gaza2023"):
        declared = set(active_inputs(config(f"scenario={scenario}")))
        tested = {name for s, name in DECLARED if s == scenario}
        assert declared == tested, scenario


@pytest.mark.slow
@pytest.mark.parametrize("key", list(DECLARED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_switching_an_input_off_moves_its_output(key):
    overrides, output, larger_on = DECLARED[key]
    on = output(_run(*overrides))
    off = output(_run(*overrides, f"inputs.{key[1]}=off"))
    assert (on > off) if larger_on else (on < off), (key, on, off)


def test_a_handed_over_site_closes_on_its_day_and_its_people_move():
    overrides = ("replicates=20", "days=178", "inputs=off", "doctrine/us=syria_only")
    before = Simulation(config(*overrides))
    before.run()  # to 2020-03-26, the eve of the handover
    cfg = config(*overrides[:1], "days=179", *overrides[2:])
    cfg.inputs = {"q": InputConfig("2020-03-26", "theatre.sites.qayyarah.held", 0, "test")}
    after = Simulation(cfg)
    after.run()
    th = after.params.theatre
    at = th.us_column[th.site_index["qayyarah"]]  # its column in the US sites' arrays
    assert (after.state.personnel[:, at] == 0).all() and not after.state.site_open[:, at].any()
    assert (before.state.personnel[:, at] > 0).all()
    # the troops are not lost: they move to the sites kept in Iraq
    np.testing.assert_allclose(after.state.troops(), before.state.troops())
    ev = after.events_frame()
    closed = ev[(ev.kind == "site_closed") & (ev.date == pd.Timestamp("2020-03-26"))]
    assert len(closed) == min(20, after.config.output.event_sample)


@pytest.mark.slow
def test_all_inputs_off_is_the_run_without_them():
    off = config("inputs=off")
    assert off.inputs == "off" and not active_inputs(off)
    each_off = [f"inputs.{name}=off" for name in active_inputs(config())]
    a = _run("replicates=20", "inputs=off")
    b = _run("replicates=20", *each_off)
    pd.testing.assert_frame_equal(a.daily_frame(), b.daily_frame())
    assert not _run("replicates=20").daily_frame().equals(a.daily_frame())


def _schedule_run(
    inputs: dict, path: str = "doctrine.iran.green_light", *overrides: str
) -> list[float]:
    """The parameter at ``path`` (Iran's green light) on each day of a short run with
    ``inputs``."""
    cfg = config("replicates=2", "days=40", "inputs=off", *overrides)
    cfg.inputs = inputs
    sim = Simulation(cfg)
    seen = []
    while not sim.done:
        sim.step()
        node = sim.params.config
        for key in path.split("."):
            node = getattr(node, key)
        seen.append(node)
    return seen


def test_an_input_holds_through_until_then_gives_the_value_back():
    base = config().doctrine.iran.green_light
    seen = _schedule_run(
        {"x": InputConfig("2019-10-11", "doctrine.iran.green_light", 0.2, "t", until="2019-10-20")}
    )
    assert seen[:10] == [base] * 10 and seen[10:20] == [0.2] * 10 and seen[20:] == [base] * 20


def test_before_the_start_holds_from_day_0_and_after_the_horizon_never_acts():
    base = config().doctrine.iran.green_light
    early = InputConfig("2019-09-01", "doctrine.iran.green_light", 0.2, "t", until="2019-10-05")
    assert _schedule_run({"x": early}) == [0.2] * 5 + [base] * 35
    gone = InputConfig("2019-09-01", "doctrine.iran.green_light", 0.2, "t", until="2019-09-30")
    late = InputConfig("2019-11-10", "doctrine.iran.green_light", 0.2, "t")
    assert _schedule_run({"x": gone, "y": late}) == [base] * 40


def test_overlapping_inputs_apply_in_their_order():
    a = InputConfig(
        "2019-10-01", "doctrine.iran.green_light", 0.2, "t", until="2019-10-20", order=2
    )
    b = InputConfig("2019-10-11", "doctrine.iran.green_light", 0.6, "t", order=1)
    seen = _schedule_run({"a": a, "b": b})
    # b (order 1) applies first, a (order 2) last: a holds while both do, then b
    assert seen[:20] == [0.2] * 20 and seen[20:] == [0.6] * 20


def test_a_scale_multiplies_what_the_doctrine_set_and_a_rate_at_zero_stays_zero():
    raid = InputConfig(
        "2019-10-11", "doctrine.iraq.raid_rate", None, "t", until="2019-10-20", scale=10
    )
    base = config().doctrine.iraq.raid_rate
    seen = _schedule_run({"x": raid}, "doctrine.iraq.raid_rate")
    assert seen[:10] == [base] * 10 and seen[10:20] == [base * 10] * 10 and seen[20:] == [base] * 20
    off = _schedule_run({"x": raid}, "doctrine.iraq.raid_rate", "doctrine.iraq.raid_rate=0")
    assert off == [0.0] * 40


def test_a_scale_stops_at_the_most_the_parameter_allows():
    raid = InputConfig("2019-10-11", "doctrine.iraq.raid_rate", None, "t", scale=10)
    seen = _schedule_run({"x": raid}, "doctrine.iraq.raid_rate", "doctrine.iraq.raid_rate=0.3")
    assert seen[:10] == [0.3] * 10 and seen[10:] == [1.0] * 30  # a probability: at most 1
