"""Each mechanism can be switched off in the configuration, and then never acts.

The switches are the ones docs/ODD.md lists (section 3): setting the named rates to zero.

The switched-off runs are stepped together in one batch: each is a block of the base's 64
replicates whose switch's parameters take their off values (parameters with one value per
replicate), on the same draws; the batch gives each block what its run gives alone
(tests/test_per_replicate.py, a dated input that scales a parameter included), and its
unchanged block must be the base run itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim.config import parameter_at
from sim.engine import Simulation, run
from sim.params import takes_one_per_replicate

BASE = ("replicates=64", "days=365", "seed=2")


@pytest.fixture(scope="module")
def baseline():
    return run(config(*BASE))


SWITCHES = {
    "israeli_strike": ["doctrine.israel.interdiction_rate=0"],
    "iraqi_raid": ["doctrine.iraq.raid_rate=0", "doctrine.iraq.raid_rate_under_closure_threat=0"],
    "embassy_assault": ["actors.dynamics.embassy_assault_rate=0"],
    "decapitation": [
        "doctrine.us.decapitation_probability=0",
        "doctrine.us.decapitation_if_lethal_campaign=0",
    ],
    "iran_direct_strike": ["doctrine.iran.direct_retaliation_probability=0"],
    "iranians_struck": ["doctrine.iran.iranians_at_syria_sites=0"],
    "iran_envoy_visit": ["doctrine.iran.envoy_visit_probability=0"],
    "splinter_formed": ["actors.dynamics.splinter_probability=0"],
    "us_strike_iraq": ["doctrine.us.strike_in_iraq_probability=0"],
    "show_of_force": ["doctrine.us.show_of_force_probability=0"],
    "expulsion_vote": ["doctrine.iraq.expulsion_vote_probability=0"],
}


@pytest.fixture(scope="module")
def switched_off(baseline) -> dict:
    """Each switch's run, by the kind of event it switches off: one batch, the base in its
    first block, each switch in a block of its own."""
    cfg = config(*BASE)
    R, kinds = cfg.replicates, list(SWITCHES)
    blocks = len(kinds) + 1
    values: dict[str, np.ndarray] = {}
    for i, kind in enumerate(kinds, start=1):
        for override in SWITCHES[kind]:
            path, value = override.split("=")
            current = parameter_at(cfg, path)[2]
            assert takes_one_per_replicate(path, current), path
            column = values.setdefault(path, np.array([current] * (blocks * R)))
            column[i * R : (i + 1) * R] = type(current)(float(value))
    sim = Simulation(cfg, np.tile(np.arange(R), blocks), per_replicate=values, runs=blocks)
    while not sim.done:
        sim.step()
    unchanged, *runs = sim.results()
    for frame in ("events", "daily", "replicates"):
        pd.testing.assert_frame_equal(getattr(unchanged, frame), getattr(baseline, frame))
    return dict(zip(kinds, runs, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(SWITCHES))
def test_switching_a_mechanism_off_removes_its_events(baseline, switched_off, kind):
    assert (baseline.events.kind == kind).any(), f"{kind} should happen at the defaults"
    off = switched_off[kind]
    assert len(off.replicates) == len(baseline.replicates)
    assert not (off.events.kind == kind).any()


@pytest.mark.slow
def test_no_us_response_at_all():
    off = run(
        config(
            *BASE,
            "doctrine.us.respond_if_us_killed=0",
            "doctrine.us.respond_if_us_wounded=0",
            "doctrine.us.respond_per_attack=0",
            "doctrine.us.respond_if_count_exceeded=0",
            "doctrine.us.decapitation_probability=0",
            "doctrine.us.decapitation_if_lethal_campaign=0",
        )
    )
    assert off.daily.responses.sum() == 0
    assert not off.events.kind.isin(["us_strike_iraq", "us_strike_syria", "decapitation"]).any()


@pytest.mark.slow
def test_drones_arrive_only_from_their_start_date():
    result = run(
        config(
            "scenario.start_date=2020-10-01",
            "days=240",
            "replicates=16",
            "weapons.drone.supplied_per_day=0.5",
        )
    )
    drones = result.events[result.events.weapon == "drone"]
    assert len(drones) > 0
    assert drones.date.min() >= pd.Timestamp("2021-01-01")
