"""The United States' rules (ODD 3 step 3, the US doctrine of ODD 7): whether to answer the
day's attacks, the strikes then due, leadership strikes, signals and posture, the answer
to an Iranian state strike, and resolve (ODD 3 step 7).

Each rule reads the chosen doctrine (``configs/doctrine/us/``); swapping a doctrine changes
the numbers these rules use, never the code path.
"""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind, Intent, Signal
from sim.numerics.reductions import (
    add_at,
    add_at_cells,
    cells_where_equal,
    rows_where_equal,
    sum_last,
)
from sim.numerics.sampling import confidence_from_uniform, negative_binomial_from_uniform
from sim.params import Params, at, column, rows_choosing
from sim.rng import Stream
from sim.rules.militia import learn_response
from sim.rules.today import Attacks, Today
from sim.state import NEVER, Outcome, State


def attribute(today: Today, attacks: Attacks) -> None:
    """Whom the US blames for each of today's attacks, and how sure it is (ODD 3 step 2).

    An attack claimed in the attacker's own name is known. Otherwise (unclaimed, or
    claimed under a front's name) the US's confidence is a draw of mean
    ``intelligence_quality`` (for a mean q >= 1/2 a Beta(q / (1 - q), 1), whose inverse CDF is
    closed form), and it blames the true attacker with that probability, else
    one of the other groups, each as likely. Without ``attribution_uncertainty`` the US
    always knows.
    """
    state, us = today.state, today.params.config.doctrine.us
    rows, militia = attacks.rows, attacks.militia
    if attacks.n == 0:
        attacks.blamed, attacks.confidence = militia, np.zeros(0)
        return
    draws = today.uniforms_at((Stream.ATTRIBUTION, Stream.BLAME), rows, militia)
    sure = (attacks.signal == Signal.CLAIMED) | ~np.asarray(at(us.attribution_uncertainty, rows))
    confidence = confidence_from_uniform(draws[0], at(us.intelligence_quality, rows))
    confidence = np.where(sure, 1.0, confidence)
    attacks.blamed = militia.copy()
    wrong = np.flatnonzero(draws[1] >= confidence)
    # a wrong blame: the rest of the same uniform picks one of the other groups there are
    rest = (draws[1, wrong] - confidence[wrong]) / (1.0 - confidence[wrong])
    others = state.formed[rows[wrong]]
    others[np.arange(len(wrong)), militia[wrong]] = False
    n_others = np.count_nonzero(others, axis=1)
    pick = np.minimum((rest * n_others).astype(np.int64), np.maximum(n_others - 1, 0))
    other = np.argmax(np.cumsum(others, axis=1) > pick[:, None], axis=1)
    attacks.blamed[wrong] = np.where(n_others == 0, militia[wrong], other)
    attacks.confidence = confidence
    # the US counts the deaths it blames on each group (a lethal campaign)
    add_at_cells(state.recent_us_deaths, rows, attacks.blamed, attacks.killed_us)


def respond(today: Today, attacks: Attacks) -> None:
    """Decide on today's attacks, carry out strikes now due, and adjust the posture."""
    decide_strikes(today, attacks)
    decide_leadership_strike(today)
    execute_strikes(today)
    execute_leadership_strike(today)
    signal(today)
    move_posture(today)


# --- strikes on militia groups -----------------------------------------------------------


def response_trigger(state: State, params: Params, attacks: Attacks) -> np.ndarray:
    """(R, M) probability that the US decides today to strike each group: for the attacks
    it blames on the group with enough confidence (``attribution_threshold``), by the harm
    they did; and for a campaign of many attacks."""
    us, rows = params.config.doctrine.us, attacks.rows
    if_attack = at(us.respond_per_attack, rows)
    if_wounded = np.maximum(at(us.respond_if_us_wounded, rows), if_attack)
    if_killed = np.maximum(at(us.respond_if_us_killed, rows), if_wounded)
    harmed = (attacks.killed_us + attacks.wounded_us) > 0
    chance = np.where(
        attacks.killed_us >= at(us.kill_threshold, rows),
        if_killed,
        np.where(harmed, if_wounded, if_attack),
    ).astype(np.float64)
    chance *= attacks.confidence >= at(us.attribution_threshold, rows)
    # two attacks blamed on one group are two chances to answer it
    spared = np.ones((state.replicates, params.n_militias))
    np.multiply.at(spared, (rows, attacks.blamed), 1.0 - chance)
    by_attack = 1.0 - spared
    # a campaign of many attacks in the count window is a trigger of its own (seed 002)
    by_count = np.where(
        state.recent_attacks >= column(us.attack_count_trigger),
        column(us.respond_if_count_exceeded),
        0.0,
    )
    return 1.0 - (1.0 - by_attack) * (1.0 - by_count)


def strike_size(state: State, params: Params, attacks: Attacks) -> np.ndarray:
    """(R, M) size multiplier of a strike decided today on each group: ``fixed`` (1),
    ``proportional`` to the harm done or ``escalating`` with each strike on the group."""
    us = params.config.doctrine.us
    scaling = column(np.asarray(us.response_scaling))  # one choice, or one per replicate
    size = np.ones((state.replicates, params.n_militias))
    if np.any(scaling == "proportional"):
        # tit for tat: half a standard strike for harassment, half more per casualty
        harm = np.zeros((state.replicates, params.n_militias))
        add_at_cells(harm, attacks.rows, attacks.blamed, attacks.killed_us + attacks.wounded_us)
        size = np.where(scaling == "proportional", np.minimum(0.5 * (1.0 + harm), 3.0), size)
    if np.any(scaling == "escalating"):
        escalating = 1.0 + column(us.escalation_step) * state.strikes_on_group
        size = np.where(scaling == "escalating", escalating, size)
    return size


def decide_strikes(today: Today, attacks: Attacks) -> None:
    """Schedule a strike on each group the US decides to answer (none already due)."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    rows, militia = today.below(
        Stream.US_RESPONSE,
        params.n_militias,
        response_trigger(state, params, attacks),
        state.response_due == NEVER,
        row_where=state.active,
    )
    if today.played is not None:  # a wargame: the US team's choice replaces the draw
        rows, militia = today.played.us_strikes(rows, militia, state)
    lag = negative_binomial_from_uniform(
        today.uniform_at(Stream.US_RESPONSE_LAG, rows, militia),
        at(us.response_lag_days, rows),
        at(us.response_lag_dispersion, rows),
    )
    state.response_due[rows, militia] = today.day + lag
    state.response_size[rows, militia] = strike_size(state, params, attacks)[rows, militia]
    where = today.uniform_at(Stream.US_STRIKE_LOCATION, rows, militia)
    in_iraq = where < at(us.strike_in_iraq_probability, rows)
    if today.played is not None:
        in_iraq = today.played.us_strike_in_iraq(rows, in_iraq)
    state.response_in_iraq[rows, militia] = in_iraq


def execute_strikes(today: Today) -> None:
    """The strikes due today: fighters and stocks lost, grievance, learning; on Iraqi soil,
    sovereignty pressure and public outrage; in Syria, perhaps Iranian personnel hit."""
    state, params = today.state, today.params
    cfg = params.config
    us = cfg.doctrine.us
    rows, militia = cells_where_equal(state.response_due, today.day, state.active)
    state.response_due[rows, militia] = NEVER
    in_iraq = state.response_in_iraq[rows, militia]
    size = state.response_size[rows, militia]
    fighter_loss = np.minimum(at(us.strike_fighter_loss, rows) * size, 1.0)
    killed = state.fighters[rows, militia] * fighter_loss
    state.fighters[rows, militia] -= killed
    add_at(state.proxy_losses_today, rows, killed)
    stock_loss = np.minimum(at(us.strike_stock_loss, rows) * size, 1.0)
    state.stock[rows, militia, :] *= 1.0 - stock_loss[:, None]
    state.grievance[rows, militia] += params.grievance_per_strike[rows, militia]
    state.recent_attacks[rows, militia] = 0.0
    state.strikes_on_group[rows, militia] += 1
    learn_response(today, rows, militia)
    add_at(state.responses_today, rows, 1.0)
    # strikes on Iraqi soil cost sovereignty and anger the street
    iraq_rows = rows[in_iraq]
    cost = at(us.sovereignty_cost_strike_in_iraq, iraq_rows) * at(
        cfg.doctrine.iraq.sovereignty_sensitivity, iraq_rows
    )
    add_at(state.sovereignty, iraq_rows, cost)
    add_at(state.outrage, iraq_rows, at(cfg.actors.dynamics.outrage_per_strike_in_iraq, iraq_rows))
    # a strike on a group's sites in Syria may hit the Iranian personnel with it
    syria_rows, syria_group = rows[~in_iraq], militia[~in_iraq]
    hit = today.uniform_at(Stream.IRANIANS_STRUCK, syria_rows, syria_group) < at(
        cfg.doctrine.iran.iranians_at_syria_sites, syria_rows
    )
    state.iranians_struck_today[syria_rows[hit]] = True
    today.emit(
        syria_rows[hit],
        EventKind.IRANIANS_STRUCK,
        Actor.US,
        Action.AIRSTRIKE,
        target=params.strike_site_syria[syria_group[hit]],
    )
    today.emit(
        rows,
        np.where(in_iraq, EventKind.US_STRIKE_IRAQ, EventKind.US_STRIKE_SYRIA),
        Actor.US,
        Action.AIRSTRIKE,
        target=np.where(
            in_iraq, params.strike_site_iraq[militia], params.strike_site_syria[militia]
        ),
        blamed=params.source_of(Actor.US),
        signal=Signal.ANNOUNCED,
        intent=Intent.RETALIATE,
        killed_militia=killed,
    )


# --- strikes on leaders ---------------------------------------------------------------------


def decide_leadership_strike(today: Today) -> None:
    """The US may decide to kill a group's leaders: after an embassy assault led by the
    group (31 December 2019 -> 3 January 2020), or any day while it blames the group for a
    lethal campaign (``lethal_campaign_deaths`` US deaths within the count window). One
    leadership strike is prepared at a time, and only on a leadership that has rebuilt."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    idle = state.active & (state.decapitation_due == NEVER)
    campaign = state.recent_us_deaths >= column(us.lethal_campaign_deaths)
    played = today.played
    if not (state.assault_today[idle].any() or campaign[idle].any()) and played is None:
        return
    chance = np.where(campaign, column(us.decapitation_if_lethal_campaign), 0.0)
    led = np.flatnonzero(idle & state.assault_today)
    group = state.assault_militia[led]
    after_assault = at(us.decapitation_probability, led)
    chance[led, group] = 1.0 - (1.0 - chance[led, group]) * (1.0 - after_assault)
    rows, group = today.below(
        Stream.DECAPITATION,
        params.n_militias,
        chance,
        (state.leadership >= 1.0) & state.formed,
        row_where=idle,
    )
    rows, first = np.unique(rows, return_index=True)  # the first group of each replicate
    group = group[first]
    if played is not None:  # a wargame: the US team's choice replaces the draw
        eligible = idle[:, None] & (state.leadership >= 1.0) & state.formed
        rows, group = played.us_leaders(rows, group, eligible)
    lag = negative_binomial_from_uniform(
        today.uniform_at(Stream.DECAPITATION_LAG, rows, group),
        at(us.decapitation_lag_days, rows),
        at(us.decapitation_lag_dispersion, rows),
    )
    state.decapitation_due[rows] = today.day + lag
    state.decapitation_target[rows] = group


def execute_leadership_strike(today: Today) -> None:
    """The leadership strike due today: the group's leaders are gone (IRGC officers with
    them, perhaps), every group mourns, sovereignty pressure and outrage rise, and Iran
    takes the affront."""
    state, params = today.state, today.params
    cfg = params.config
    rows = rows_where_equal(state.decapitation_due, today.day, state.active)
    if len(rows) == 0:
        return
    militia = state.decapitation_target[rows]
    state.decapitation_due[rows] = NEVER
    state.leadership[rows, militia] = 0.0
    # the leaders of the whole network are mourned by every group (3 January 2020)
    state.grievance[rows] += column(at(cfg.actors.dynamics.decapitation_grievance, rows))
    state.sovereignty[rows] += at(cfg.doctrine.us.sovereignty_cost_decapitation, rows) * at(
        cfg.doctrine.iraq.sovereignty_sensitivity, rows
    )
    state.leaders_struck_today[rows] = True
    irgc = today.uniform(Stream.IRGC_PRESENT, 1, rows)[:, 0] < at(
        cfg.doctrine.iran.irgc_with_proxy_leaders, rows
    )
    state.irgc_killed_today[rows[irgc]] = True
    state.outrage[rows] += at(cfg.actors.dynamics.outrage_per_strike_in_iraq, rows)
    learn_response(today, rows, militia)
    add_at(state.responses_today, rows, 1.0)
    today.emit(
        rows,
        EventKind.DECAPITATION,
        Actor.US,
        Action.AIRSTRIKE,
        target=params.strike_site_iraq[militia],
        blamed=params.source_of(Actor.US),
        signal=Signal.ANNOUNCED,
        intent=Intent.DECAPITATE,
    )


# --- signals and posture --------------------------------------------------------------------


def signal(today: Today) -> None:
    """Bomber overflights on attack days; the embassy closure threat."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    embassies = params.theatre.embassy_sites
    # show of force (bomber overflights, seed 001): a cheap signal that raises perceived risk
    shown = today.happens(
        Stream.SHOW_OF_FORCE,
        us.show_of_force_probability,
        state.active & (sum_last(state.attacks_today) > 0),
    )
    risk = state.perceived_risk
    risk[shown] += column(at(us.show_of_force_risk_signal, shown)) * (1.0 - risk[shown])
    today.emit(shown, EventKind.SHOW_OF_FORCE, Actor.US)

    # embassy closure threat after a run of attacks on Baghdad (September 2020, seed 003)
    threat = np.flatnonzero(
        state.active
        & us.embassy_closure_threat
        & (state.closure_threat_day == NEVER)
        & (state.recent_baghdad_attacks >= us.closure_threat_baghdad_attacks)
    )
    state.closure_threat_day[threat] = today.day
    embassy = embassies[0] if len(embassies) else -1
    today.emit(threat, EventKind.EMBASSY_CLOSURE_THREAT, Actor.US, target=embassy)


def move_posture(today: Today) -> None:
    """Consolidation, the troop change and the air-defence upgrade, once triggered."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    first_death = rows_where_equal(state.first_us_death_day, today.day, state.active)
    starting = rows_choosing(us.posture_trigger, first_death, "first_us_death")
    if today.played is not None:  # a wargame: the US team starts it when it chooses
        starting = today.played.us_posture(starting)
    start_posture(today, starting)
    hand_over(today)
    _consolidate(today)
    _change_troops(today)
    _upgrade_air_defence(today)


def start_posture(today: Today, rows: np.ndarray) -> None:
    """Schedule consolidation, the troop change and the air-defence upgrade (once)."""
    state, us = today.state, today.params.config.doctrine.us
    rows = rows[state.consolidation_start[rows] == NEVER]
    state.consolidation_start[rows] = today.day + at(us.consolidation_lag_days, rows)
    unset = rows[state.drawdown_start[rows] == NEVER]
    state.drawdown_start[unset] = today.day + at(us.consolidation_lag_days, unset)
    state.upgrade_due[rows] = today.day + np.maximum(at(us.air_defence_upgrade_lag_days, rows), 1)


def _consolidate(today: Today) -> None:
    """Close the listed sites one by one, moving their people to the sites kept in Iraq."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    n_listed = len(params.consolidation_sites)
    if n_listed == 0:
        return
    started = (state.consolidation_start != NEVER) & (today.day >= state.consolidation_start)
    rows = np.flatnonzero(
        state.active
        & started
        & (state.sites_closed < n_listed)
        & ((today.day - state.consolidation_start) % us.consolidation_interval_days == 0)
    )
    if len(rows) == 0:
        return
    site = params.consolidation_sites[state.sites_closed[rows]]
    state.sites_closed[rows] += 1
    was_open = state.site_open[rows, site]  # a listed site already handed over stays closed
    _close_sites(today, rows[was_open], site[was_open])


def hand_over(today: Today) -> None:
    """A US site that a dated input hands over (``theatre.sites.NAME.held`` = 0) closes on
    that day, its people moving to the US sites kept in Iraq as when the US consolidates
    (the 2020 handovers of Qayyarah, K1 and Taji). A site held again is not reopened."""
    state, params = today.state, today.params
    if not params.handed_over.any():  # (most days of most runs: no site handed over)
        return
    closing = params.handed_over & state.site_open
    closing &= state.active[:, None]
    while closing.any():  # one site per replicate at a time: each move sees the last
        rows = np.flatnonzero(closing.any(axis=1))
        site = np.argmax(closing[rows], axis=1)
        closing[rows, site] = False
        _close_sites(today, rows, site)


def _close_sites(today: Today, rows: np.ndarray, site: np.ndarray) -> None:
    """Close one US site (a column of the site arrays) in each of ``rows``, moving its
    people to the open US sites in Iraq in proportion to those already there."""
    state, th = today.state, today.params.theatre
    moved = state.personnel[rows, site].copy()
    state.personnel[rows, site] = 0.0
    state.site_open[rows, site] = False
    kept = state.site_open[rows] & th.us_in_iraq
    weight = state.personnel[rows] * kept
    total = weight.sum(axis=1, keepdims=True)
    state.personnel[rows] += np.divide(
        moved[:, None] * weight, total, out=np.zeros_like(weight), where=total > 0
    )
    today.emit(rows, EventKind.SITE_CLOSED, Actor.US, target=th.us_sites[site])


def _change_troops(today: Today) -> None:
    """Troops move on a straight line from their level when the change began to the target:
    a drawdown (5,000 -> 2,500 in 2020, seeds 001 and 003) or a build-up."""
    state, us = today.state, today.params.config.doctrine.us
    starting = rows_where_equal(state.drawdown_start, today.day, state.active)
    starting_troops = sum_last(state.personnel[starting])  # only the rows it needs
    state.posture_start_troops[starting] = starting_troops
    down = starting_troops > at(us.drawdown_target_troops, starting)
    today.emit(starting[down], EventKind.DRAWDOWN, Actor.US)
    today.emit(starting[~down], EventKind.BUILD_UP, Actor.US)

    rows = np.flatnonzero(
        state.active & (state.drawdown_start != NEVER) & (today.day >= state.drawdown_start)
    )
    if len(rows) == 0:
        return
    days = at(us.drawdown_days, rows)
    progress = np.minimum((today.day - state.drawdown_start[rows]) / days, 1.0)
    start = state.posture_start_troops[rows]
    goal = np.maximum(start + (at(us.drawdown_target_troops, rows) - start) * progress, 0.0)
    now = sum_last(state.personnel[rows])
    scale = np.divide(goal, now, out=np.ones_like(now), where=now > 0)
    state.personnel[rows] *= scale[:, None]


def _upgrade_air_defence(today: Today) -> None:
    """More interceptors at every US site (Patriot, C-RAM) when the upgrade falls due."""
    state, params = today.state, today.params
    upgraded = rows_where_equal(state.upgrade_due, today.day, state.active)
    if len(upgraded) == 0:
        return
    state.upgrade_due[upgraded] = NEVER
    upgrade = column(at(params.config.doctrine.us.air_defence_upgrade, upgraded))
    state.air_defence[upgraded] = 1.0 - (1.0 - state.air_defence[upgraded]) * (1.0 - upgrade)
    today.emit(upgraded, EventKind.AIR_DEFENCE_UPGRADE, Actor.US)


# --- Iran, resolve and withdrawal --------------------------------------------------------------


def answer_iran(today: Today, rows: np.ndarray, killed: np.ndarray) -> None:
    """After a direct Iranian strike: open war, or absorb it and harden (January 2020)."""
    us = today.params.config.doctrine.us
    chance = np.where(
        killed > 0,
        at(us.war_if_iran_kills_us, rows),
        at(us.war_if_iran_strikes_without_deaths, rows),
    )
    war = today.happens_in(Stream.US_WAR_DECISION, rows, chance)
    starting = rows_choosing(us.posture_trigger, rows, "iran_strike")
    if today.played is not None:  # a wargame: the US team's answer replaces the draw
        war = today.played.us_war(rows, war)
        starting = today.played.doctrine_rows(starting, "us")
    today.absorb(war, Outcome.WAR, EventKind.OPEN_WAR, Action.AIRSTRIKE)
    start_posture(today, starting)


def recover_or_withdraw(today: Today) -> None:
    """Resolve recovers a little each day; below the threshold the US leaves Iraq."""
    state, us = today.state, today.params.config.doctrine.us
    state.recent_us_deaths *= column(today.params.attack_count_decay)
    np.minimum(state.us_resolve + us.resolve_recovery_per_day, 1.0, out=state.us_resolve)
    leaving = np.flatnonzero(state.active & (state.us_resolve < us.withdrawal_threshold))
    today.absorb(leaving, Outcome.WITHDRAWAL, EventKind.US_WITHDRAWAL, Action.OTHER)
