"""The Iraqi government's rules (ODD 3 step 6, the Iraq doctrine of ODD 7): embassy
protection, raids and releases, sovereignty votes and truce mediation."""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind, Intent, Signal
from sim.params import at, column
from sim.rng import Stream
from sim.rules.today import Today
from sim.state import NEVER


def act(today: Today) -> None:
    """Embassy protection, raids and releases, sovereignty votes, truce mediation."""
    protect_embassy(today)
    threat = closure_threat_standing(today)
    raid(today, threat)
    release(today)
    vote(today)
    broker_truce(today, threat)


def protect_embassy(today: Today) -> None:
    """Protect the embassy harder after an assault (Trump, 31 Dec 2019, seed 004)."""
    state, iraq = today.state, today.params.config.doctrine.iraq
    assaulted = np.flatnonzero(state.active & state.assault_today)
    state.protection_until[assaulted] = today.day + at(iraq.protection_days, assaulted)
    level = np.where(
        today.day <= state.protection_until, iraq.protection_after_assault, iraq.embassy_protection
    )
    for embassy in today.params.theatre.embassy_columns:  # a column at a time: no copy
        state.protection[:, embassy] = level


def closure_threat_standing(today: Today) -> np.ndarray:
    """(R,) whether the US threat to close its embassy stands today."""
    state, us = today.state, today.params.config.doctrine.us
    return (state.closure_threat_day != NEVER) & (
        today.day - state.closure_threat_day < us.closure_threat_days
    )


def raid(today: Today, threat: np.ndarray) -> None:
    """Raids on the most active group (June 2020 raid on Kataib Hezbollah, seed 003)."""
    state, params = today.state, today.params
    iraq = params.config.doctrine.iraq
    raid_rate = np.where(threat, iraq.raid_rate_under_closure_threat, iraq.raid_rate)
    rows = today.happens(Stream.IRAQ_RAID, raid_rate, state.active)
    militia = np.argmax(state.recent_attacks[rows], axis=1)
    taken = state.fighters[rows, militia] * at(iraq.raid_detention_fraction, rows)
    state.fighters[rows, militia] -= taken
    state.detained[rows, militia] += taken
    state.outrage[rows] += at(params.config.actors.dynamics.outrage_per_raid, rows)
    today.emit(
        rows, EventKind.IRAQI_RAID, Actor.IRAQ_GOV, Action.RAID,
        target=params.strike_site_iraq[militia], signal=Signal.ANNOUNCED, intent=Intent.ENFORCE,
    )  # fmt: skip


def release(today: Today) -> None:
    """Detainees walk free sooner the more seats their group holds (seed 001)."""
    state, params = today.state, today.params
    rows, militia = today.below(
        Stream.IRAQ_RELEASE,
        params.n_militias,
        column(params.config.doctrine.iraq.release_rate) * params.political_weight,
        state.detained > 0,
        row_where=state.active,
    )
    state.fighters[rows, militia] += state.detained[rows, militia]
    state.detained[rows, militia] = 0.0
    today.emit(
        rows, EventKind.FIGHTERS_RELEASED, Actor.IRAQ_GOV,
        target=params.strike_site_iraq[militia],
    )  # fmt: skip


def vote(today: Today) -> None:
    """Parliament votes to expel US forces when sovereignty pressure runs high."""
    state, cfg, day = today.state, today.params.config, today.day
    iraq = cfg.doctrine.iraq
    may_vote = (state.sovereignty >= iraq.expulsion_vote_threshold) & (
        (state.last_vote_day == NEVER) | (day - state.last_vote_day >= iraq.vote_cooldown_days)
    )
    votes = today.happens(
        Stream.EXPULSION_VOTE, iraq.expulsion_vote_probability, state.active & may_vote
    )
    state.last_vote_day[votes] = day
    state.us_resolve[votes] -= at(cfg.doctrine.us.resolve_loss_per_expulsion_vote, votes)
    today.emit(votes, EventKind.EXPULSION_VOTE, Actor.IRAQ_GOV)


def broker_truce(today: Today, threat: np.ndarray) -> None:
    """With the embassy at stake, Baghdad brokers a truce (October 2020)."""
    state, iraq, day = today.state, today.params.config.doctrine.iraq, today.day
    truce = today.happens(
        Stream.TRUCE, iraq.truce_probability, state.active & threat & (day > state.truce_until)
    )
    state.truce_until[truce] = day + at(iraq.truce_days, truce)
    today.emit(truce, EventKind.TRUCE, Actor.IRAQ_GOV)


def cool_down(today: Today) -> None:
    """Sovereignty pressure fades (half-life ``sovereignty_halflife_days``)."""
    today.state.sovereignty *= today.params.sovereignty_decay
