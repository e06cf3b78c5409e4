"""Property tests of the vectorized core over random valid parameters.

Parameters are drawn from the ranges the schema itself declares (field metadata), so
the properties hold for anything a user may configure, not for a few hand-picked sets.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from conftest import config, known_attacks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import BaseConfig, validate
from sim.engine import Simulation
from sim.rules.militia import attack_rates
from sim.rules.us import response_trigger

# fields that shape the map or the run itself rather than behaviour
_FIXED = {
    "seed",
    "days",
    "replicates",
    "cell_size_deg",
    "lat",
    "lon",
    "lat_min",
    "lat_max",
    "lon_min",
    "lon_max",
}


def _draw_value(draw, f: dataclasses.Field, default):
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    if isinstance(default, int) and not isinstance(default, bool):
        top = hi if hi is not None else lo + max(3 * default, 10)
        return draw(st.integers(int(lo), int(top)))
    low = lo + (1e-3 if f.metadata.get("open") else 0.0)
    top = hi if hi is not None else max(low + 1.0, 4.0 * default)
    return draw(st.floats(low, top, allow_nan=False, allow_infinity=False))


def _randomise(draw, node) -> None:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            _randomise(draw, value)
        elif isinstance(value, list):
            for item in value:
                if dataclasses.is_dataclass(item):
                    _randomise(draw, item)
        elif "what" in f.metadata and f.name not in _FIXED:
            setattr(node, f.name, _draw_value(draw, f, value))


@st.composite
def valid_configs(draw) -> BaseConfig:
    cfg = config("days=40", "replicates=6")
    cfg.seed = draw(st.integers(0, 2**32))
    _randomise(draw, cfg)
    for militia in cfg.actors.militias:  # the cross-field constraints on numbers
        militia.fighters = min(militia.fighters, militia.max_fighters)
        if militia.splinter_of:  # a splinter waits with nothing of its own
            militia.fighters = militia.supply_share = 0.0
    validate(cfg)
    return cfg


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@SETTINGS
@given(valid_configs())
def test_probabilities_stay_in_unit_interval_and_state_finite(cfg):
    sim = Simulation(cfg)
    none = known_attacks([], [], [], [])
    while not sim.done:
        rate, cap, opportunity = attack_rates(sim.state, sim.params, sim.day)
        p_attack = -np.expm1(-rate.sum(axis=2))
        assert np.isfinite(rate).all() and (rate >= 0).all()
        assert ((p_attack >= 0) & (p_attack <= 1)).all()
        assert ((cap >= 0) & (cap <= 1)).all()
        trigger = response_trigger(sim.state, sim.params, none)
        assert ((trigger >= 0) & (trigger <= 1)).all()
        sim.step()
    s = sim.state
    for f in dataclasses.fields(s):
        arr = getattr(s, f.name)
        assert np.isfinite(arr).all(), f.name
    assert ((s.perceived_risk >= 0) & (s.perceived_risk <= 1)).all()
    assert ((s.iran_green >= 0) & (s.iran_green <= 1)).all()
    assert (s.stock >= 0).all() and (s.fighters >= 0).all()
    assert not sim.result().daily.isna().any().any()


@pytest.mark.slow
@SETTINGS
@given(valid_configs())
def test_zero_capability_gives_zero_attacks(cfg):
    for militia in cfg.actors.militias:
        militia.stock = {}
    for weapon in cfg.weapons.values():
        weapon.supplied_per_day = 0.0
    result = Simulation(cfg).run()
    militia = result.events[result.events.actor == "militia"]
    # crowds and splits need no stocks
    assert militia.kind.isin(["embassy_assault", "splinter_formed"]).all()
    assert result.daily.attacks.sum() == 0


@SETTINGS
@given(valid_configs(), st.data())
def test_more_air_defence_never_raises_casualties(cfg, data):
    """Same draws, more interception: each attack's casualties can only fall (day one)."""
    stronger = copy.deepcopy(cfg)
    for site in stronger.theatre.sites:
        site.air_defence = data.draw(st.floats(site.air_defence, 1.0))
    for c in (cfg, stronger):
        for militia in c.actors.militias:
            militia.base_attack_rate = 2.0  # make day-one attacks common
    weak, strong = Simulation(cfg), Simulation(stronger)
    weak.step()
    strong.step()
    np.testing.assert_array_equal(weak.state.attacks_today, strong.state.attacks_today)
    assert (strong.state.killed_us_today <= weak.state.killed_us_today).all()
    assert (strong.state.wounded_us_today <= weak.state.wounded_us_today).all()
