"""Parameters with one value per replicate: a batch of several parameter points gives each
replicate exactly what a run of its point alone gives (common random numbers hold)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import config, replace

from sim.config import ConfigError
from sim.engine import Simulation
from sim.params import takes_one_per_replicate, varies_by_replicate

#: a parameter of every kind the rules read: probabilities, rates, whole days, per-group,
#: per-weapon, dynamics, every doctrine, the ladder
POINTS = {
    "doctrine.us.respond_if_us_wounded": (0.1, 0.9, 0.0),
    "doctrine.us.response_lag_days": (2, 0, 9),
    "doctrine.us.strike_in_iraq_probability": (0.8, 0.2, 1.0),
    "doctrine.us.drawdown_target_troops": (2500.0, 6000.0, 1000.0),
    "doctrine.us.kill_threshold": (1, 2, 1),
    "doctrine.us.decapitation_probability": (0.3, 0.9, 0.6),
    "weapons.rocket.supplied_per_day": (1.0, 3.0, 0.2),
    "doctrine.iran.retaliation_missiles": (16.0, 40.0, 2.0),
    "doctrine.iran.direct_retaliation_probability": (1.0, 0.5, 1.0),
    "doctrine.israel.interdiction_rate": (0.02, 0.1, 0.0),
    "doctrine.iraq.raid_rate": (0.01, 0.05, 0.0),
    "doctrine.iraq.sovereignty_halflife_days": (60.0, 20.0, 200.0),
    "actors.militias.0.obedience": (0.8, 0.2, 0.5),
    "actors.militias.1.supply_share": (0.2, 0.9, 0.0),
    "actors.militias.0.fighters": (3000.0, 6000.0, 1000.0),
    "actors.dynamics.learning_rate": (0.2, 0.5, 0.05),
    "actors.dynamics.embassy_assault_rate": (0.2, 0.8, 0.5),
    "weapons.rocket.kill_per_munition": (0.01, 0.05, 0.002),
    "weapons.drone.stock_half_saturation": (2.0, 8.0, 1.0),
    "actors.personnel_reference": (1000.0, 500.0, 2000.0),
    "ladder.tension_halflife_days": (30.0, 10.0, 90.0),
    "actors.militias.2.grievance_per_strike": (0.5, 2.0, 0.1),
    "actors.militias.1.casualty_aversion": (0.2, 0.0, 0.9),
    "actors.militias.0.salvo_scale": (1.0, 2.5, 0.5),
    "actors.militias.3.stock_capacity": (400.0, 50.0, 1000.0),
    # switches and choices
    "doctrine.us.embassy_closure_threat": (True, False, True),
    "doctrine.us.response_scaling": ("fixed", "escalating", "proportional"),
    "doctrine.us.posture_trigger": ("iran_strike", "first_us_death", "never"),
    "doctrine.us.escalation_step": (0.0, 0.5, 0.2),
}
R = 24


def _point(base, k):
    cfg = base
    for path, values in POINTS.items():
        cfg = replace(cfg, path, values[k])
    return cfg


@pytest.mark.slow
def test_a_batch_of_points_equals_each_point_alone():
    base = config("days=240", "output.events=all", "output.daily=full", "scenario=dec2019_crisis")
    n = len(next(iter(POINTS.values())))
    alone = [Simulation(_point(base, k), range(R)).run() for k in range(n)]
    batch = Simulation(
        base,
        np.tile(np.arange(R), n),
        per_replicate={path: np.repeat(values, R) for path, values in POINTS.items()},
    ).run()
    assert len(batch.events) > 100
    for k, single in enumerate(alone):
        rows = batch.replicates.iloc[k * R : (k + 1) * R].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, single.replicates, check_exact=True)
    # the points differ: each mechanism's parameters moved the outcomes
    assert not alone[0].replicates.equals(alone[1].replicates)


def test_every_parameter_of_the_points_may_vary_by_replicate():
    assert all(varies_by_replicate(path) for path in POINTS)
    # a date or a list of sites differs between batches, not within one
    assert not takes_one_per_replicate("weapons.drone.supplied_from", "2021-01-01")
    assert not takes_one_per_replicate("doctrine.us.consolidation_sites", ["k1"])
    assert not varies_by_replicate("actors.militias.0.reach_km")  # fixes the geometry
    assert not varies_by_replicate("days")


def test_per_replicate_values_must_match_the_replicates():
    with pytest.raises(ConfigError, match="doctrine.us.response_lag_days: 3 values for 4"):
        Simulation(config(), range(4), per_replicate={"doctrine.us.response_lag_days": [1, 2, 3]})
    with pytest.raises(ConfigError, match="reach_km: cannot take one value per replicate"):
        Simulation(config(), range(2), per_replicate={"actors.militias.0.reach_km": [1.0, 2.0]})


@pytest.mark.slow
def test_an_input_that_scales_a_parameter_scales_each_replicates_own_value():
    """The default scenario's Strategic Dialogue rounds scale the raid rate tenfold (from
    11 June 2020, day 254): a batch whose replicates hold different raid rates gives each
    what its run alone gives, the scaled rate capped at the parameter's bound (0.5 x 10 is
    1), not the configuration's rate scaled for all."""
    base = config("days=290", "output.events=all")
    rates = (0.002, 0.05, 0.5)
    n = 12
    alone = [
        Simulation(replace(base, "doctrine.iraq.raid_rate", rate), range(n)).run() for rate in rates
    ]
    batch = Simulation(
        base,
        np.tile(np.arange(n), len(rates)),
        per_replicate={"doctrine.iraq.raid_rate": np.repeat(rates, n)},
    ).run()
    raids = batch.events[batch.events["kind"] == "iraqi_raid"]
    assert (raids["day"] >= 254).any()  # the scaled days act in the batch
    for k, single in enumerate(alone):
        rows = batch.replicates.iloc[k * n : (k + 1) * n].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, single.replicates, check_exact=True)
