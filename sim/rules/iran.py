"""Iran's rules (ODD 3 steps 1 and 4, the Iran doctrine of ODD 7): supply along the land
bridge, direct retaliation when its red line is crossed, talks with the US, and the green
light or restraint it gives its proxies."""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind
from sim.numerics.reductions import rows_where_equal, sum_last
from sim.numerics.sampling import poisson_from_uniform
from sim.params import at, column
from sim.rng import Stream
from sim.rules import us
from sim.rules.effects import record_us_casualties
from sim.rules.today import Today
from sim.state import NEVER


def supply(today: Today) -> None:
    """Iran ships materiel along the land bridge to each group's depots (shares fixed)."""
    state, params = today.state, today.params
    shipped = params.shipments(today.day)
    if state.active.all():  # (the masked addition costs several times the plain one)
        state.stock += shipped
    else:
        np.add(state.stock, shipped, out=state.stock, where=state.active[:, None, None])
    np.minimum(state.stock, params.stock_capacity, out=state.stock)
    # a 30-day moving volume of transfers: what Israeli intelligence sees
    rates = params.supply_rates(today.day)
    state.transfer_recent += (sum_last(rates) - state.transfer_recent) / 30.0


def act(today: Today) -> None:
    """Direct retaliation when the red line is crossed; green light or restraint for proxies."""
    state, iran = today.state, today.params.config.doctrine.iran
    crossed = today.happens(
        Stream.IRAN_RETALIATION,
        iran.direct_retaliation_probability,
        state.active & state.decapitated_today & (state.retaliation_due == NEVER),
    )
    lag = np.maximum(at(iran.retaliation_lag_days, crossed), 1)
    state.retaliation_due[crossed] = today.day + lag
    direct_strike(today)
    talk(today)
    green = iran.green_light * np.exp(-iran.war_aversion * state.tension)
    restraining = today.day < state.iran_restraint_until
    green = np.where(restraining, np.minimum(green, iran.restraint_green_light), green)
    state.iran_green = np.where(state.talks_open, np.minimum(green, iran.talks_green_light), green)


def talk(today: Today) -> None:
    """Talks open on the scenario's date; each US strike may end them (seed 001)."""
    state, params = today.state, today.params
    iran = params.config.doctrine.iran
    if today.day == params.diplomacy_day:
        opening = np.flatnonzero(state.active & ~state.talks_open)
        state.talks_open[opening] = True
        today.emit(opening, EventKind.TALKS_OPEN, Actor.IRAN)
    ending = today.happens(
        Stream.TALKS_COLLAPSE,
        iran.talks_collapse_probability,
        state.active & state.talks_open & (state.responses_today > 0),
    )
    state.talks_open[ending] = False
    today.emit(ending, EventKind.TALKS_COLLAPSE, Actor.IRAN)


def direct_strike(today: Today) -> None:
    """Ballistic missiles on US bases (8 January 2020), warned to spare lives if calibrated."""
    state, params = today.state, today.params
    cfg = params.config
    iran = cfg.doctrine.iran
    rows = rows_where_equal(state.retaliation_due, today.day, state.active)
    targets = params.retaliation_sites
    if len(rows) == 0 or len(targets) == 0:
        return
    state.retaliation_due[rows] = NEVER
    T = len(targets)
    per_target = at(iran.retaliation_missiles, rows) / T
    reference = column(at(cfg.actors.personnel_reference, rows))
    exposure = state.personnel[np.ix_(rows, targets)] / reference
    per_target, kill, wound = (
        column(per_target),
        column(at(iran.missile_kill_per_munition, rows)),
        column(at(iran.missile_wound_per_munition, rows)),
    )
    spared = 1.0 - column(at(iran.warning_effect, rows))
    killed = poisson_from_uniform(
        today.uniform(Stream.IRAN_MISSILE_KILLED, T, rows), per_target * kill * exposure * spared
    )
    wounded = poisson_from_uniform(
        today.uniform(Stream.IRAN_MISSILE_WOUNDED, T, rows), per_target * wound * exposure
    )
    # one event per (replicate, target), each replicate's targets in order: the order in
    # which a loop over the targets would tally them and the event log would sort them
    each = np.repeat(rows, T)
    record_us_casualties(today, each, killed.ravel(), wounded.ravel())
    today.emit(
        each,
        EventKind.IRAN_DIRECT_STRIKE,
        Actor.IRAN,
        Action.BALLISTIC_MISSILE,
        target=np.tile(targets, len(rows)),
        munitions=np.broadcast_to(per_target, killed.shape).ravel(),
        killed_us=killed.ravel(),
        wounded_us=wounded.ravel(),
    )
    # proxies are reined in afterwards (seed 002: attacks "scaled down")
    state.iran_restraint_until[rows] = today.day + at(iran.restraint_days, rows)
    us.answer_iran(today, rows, killed.sum(axis=1))
