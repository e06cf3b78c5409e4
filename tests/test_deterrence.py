"""Deterrence versus revenge: a US response can lower later attacks or raise them.

Each test runs 200 replicates twice on the same random draws (common random numbers):
once with a US that answers attacks and once with a US that never does. The paired
difference in attacks per replicate isolates the effect of responding. Which way it goes
follows from the channels the parameters open:

- deterrence: responses raise perceived risk (risk_sensitivity high, learning fast) and
  destroy fighters and stocks, and strikes add no grievance -> fewer attacks;
- revenge: responses add grievance (grievance_per_strike high) while perceived risk does
  not deter (risk_sensitivity 0), strikes destroy nothing and Iran's restraint does not
  react to tension -> more attacks.

The bound is three standard errors of the paired mean difference (fixed seed), so a
direction that the model did not produce fails with high probability.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import config

from sim.engine import run

pytestmark = pytest.mark.slow  # 2 x 2 runs of 200 replicates

REPLICATES = 200


def _silence(cfg):
    us = cfg.doctrine.us
    us.respond_if_us_killed = us.respond_if_us_wounded = us.respond_per_attack = 0.0
    us.respond_if_count_exceeded = 0.0
    return cfg


def _responsive(cfg):
    us = cfg.doctrine.us
    us.respond_if_us_killed = us.respond_if_us_wounded = 1.0
    us.respond_per_attack = 0.5
    us.decapitation_probability = 0.0  # keep Iran's red line out of this comparison
    us.show_of_force_probability = 0.0
    return cfg


def _paired_difference(make):
    base = config(f"replicates={REPLICATES}", "seed=11")
    answered = run(_responsive(make(base)))
    unanswered = run(_silence(_responsive(make(config(f"replicates={REPLICATES}", "seed=11")))))
    d = answered.replicates.attacks.to_numpy() - unanswered.replicates.attacks.to_numpy()
    assert answered.replicates.us_strikes.sum() > REPLICATES  # the US did answer, often
    assert unanswered.replicates.us_strikes.sum() == 0
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


def _deterrence(cfg):
    for m in cfg.actors.militias:
        m.risk_sensitivity = 8.0
        m.grievance_per_strike = 0.0
    cfg.actors.dynamics.learning_rate = 0.3
    cfg.actors.dynamics.learning_spillover = 1.0
    cfg.doctrine.us.strike_stock_loss = 0.5
    cfg.doctrine.us.strike_fighter_loss = 0.05
    return cfg


def _revenge(cfg):
    for m in cfg.actors.militias:
        m.risk_sensitivity = 0.0
        m.grievance_per_strike = 3.0
    cfg.doctrine.us.strike_stock_loss = 0.0
    cfg.doctrine.us.strike_fighter_loss = 0.0
    cfg.doctrine.iran.war_aversion = 0.0
    return cfg


def test_retaliation_deters_when_risk_and_losses_dominate():
    mean, se = _paired_difference(_deterrence)
    assert mean < -3 * se, (mean, se)


def test_retaliation_provokes_when_grievance_dominates():
    mean, se = _paired_difference(_revenge)
    assert mean > 3 * se, (mean, se)
