"""Each mechanism can be switched off in the configuration, and then never acts.

The switches are the ones docs/ODD.md lists (section 3): setting the named rates to zero.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import config

from sim.engine import run

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


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(SWITCHES))
def test_switching_a_mechanism_off_removes_its_events(baseline, kind):
    assert (baseline.events.kind == kind).any(), f"{kind} should happen at the defaults"
    off = run(config(*BASE, *SWITCHES[kind]))
    assert not (off.events.kind == kind).any()


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
