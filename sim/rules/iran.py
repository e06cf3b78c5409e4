"""Iran's rules (ODD 3 steps 1 and 4, the Iran doctrine of ODD 7): supply along the land
bridge, direct retaliation when its red line is crossed, talks with the US, and the green
light or restraint it gives its proxies."""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind, Intent, Signal
from sim.numerics.reductions import any_last, rows_where_equal, sum_last
from sim.numerics.sampling import negative_binomial_from_uniform, poisson_from_uniform
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
    if today.played is not None:  # a wargame: the Iran team's supply order scales it
        shipped = today.played.iran_supplied(shipped)
    # replicates that have ended keep their stocks (put back after one plain addition: a
    # masked addition costs four times as much)
    ended = np.flatnonzero(~state.active)
    kept = state.stock[ended]
    state.stock += shipped
    state.stock[ended] = kept
    np.minimum(state.stock, params.stock_capacity, out=state.stock)
    # a 30-day moving volume of transfers: what Israeli intelligence sees
    rates = params.supply_rates(today.day)
    if today.played is not None:
        rates = today.played.iran_supplied(rates)
    state.transfer_recent += (sum_last(rates) - state.transfer_recent) / 30.0


def act(today: Today) -> None:
    """Take the day's affronts and decide on them; strike when a decided strike falls due;
    talks; envoys to defiant groups; green light or restraint for proxies."""
    state, iran = today.state, today.params.config.doctrine.iran
    take_affront(today)
    decide_retaliation(today)
    direct_strike(today)
    talk(today)
    send_envoys(today)
    green = iran.green_light * np.exp(-iran.war_aversion * state.tension)
    if today.played is not None:  # a wargame: the Iran team's orders replace the doctrine's
        held = today.played.iran_restrains()
        state.iran_restraint_until[held] = today.day + at(iran.restraint_days, held)
        green = today.played.iran_green(green)
    restraining = today.day < state.iran_restraint_until
    green = np.where(restraining, np.minimum(green, iran.restraint_green_light), green)
    state.iran_green = np.where(state.talks_open, np.minimum(green, iran.talks_green_light), green)


def take_affront(today: Today) -> None:
    """Iran's affront at US acts fades, and grows with today's: a strike on its proxies'
    leaders (more if IRGC officers die with them), its proxies' fighters killed, a strike
    on its own personnel in Syria."""
    state, params = today.state, today.params
    iran = params.config.doctrine.iran
    state.affront *= params.affront_decay
    state.affront += (
        iran.affront_per_decapitation * state.leaders_struck_today
        + iran.affront_per_irgc_killed * state.irgc_killed_today
        + iran.affront_per_fighter_lost * state.proxy_losses_today
        + iran.affront_per_iranians_struck * state.iranians_struck_today
    )


def decide_retaliation(today: Today) -> None:
    """Past its red line, Iran decides: strike US forces itself (after a lag drawn from its
    doctrine's distribution) or absorb the loss. Either way the affront is settled."""
    state, iran = today.state, today.params.config.doctrine.iran
    crossed = np.flatnonzero(
        state.active & (state.affront >= iran.red_line) & (state.retaliation_due == NEVER)
    )
    ordered = np.zeros(0, dtype=np.int64)
    if today.played is not None:  # a wargame: the Iran team strikes when it orders it
        crossed = today.played.doctrine_rows(crossed, "iran")
        ordered = today.played.iran_strikes(state)
    if len(crossed) == 0 and len(ordered) == 0:
        return
    strike = today.happens_in(
        Stream.IRAN_RETALIATION, crossed, at(iran.direct_retaliation_probability, crossed)
    )
    if len(ordered):
        strike, crossed = np.union1d(strike, ordered), np.union1d(crossed, ordered)
    lag = negative_binomial_from_uniform(
        today.uniform(Stream.IRAN_RETALIATION_LAG, 1, strike)[:, 0],
        at(iran.retaliation_lag_days, strike),
        at(iran.retaliation_lag_dispersion, strike),
    )
    state.retaliation_due[strike] = today.day + np.maximum(lag, 1)
    state.affront[crossed] = 0.0
    absorbed = np.setdiff1d(crossed, strike, assume_unique=True)
    today.emit(absorbed, EventKind.IRAN_ABSORBS, Actor.IRAN)


def send_envoys(today: Today) -> None:
    """While a group defies its restraint, Iran may send an envoy, who brings every group
    part of the way back to its baseline obedience."""
    state, params = today.state, today.params
    iran, dyn = params.config.doctrine.iran, params.config.actors.dynamics
    defiant = any_last((state.obedience < column(dyn.defiance_threshold)) & state.formed)
    visited = today.happens(
        Stream.ENVOY_VISIT, iran.envoy_visit_probability, state.active & defiant
    )
    if len(visited) == 0:
        return
    gap = np.maximum(params.obedience[visited] - state.obedience[visited], 0.0)
    state.obedience[visited] += column(at(iran.envoy_visit_effect, visited)) * gap
    today.emit(visited, EventKind.IRAN_ENVOY_VISIT, Actor.IRAN)


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
    warned = today.uniform(Stream.IRAN_WARNING, 1, rows)[:, 0] < at(iran.warning_probability, rows)
    spared = 1.0 - column(np.where(warned, at(iran.warning_effect, rows), 0.0))
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
        target=np.tile(params.theatre.us_sites[targets], len(rows)),
        blamed=today.params.source_of(Actor.IRAN),
        signal=np.repeat(np.where(warned, Signal.WARNED, Signal.UNWARNED), T),
        intent=Intent.RETALIATE,
        munitions=np.broadcast_to(per_target, killed.shape).ravel(),
        killed_us=killed.ravel(),
        wounded_us=wounded.ravel(),
    )
    # proxies are reined in afterwards (seed 002: attacks "scaled down")
    state.iran_restraint_until[rows] = today.day + at(iran.restraint_days, rows)
    us.answer_iran(today, rows, killed.sum(axis=1))
