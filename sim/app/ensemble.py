"""Ask the ensemble: the class's pair of settings on many replicates at once.

Replicate 0 is the class's own run (a replicate draws the same numbers whichever others run
beside it), so the page can mark where the class's history falls in the spread.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.config import BaseConfig
from sim.engine import Simulation

#: replicates a side (each side's run takes about 0.7 s on one core)
REPLICATES = 300
#: the outcomes shown: column of the replicate table -> label
OUTCOMES = {
    "max_rung": "Highest rung",
    "killed_us": "US killed",
    "attacks": "Militia attacks",
}


def side_spread(config: BaseConfig, replicates: int = REPLICATES) -> dict[str, list[int]]:
    """Each outcome of each replicate (replicate 0 first), from the engine's replicate table."""
    quiet = dataclasses.replace(
        config, output=dataclasses.replace(config.output, events="none", daily="quantiles")
    )
    sim = Simulation(quiet, replicates=np.arange(replicates), daily=False)
    table = sim.run().replicates
    return {key: np.rint(table[key].to_numpy()).astype(int).tolist() for key in OUTCOMES}


def spread(config_a: BaseConfig, config_b: BaseConfig, replicates: int = REPLICATES) -> dict:
    """Both sides' outcomes over ``replicates`` replicates of the class's seed."""
    return {
        "replicates": replicates,
        "seed": config_a.seed,
        "outcomes": OUTCOMES,
        "rungs": [[r.level, r.name] for r in sorted(config_a.ladder.rungs, key=lambda r: r.level)],
        "sides": {"A": side_spread(config_a, replicates), "B": side_spread(config_b, replicates)},
    }
