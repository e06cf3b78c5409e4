"""Decision rules of the states (MODEL.md section 3, steps 3-6), vectorized over replicates.

Each actor's rule reads its doctrine block of the config (``configs/doctrine/<actor>/``);
swapping a doctrine file changes the numbers these rules use, never the code path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.events import Action, Actor, EventKind, EventLog
from sim.kernels import emit, learn_response, poisson_from_uniform, record_us_casualties
from sim.params import Params
from sim.rng import RandomStreams, Stream
from sim.state import NEVER, Outcome, State

if TYPE_CHECKING:
    from sim.core import Attacks


def _one(streams: RandomStreams, day: int, stream: Stream) -> np.ndarray:
    """One uniform per replicate."""
    return streams.uniform(day, stream, 1)[:, 0]


# --- 3. United States -------------------------------------------------------------------


def us_respond(
    state: State,
    params: Params,
    streams: RandomStreams,
    day: int,
    log: EventLog,
    attacks: Attacks,
) -> None:
    """Decide on today's attacks, carry out strikes now due, and adjust the posture."""
    _decide_strikes(state, params, streams, day, attacks)
    _decide_decapitation(state, params, streams, day)
    _execute_strikes(state, params, day, log)
    _execute_decapitation(state, params, day, log)
    _posture(state, params, streams, day, log)


def response_trigger(state: State, params: Params, attacks: Attacks) -> np.ndarray:
    """(R, M) probability that the US decides today to strike each group."""
    us = params.config.doctrine.us
    by_attack = np.full((state.replicates, params.n_militias), 0.0)
    if attacks.n:
        chance = np.where(
            attacks.killed_us > 0,
            max(us.respond_if_us_killed, us.respond_if_us_wounded, us.respond_per_attack),
            np.where(
                attacks.wounded_us > 0,
                max(us.respond_if_us_wounded, us.respond_per_attack),
                us.respond_per_attack,
            ),
        )
        by_attack[attacks.rows, attacks.militia] = chance
    # a campaign of many attacks in the count window is a trigger of its own (seed 002)
    by_count = np.where(
        state.recent_attacks >= us.attack_count_trigger, us.respond_if_count_exceeded, 0.0
    )
    return 1.0 - (1.0 - by_attack) * (1.0 - by_count)


def _decide_strikes(
    state: State, params: Params, streams: RandomStreams, day: int, attacks: Attacks
) -> None:
    us = params.config.doctrine.us
    M = params.n_militias
    u = streams.uniform(day, Stream.US_RESPONSE, M)
    decide = (
        state.active[:, None]
        & (u < response_trigger(state, params, attacks))
        & (state.response_due == NEVER)
    )
    rows, militia = np.nonzero(decide)
    state.response_due[rows, militia] = day + us.response_lag_days
    where = streams.uniform(day, Stream.US_STRIKE_LOCATION, M, rows)[np.arange(len(rows)), militia]
    state.response_in_iraq[rows, militia] = where < us.strike_in_iraq_probability


def _decide_decapitation(state: State, params: Params, streams: RandomStreams, day: int) -> None:
    """An embassy assault (which only follows a US strike in Iraq) can bring a leadership
    strike: 31 December 2019 -> 3 January 2020."""
    us = params.config.doctrine.us
    # a leadership can only be struck once it has rebuilt itself
    intact = state.leadership[np.arange(state.replicates), state.assault_militia] >= 1.0
    go = (
        state.active
        & state.assault_today
        & intact
        & (state.decapitation_due == NEVER)
        & (_one(streams, day, Stream.DECAPITATION) < us.decapitation_probability)
    )
    state.decapitation_due[go] = day + us.decapitation_lag_days
    state.decapitation_target[go] = state.assault_militia[go]


def _execute_strikes(state: State, params: Params, day: int, log: EventLog) -> None:
    cfg = params.config
    us, iraq = cfg.doctrine.us, cfg.doctrine.iraq
    rows, militia = np.nonzero(state.active[:, None] & (state.response_due == day))
    state.response_due[rows, militia] = NEVER
    if len(rows) == 0:
        return
    in_iraq = state.response_in_iraq[rows, militia]
    killed = state.fighters[rows, militia] * us.strike_fighter_loss
    state.fighters[rows, militia] -= killed
    state.stock[rows, militia, :] *= 1.0 - us.strike_stock_loss
    state.grievance[rows, militia] += params.grievance_per_strike[militia]
    state.recent_attacks[rows, militia] = 0.0
    learn_response(state, params, rows, militia)
    np.add.at(state.responses_today, rows, 1.0)
    # strikes on Iraqi soil cost sovereignty and open a window for an embassy assault
    iraq_rows = rows[in_iraq]
    np.add.at(state.sovereignty, iraq_rows, iraq.sovereignty_cost_us_strike)
    state.assault_until[iraq_rows] = day + cfg.actors.dynamics.assault_window_days
    state.assault_militia[iraq_rows] = militia[in_iraq]
    emit(
        state,
        params,
        log,
        rows,
        day,
        np.where(in_iraq, EventKind.US_STRIKE_IRAQ, EventKind.US_STRIKE_SYRIA),
        actor=Actor.US,
        action=Action.AIRSTRIKE,
        source=params.source_of(Actor.US),
        target=np.where(
            in_iraq, params.strike_site_iraq[militia], params.strike_site_syria[militia]
        ),
        killed_militia=killed,
    )


def _execute_decapitation(state: State, params: Params, day: int, log: EventLog) -> None:
    cfg = params.config
    rows = np.flatnonzero(state.active & (state.decapitation_due == day))
    if len(rows) == 0:
        return
    militia = state.decapitation_target[rows]
    state.decapitation_due[rows] = NEVER
    state.leadership[rows, militia] = 0.0
    # the leaders of the whole network are mourned by every group (3 January 2020)
    state.grievance[rows] += cfg.actors.dynamics.decapitation_grievance
    state.sovereignty[rows] += cfg.doctrine.iraq.sovereignty_cost_decapitation
    state.decapitated_today[rows] = True
    learn_response(state, params, rows, militia)
    np.add.at(state.responses_today, rows, 1.0)
    emit(
        state,
        params,
        log,
        rows,
        day,
        EventKind.DECAPITATION,
        actor=Actor.US,
        action=Action.AIRSTRIKE,
        source=params.source_of(Actor.US),
        target=params.strike_site_iraq[militia],
    )


def _posture(state: State, params: Params, streams: RandomStreams, day: int, log: EventLog) -> None:
    """Signalling, the embassy closure threat, consolidation, drawdown, air defence."""
    us = params.config.doctrine.us
    th = params.theatre
    active = state.active
    us_source = params.source_of(Actor.US)

    # show of force (bomber overflights, seed 001): a cheap signal that raises perceived risk
    shown = np.flatnonzero(
        active
        & (state.attacks_today.sum(axis=1) > 0)
        & (_one(streams, day, Stream.SHOW_OF_FORCE) < us.show_of_force_probability)
    )
    state.perceived_risk[shown] += us.show_of_force_risk_signal * (
        1.0 - state.perceived_risk[shown]
    )
    emit(
        state,
        params,
        log,
        shown,
        day,
        EventKind.SHOW_OF_FORCE,
        actor=Actor.US,
        action=Action.OTHER,
        source=us_source,
    )

    # embassy closure threat after a run of attacks on Baghdad (September 2020, seed 003)
    threat = np.flatnonzero(
        active
        & (state.closure_threat_day == NEVER)
        & (state.recent_baghdad_attacks >= us.closure_threat_baghdad_attacks)
    )
    state.closure_threat_day[threat] = day
    target = th.embassy_sites[0] if len(th.embassy_sites) else -1
    emit(
        state,
        params,
        log,
        threat,
        day,
        EventKind.EMBASSY_CLOSURE_THREAT,
        actor=Actor.US,
        action=Action.OTHER,
        source=us_source,
        target=target,
    )

    _consolidate(state, params, day, log)
    _drawdown(state, params, day)

    upgraded = np.flatnonzero(active & (state.upgrade_due == day))
    state.upgrade_due[upgraded] = NEVER
    sites = th.us_sites
    ad = state.air_defence[np.ix_(upgraded, sites)]
    state.air_defence[np.ix_(upgraded, sites)] = 1.0 - (1.0 - ad) * (1.0 - us.air_defence_upgrade)
    emit(
        state,
        params,
        log,
        upgraded,
        day,
        EventKind.AIR_DEFENCE_UPGRADE,
        actor=Actor.US,
        action=Action.OTHER,
        source=us_source,
    )


def _consolidate(state: State, params: Params, day: int, log: EventLog) -> None:
    """Close the listed sites one by one, moving their people to the sites kept in Iraq."""
    us = params.config.doctrine.us
    th = params.theatre
    n_listed = len(params.consolidation_sites)
    if n_listed == 0:
        return
    started = (state.consolidation_start != NEVER) & (day >= state.consolidation_start)
    rows = np.flatnonzero(
        state.active
        & started
        & (state.sites_closed < n_listed)
        & ((day - state.consolidation_start) % us.consolidation_interval_days == 0)
    )
    if len(rows) == 0:
        return
    site = params.consolidation_sites[state.sites_closed[rows]]
    moved = state.personnel[rows, site].copy()
    state.personnel[rows, site] = 0.0
    state.site_open[rows, site] = False
    state.sites_closed[rows] += 1
    kept = state.site_open[rows] & (th.side == "us") & (th.country == "iraq")
    weight = state.personnel[rows] * kept
    total = weight.sum(axis=1, keepdims=True)
    state.personnel[rows] += np.divide(
        moved[:, None] * weight, total, out=np.zeros_like(weight), where=total > 0
    )
    emit(
        state,
        params,
        log,
        rows,
        day,
        EventKind.SITE_CLOSED,
        actor=Actor.US,
        action=Action.OTHER,
        source=params.source_of(Actor.US),
        target=site,
    )
    starting = rows[state.drawdown_start[rows] == NEVER]
    state.drawdown_start[starting] = day
    emit(
        state,
        params,
        log,
        starting,
        day,
        EventKind.DRAWDOWN,
        actor=Actor.US,
        action=Action.OTHER,
        source=params.source_of(Actor.US),
    )


def _drawdown(state: State, params: Params, day: int) -> None:
    """Troops fall on a straight line from their level at the start to the target (seed 003)."""
    us = params.config.doctrine.us
    rows = np.flatnonzero(state.active & (state.drawdown_start != NEVER))
    if len(rows) == 0:
        return
    progress = np.minimum((day - state.drawdown_start[rows]) / us.drawdown_days, 1.0)
    start = state.initial_troops[rows]
    goal = np.maximum(start - (start - us.drawdown_target_troops) * progress, 0.0)
    now = state.personnel[rows].sum(axis=1)
    scale = np.divide(goal, now, out=np.ones_like(now), where=now > 0)
    state.personnel[rows] *= np.minimum(scale, 1.0)[:, None]


def us_answer_iran(
    state: State,
    params: Params,
    streams: RandomStreams,
    day: int,
    log: EventLog,
    rows: np.ndarray,
    killed: np.ndarray,
) -> None:
    """After a direct Iranian strike: open war, or absorb it and harden (January 2020)."""
    us = params.config.doctrine.us
    chance = np.where(killed > 0, us.war_if_iran_kills_us, us.war_if_iran_strikes_without_deaths)
    war = rows[_one(streams, day, Stream.US_WAR_DECISION)[rows] < chance]
    state.outcome[war] = Outcome.WAR
    state.outcome_day[war] = day
    emit(
        state,
        params,
        log,
        war,
        day,
        EventKind.OPEN_WAR,
        actor=Actor.US,
        action=Action.AIRSTRIKE,
        source=params.source_of(Actor.US),
    )
    # force protection: consolidate sites and bring in better air defence
    unset = rows[state.consolidation_start[rows] == NEVER]
    state.consolidation_start[unset] = day + us.consolidation_lag_days
    unset = rows[state.upgrade_due[rows] == NEVER]
    state.upgrade_due[unset] = day + max(us.air_defence_upgrade_lag_days, 1)


# --- 4. Iran -------------------------------------------------------------------------------


def iran_act(state: State, params: Params, streams: RandomStreams, day: int, log: EventLog) -> None:
    """Direct retaliation when the red line is crossed; green light or restraint for proxies."""
    iran = params.config.doctrine.iran
    crossed = (
        state.active
        & state.decapitated_today
        & (state.retaliation_due == NEVER)
        & (_one(streams, day, Stream.IRAN_RETALIATION) < iran.direct_retaliation_probability)
    )
    state.retaliation_due[crossed] = day + max(iran.retaliation_lag_days, 1)
    _direct_strike(state, params, streams, day, log)
    green = iran.green_light * np.exp(-iran.war_aversion * state.tension)
    restraining = day < state.iran_restraint_until
    state.iran_green = np.where(restraining, np.minimum(green, iran.restraint_green_light), green)


def _direct_strike(
    state: State, params: Params, streams: RandomStreams, day: int, log: EventLog
) -> None:
    """Ballistic missiles on US bases (8 January 2020), warned to spare lives if calibrated."""
    cfg = params.config
    iran, missile = cfg.doctrine.iran, cfg.weapons.ballistic_missile
    rows = np.flatnonzero(state.active & (state.retaliation_due == day))
    targets = params.retaliation_sites
    if len(rows) == 0 or len(targets) == 0:
        return
    state.retaliation_due[rows] = NEVER
    per_target = iran.retaliation_missiles / len(targets)
    exposure = state.personnel[np.ix_(rows, targets)] / cfg.weapons.personnel_reference
    killed = poisson_from_uniform(
        streams.uniform(day, Stream.IRAN_MISSILE_KILLED, len(targets), rows),
        per_target * missile.kill_per_munition * exposure * (1.0 - iran.warning_effect),
    )
    wounded = poisson_from_uniform(
        streams.uniform(day, Stream.IRAN_MISSILE_WOUNDED, len(targets), rows),
        per_target * missile.wound_per_munition * exposure,
    )
    for k, site in enumerate(targets):
        record_us_casualties(state, params, rows, killed[:, k], wounded[:, k], day)
        emit(
            state,
            params,
            log,
            rows,
            day,
            EventKind.IRAN_DIRECT_STRIKE,
            actor=Actor.IRAN,
            action=Action.BALLISTIC_MISSILE,
            source=params.source_of(Actor.IRAN),
            target=site,
            munitions=per_target,
            killed_us=killed[:, k],
            wounded_us=wounded[:, k],
        )
    # proxies are reined in afterwards (seed 002: attacks "scaled down")
    state.iran_restraint_until[rows] = day + iran.restraint_days
    us_answer_iran(state, params, streams, day, log, rows, killed.sum(axis=1))


# --- 5. Israel ----------------------------------------------------------------------------


def israel_interdict(
    state: State, params: Params, streams: RandomStreams, day: int, log: EventLog
) -> None:
    """Strikes on land-bridge depots, more often the more Iran ships (seed 004)."""
    cfg = params.config
    israel = cfg.doctrine.israel
    th = params.theatre
    sites = th.interdiction_sites
    in_iraq = sites[th.country[sites] == "iraq"]
    elsewhere = sites[th.country[sites] != "iraq"]
    if len(sites) == 0:
        return
    chance = -np.expm1(
        -israel.interdiction_rate * state.transfer_recent / israel.reference_transfer_per_day
    )
    rows = np.flatnonzero(state.active & (_one(streams, day, Stream.ISRAEL_STRIKE) < chance))
    if len(rows) == 0:
        return
    u = streams.uniform(day, Stream.ISRAEL_TARGET, 2, rows)
    share = israel.strike_in_iraq_share if len(elsewhere) else 1.0
    share = share if len(in_iraq) else 0.0
    pick_iraq = u[:, 0] < share
    pool_iraq = in_iraq if len(in_iraq) else elsewhere
    pool_else = elsewhere if len(elsewhere) else in_iraq
    site = np.where(
        pick_iraq,
        pool_iraq[(u[:, 1] * len(pool_iraq)).astype(np.int64)],
        pool_else[(u[:, 1] * len(pool_else)).astype(np.int64)],
    )
    loss = israel.strike_stock_loss * params.base_share[:, site].T  # (n, M)
    state.stock[rows] *= (1.0 - loss)[:, :, None]
    # militias may blame the US for strikes on Iraqi soil (Balad, August 2019, seed 004)
    blamed = pick_iraq & (
        streams.uniform(day, Stream.ISRAEL_BLAME, 1, rows)[:, 0] < israel.blame_us_probability
    )
    state.grievance[rows[blamed]] += cfg.actors.dynamics.israeli_blame_grievance
    state.sovereignty[rows[blamed]] += cfg.doctrine.iraq.sovereignty_cost_israeli_strike
    emit(
        state,
        params,
        log,
        rows,
        day,
        EventKind.ISRAELI_STRIKE,
        actor=Actor.ISRAEL,
        action=Action.AIRSTRIKE,
        source=params.source_of(Actor.ISRAEL),
        target=site,
    )


# --- 6. Iraqi government -----------------------------------------------------------------------


def iraq_act(state: State, params: Params, streams: RandomStreams, day: int, log: EventLog) -> None:
    """Embassy protection, raids and releases, sovereignty votes, truce mediation."""
    cfg = params.config
    iraq, us = cfg.doctrine.iraq, cfg.doctrine.us
    active = state.active
    source = params.source_of(Actor.IRAQ_GOV)

    # protect the embassy harder after an assault (Trump, 31 Dec 2019, seed 004)
    state.protection_until[active & state.assault_today] = day + iraq.protection_days
    level = np.where(
        day <= state.protection_until, iraq.protection_after_assault, iraq.embassy_protection
    )
    state.protection[:, params.theatre.embassy_sites] = level[:, None]

    threat = (state.closure_threat_day != NEVER) & (
        day - state.closure_threat_day < us.closure_threat_days
    )
    # raids on the most active group (June 2020 raid on Kataib Hezbollah, seed 003)
    raid_rate = np.where(threat, iraq.raid_rate_under_closure_threat, iraq.raid_rate)
    rows = np.flatnonzero(active & (_one(streams, day, Stream.IRAQ_RAID) < raid_rate))
    militia = np.argmax(state.recent_attacks[rows], axis=1)
    taken = state.fighters[rows, militia] * iraq.raid_detention_fraction
    state.fighters[rows, militia] -= taken
    state.detained[rows, militia] += taken
    emit(
        state,
        params,
        log,
        rows,
        day,
        EventKind.IRAQI_RAID,
        actor=Actor.IRAQ_GOV,
        action=Action.RAID,
        source=source,
        target=params.strike_site_iraq[militia],
    )

    # detainees walk free sooner the more seats their group holds (seed 001)
    release = streams.uniform(day, Stream.IRAQ_RELEASE, params.n_militias) < (
        iraq.release_rate * params.political_weight
    )
    rows, militia = np.nonzero(active[:, None] & (state.detained > 0) & release)
    state.fighters[rows, militia] += state.detained[rows, militia]
    state.detained[rows, militia] = 0.0
    emit(
        state,
        params,
        log,
        rows,
        day,
        EventKind.FIGHTERS_RELEASED,
        actor=Actor.IRAQ_GOV,
        action=Action.OTHER,
        source=source,
        target=params.strike_site_iraq[militia],
    )

    # parliament votes to expel US forces when sovereignty pressure runs high
    may_vote = (state.sovereignty >= iraq.expulsion_vote_threshold) & (
        (state.last_vote_day == NEVER) | (day - state.last_vote_day >= iraq.vote_cooldown_days)
    )
    votes = np.flatnonzero(
        active
        & may_vote
        & (_one(streams, day, Stream.EXPULSION_VOTE) < iraq.expulsion_vote_probability)
    )
    state.last_vote_day[votes] = day
    state.us_resolve[votes] -= us.resolve_loss_per_expulsion_vote
    emit(
        state,
        params,
        log,
        votes,
        day,
        EventKind.EXPULSION_VOTE,
        actor=Actor.IRAQ_GOV,
        action=Action.OTHER,
        source=source,
    )

    # with the embassy at stake, Baghdad brokers a truce (October 2020)
    truce = np.flatnonzero(
        active
        & threat
        & (day > state.truce_until)
        & (_one(streams, day, Stream.TRUCE) < iraq.truce_probability)
    )
    state.truce_until[truce] = day + iraq.truce_days
    emit(
        state,
        params,
        log,
        truce,
        day,
        EventKind.TRUCE,
        actor=Actor.IRAQ_GOV,
        action=Action.OTHER,
        source=source,
    )
