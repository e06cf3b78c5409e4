"""The tempo of attacks: self-excitation from the groups' momentum and outbidding
(docs/ODD.md, section 5, "Self-excitation")."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import config

from sim.engine import Simulation, run
from sim.rules.militia import tempo
from sim.scorecard import fit_hawkes


def test_tempo_is_one_plus_own_momentum_plus_outbidding_times_the_others():
    sim = Simulation(config("days=5", "actors.dynamics.outbidding=0.25"), replicates=range(3))
    momentum = np.zeros_like(sim.state.momentum)
    momentum[1, 0] = 2.0
    momentum[2, :2] = (1.0, 3.0)
    sim.state.momentum = momentum
    factor = tempo(sim.state, sim.params)
    np.testing.assert_array_equal(factor[0], 1.0)  # no momentum: the hazard of old
    assert factor[1, 0] == 3.0  # its own success
    np.testing.assert_allclose(factor[1, 1:], 1.0 + 0.25 * 2.0)  # rivals outbid it
    assert factor[2, 0] == 1.0 + 1.0 + 0.25 * 3.0
    assert factor[2, 1] == 1.0 + 3.0 + 0.25 * 1.0


@pytest.mark.slow
def test_each_landed_attack_adds_momentum_and_momentum_fades():
    cfg = config("days=60", "output.events=all", "actors.dynamics.momentum_per_success=0.7")
    sim = Simulation(cfg, replicates=range(400))
    decay = 0.5 ** (1.0 / cfg.actors.dynamics.momentum_halflife_days)
    landed_some = intercepted_some = False
    for _ in range(cfg.days):
        before = sim.state.momentum.copy()
        sim.step()
        events = sim.events_frame()
        today = events[(events["day"] == sim.day - 1) & (events["actor"] == "militia")]
        attacks = today[today["kind"].isin(["base_attack", "convoy_ied"])]
        landed = attacks[~attacks["intercepted"].astype(bool)]
        intercepted_some |= bool(attacks["intercepted"].astype(bool).any())
        gain = np.zeros_like(before)
        names = list(sim.params.source_names)
        for replicate, source in zip(landed["replicate"], landed["source"], strict=True):
            gain[replicate, names.index(source)] += 0.7
        landed_some |= bool(len(landed))
        np.testing.assert_allclose(sim.state.momentum, (before + gain) * decay, rtol=1e-12)
    assert landed_some and intercepted_some  # both cases were met


@pytest.mark.slow
def test_switching_self_excitation_off_leaves_no_momentum_and_fewer_attacks():
    on = run(config("replicates=200", "days=200"))
    off = run(config("replicates=200", "days=200", "actors.dynamics.self_excitation=false"))
    assert off.replicates["attacks"].sum() < on.replicates["attacks"].sum()
    # on the same draws, the first attack of each replicate is the same: momentum acts
    # only after an attack has landed
    first = on.events.groupby("replicate")["day"].min()
    assert first.equals(off.events.groupby("replicate")["day"].min())


def _burstiness(counts: np.ndarray) -> float:
    days = np.repeat(np.arange(len(counts)), counts.astype(int))
    gaps = np.diff(days)
    return float((gaps.std() - gaps.mean()) / (gaps.std() + gaps.mean()))


@pytest.mark.slow
def test_excitation_makes_attacks_bursty_and_self_exciting_on_common_random_numbers():
    """Off, the day's hazard forgets past attacks: gaps are nearly those of a Poisson
    process (burstiness about 0) and the fitted Hawkes branching ratio is near 0. On, an
    attack raises the next days' hazard: gaps cluster and the branching ratio rises."""
    results = {}
    for label, extra in (("on", ()), ("off", ("actors.dynamics.self_excitation=false",))):
        result = run(config("replicates=80", "seed=11", "output.daily=full", *extra))
        daily = result.daily.pivot(index="replicate", columns="day", values="attacks")
        counts = daily.to_numpy()
        counts = counts[counts.sum(axis=1) >= 30]  # the fit needs 30 events (scorecard)
        results[label] = (
            np.median([_burstiness(c) for c in counts]),
            np.median([fit_hawkes(c).branching for c in counts]),
        )
    burst_on, branching_on = results["on"]
    burst_off, branching_off = results["off"]
    assert abs(burst_off) < 0.05
    assert burst_on > burst_off + 0.05
    assert branching_off < 0.1
    assert branching_on > branching_off + 0.2
