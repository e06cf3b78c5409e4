"""Decision rules of the states (MODEL.md section 3, steps 3-6), vectorized over replicates.

Each actor's rule reads its doctrine block of the config (``configs/doctrine/<actor>/``);
swapping a doctrine file changes the numbers these rules use, never the code path. The
NumPy code of each rule is its reference; with the compiled loops on (``fused.ENABLED``)
most rules hand the same work to a twin in ``sim.fused`` that takes each replicate through
the rule in one pass, held to the reference bit for bit by ``tests/test_fused.py``.
"""

from __future__ import annotations

import numpy as np

from sim import fused
from sim.events import Action, Actor, EventKind
from sim.kernels import (
    POISSON_MAX_COUNT,
    Attacks,
    Today,
    cells_equal,
    learn_response,
    poisson_from_uniform,
    record_us_casualties,
    rows_equal,
    sum_last,
)
from sim.params import Params
from sim.rng import Stream
from sim.state import NEVER, Outcome, State

# --- 3. United States -------------------------------------------------------------------


def us_respond(today: Today, attacks: Attacks) -> None:
    """Decide on today's attacks, carry out strikes now due, and adjust the posture."""
    _decide_strikes(today, attacks)
    _decide_decapitation(today)
    _execute_strikes(today)
    _execute_decapitation(today)
    _posture(today)


def response_trigger(state: State, params: Params, attacks: Attacks) -> np.ndarray:
    """(R, M) probability that the US decides today to strike each group."""
    us = params.config.doctrine.us
    harmed = (attacks.killed_us + attacks.wounded_us) > 0
    chance = np.where(
        attacks.killed_us >= us.kill_threshold,
        max(us.respond_if_us_killed, us.respond_if_us_wounded, us.respond_per_attack),
        np.where(
            harmed, max(us.respond_if_us_wounded, us.respond_per_attack), us.respond_per_attack
        ),
    ).astype(np.float64)
    if fused.ENABLED:
        out = np.empty((state.replicates, params.n_militias))
        fused.response_trigger(
            state.recent_attacks,
            float(us.attack_count_trigger),
            float(us.respond_if_count_exceeded),
            attacks.rows,
            attacks.militia,
            chance,
            out,
        )
        return out
    by_attack = np.zeros((state.replicates, params.n_militias))
    by_attack[attacks.rows, attacks.militia] = chance
    # a campaign of many attacks in the count window is a trigger of its own (seed 002)
    by_count = np.where(
        state.recent_attacks >= us.attack_count_trigger, us.respond_if_count_exceeded, 0.0
    )
    return 1.0 - (1.0 - by_attack) * (1.0 - by_count)


def strike_size(state: State, params: Params, attacks: Attacks) -> np.ndarray:
    """(R, M) size multiplier of a strike decided today on each group."""
    us = params.config.doctrine.us
    match us.response_scaling:
        case "proportional":
            # tit for tat: half a standard strike for harassment, half more per casualty
            harm = np.zeros((state.replicates, params.n_militias))
            harm[attacks.rows, attacks.militia] = attacks.killed_us + attacks.wounded_us
            return np.minimum(0.5 * (1.0 + harm), 3.0)
        case "escalating":
            return 1.0 + us.escalation_step * state.strikes_on_group
        case _:
            return np.ones((state.replicates, params.n_militias))


def _decide_strikes(today: Today, attacks: Attacks) -> None:
    state, params = today.state, today.params
    us = params.config.doctrine.us
    M = params.n_militias
    if fused.ENABLED:
        scaling = fused.SCALING_CODES.get(us.response_scaling, 0)
        harm = _NO_HARM
        if scaling == 1:
            harm = np.zeros((state.replicates, M))
            harm[attacks.rows, attacks.militia] = attacks.killed_us + attacks.wounded_us
        fused.us_decide_strikes(
            today.streams.keys, today.salts(Stream.US_RESPONSE, M),
            today.salts(Stream.US_STRIKE_LOCATION, M), response_trigger(state, params, attacks),
            state.active, state.response_due, NEVER, today.day + us.response_lag_days,
            scaling, harm, state.strikes_on_group, float(us.escalation_step),
            us.strike_in_iraq_probability, state.response_size, state.response_in_iraq,
        )  # fmt: skip
        return
    rows, militia = today.below(
        Stream.US_RESPONSE,
        M,
        response_trigger(state, params, attacks),
        state.response_due == NEVER,
        row_where=state.active,
    )
    state.response_due[rows, militia] = today.day + us.response_lag_days
    state.response_size[rows, militia] = strike_size(state, params, attacks)[rows, militia]
    where = today.uniform_at(Stream.US_STRIKE_LOCATION, rows, militia)
    state.response_in_iraq[rows, militia] = where < us.strike_in_iraq_probability


#: the harm argument of ``fused.us_decide_strikes`` when the strike size does not read it
_NO_HARM = np.zeros((1, 1))


def _decide_decapitation(today: Today) -> None:
    """An embassy assault (which only follows a US strike in Iraq) can bring a leadership
    strike: 31 December 2019 -> 3 January 2020."""
    state, us = today.state, today.params.config.doctrine.us
    if fused.ENABLED:
        fused.us_decide_decapitation(
            today.streams.keys, today.salts(Stream.DECAPITATION, 1)[0], state.active,
            state.assault_today, state.decapitation_due, NEVER, state.leadership,
            state.assault_militia, us.decapitation_probability,
            today.day + us.decapitation_lag_days, state.decapitation_target,
        )  # fmt: skip
        return
    eligible = state.active & state.assault_today & (state.decapitation_due == NEVER)
    # a leadership can only be struck once it has rebuilt itself (looked up for the few
    # replicates an assault makes eligible)
    assaulted = np.flatnonzero(eligible)
    eligible[assaulted] = state.leadership[assaulted, state.assault_militia[assaulted]] >= 1.0
    go = today.happens(Stream.DECAPITATION, us.decapitation_probability, eligible)
    state.decapitation_due[go] = today.day + us.decapitation_lag_days
    state.decapitation_target[go] = state.assault_militia[go]


def _execute_strikes(today: Today) -> None:
    state, params = today.state, today.params
    cfg = params.config
    us = cfg.doctrine.us
    cost = us.sovereignty_cost_strike_in_iraq * cfg.doctrine.iraq.sovereignty_sensitivity
    if fused.ENABLED:  # all but the events in one compiled pass
        dyn = cfg.actors.dynamics
        cells = state.response_due.size
        rows, militia = np.empty(cells, dtype=np.int64), np.empty(cells, dtype=np.int64)
        in_iraq, killed = np.empty(cells, dtype=bool), np.empty(cells)
        n = fused.us_execute_strikes(
            state.active, state.response_due, today.day, NEVER, state.response_in_iraq,
            state.response_size, us.strike_fighter_loss, us.strike_stock_loss,
            params.grievance_per_strike, dyn.learning_rate,
            dyn.learning_rate * dyn.learning_spillover, cost,
            today.day + dyn.assault_window_days, state.fighters, state.stock,
            state.grievance, state.recent_attacks, state.strikes_on_group,
            state.perceived_risk, state.responses_today, state.sovereignty,
            state.assault_until, state.assault_militia, rows, militia, in_iraq, killed,
        )  # fmt: skip
        rows, militia, in_iraq, killed = rows[:n], militia[:n], in_iraq[:n], killed[:n]
    else:
        rows, militia, in_iraq, killed = _strike(today, cost)
    today.emit(
        rows,
        np.where(in_iraq, EventKind.US_STRIKE_IRAQ, EventKind.US_STRIKE_SYRIA),
        Actor.US,
        Action.AIRSTRIKE,
        target=np.where(
            in_iraq, params.strike_site_iraq[militia], params.strike_site_syria[militia]
        ),
        killed_militia=killed,
    )


def _strike(today: Today, cost: float) -> tuple[np.ndarray, ...]:
    """The strikes due today: their replicates, groups, whether in Iraq, fighters killed."""
    state, params = today.state, today.params
    cfg = params.config
    us = cfg.doctrine.us
    rows, militia = cells_equal(state.response_due, today.day, state.active)
    state.response_due[rows, militia] = NEVER
    in_iraq = state.response_in_iraq[rows, militia]
    size = state.response_size[rows, militia]
    killed = state.fighters[rows, militia] * np.minimum(us.strike_fighter_loss * size, 1.0)
    state.fighters[rows, militia] -= killed
    state.stock[rows, militia, :] *= 1.0 - np.minimum(us.strike_stock_loss * size, 1.0)[:, None]
    state.grievance[rows, militia] += params.grievance_per_strike[militia]
    state.recent_attacks[rows, militia] = 0.0
    state.strikes_on_group[rows, militia] += 1
    learn_response(state, params, rows, militia)
    np.add.at(state.responses_today, rows, 1.0)
    # strikes on Iraqi soil cost sovereignty and open a window for an embassy assault
    iraq_rows = rows[in_iraq]
    np.add.at(state.sovereignty, iraq_rows, cost)
    state.assault_until[iraq_rows] = today.day + cfg.actors.dynamics.assault_window_days
    state.assault_militia[iraq_rows] = militia[in_iraq]
    return rows, militia, in_iraq, killed


def _execute_decapitation(today: Today) -> None:
    state, params = today.state, today.params
    cfg = params.config
    rows = rows_equal(state.decapitation_due, today.day, state.active)
    if len(rows) == 0:
        return
    militia = state.decapitation_target[rows]
    state.decapitation_due[rows] = NEVER
    state.leadership[rows, militia] = 0.0
    # the leaders of the whole network are mourned by every group (3 January 2020)
    state.grievance[rows] += cfg.actors.dynamics.decapitation_grievance
    state.sovereignty[rows] += (
        cfg.doctrine.us.sovereignty_cost_decapitation * cfg.doctrine.iraq.sovereignty_sensitivity
    )
    state.decapitated_today[rows] = True
    learn_response(state, params, rows, militia)
    np.add.at(state.responses_today, rows, 1.0)
    today.emit(
        rows,
        EventKind.DECAPITATION,
        Actor.US,
        Action.AIRSTRIKE,
        target=params.strike_site_iraq[militia],
    )


def _posture(today: Today) -> None:
    """Signalling, the embassy closure threat, consolidation, drawdown, air defence."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    th = params.theatre
    active = state.active
    embassy = th.embassy_sites[0] if len(th.embassy_sites) else -1
    if fused.ENABLED:  # the signals below in one compiled pass
        shown = np.empty(state.replicates, dtype=np.int64)
        threat = np.empty_like(shown)
        counts = np.zeros(2, dtype=np.int64)
        fused.us_signals(
            today.streams.keys, today.salts(Stream.SHOW_OF_FORCE, 1)[0], active,
            state.attacks_today, us.show_of_force_probability, us.show_of_force_risk_signal,
            state.perceived_risk, bool(us.embassy_closure_threat), state.closure_threat_day,
            NEVER, state.recent_baghdad_attacks, float(us.closure_threat_baghdad_attacks),
            today.day, shown, threat, counts,
        )  # fmt: skip
        today.emit(shown[: counts[0]], EventKind.SHOW_OF_FORCE, Actor.US)
        today.emit(threat[: counts[1]], EventKind.EMBASSY_CLOSURE_THREAT, Actor.US, target=embassy)
    else:
        # show of force (bomber overflights, seed 001): a cheap signal that raises perceived
        # risk
        shown = today.happens(
            Stream.SHOW_OF_FORCE,
            us.show_of_force_probability,
            active & (sum_last(state.attacks_today) > 0),
        )
        risk = state.perceived_risk
        risk[shown] += us.show_of_force_risk_signal * (1.0 - risk[shown])
        today.emit(shown, EventKind.SHOW_OF_FORCE, Actor.US)

        # embassy closure threat after a run of attacks on Baghdad (September 2020, seed 003)
        threat = np.flatnonzero(
            active
            & us.embassy_closure_threat
            & (state.closure_threat_day == NEVER)
            & (state.recent_baghdad_attacks >= us.closure_threat_baghdad_attacks)
        )
        state.closure_threat_day[threat] = today.day
        today.emit(threat, EventKind.EMBASSY_CLOSURE_THREAT, Actor.US, target=embassy)

    if fused.ENABLED and state.personnel.shape[1] <= fused.PAIRWISE_BLOCK:
        _posture_moves_compiled(today)
        return
    if us.posture_trigger == "first_us_death":
        start_posture(today, rows_equal(state.first_us_death_day, today.day, active))
    _consolidate(today)
    _drawdown(today)

    upgraded = rows_equal(state.upgrade_due, today.day, active)
    if len(upgraded) == 0:
        return
    state.upgrade_due[upgraded] = NEVER
    cells = np.ix_(upgraded, th.us_sites)
    state.air_defence[cells] = 1.0 - (1.0 - state.air_defence[cells]) * (
        1.0 - us.air_defence_upgrade
    )
    today.emit(upgraded, EventKind.AIR_DEFENCE_UPGRADE, Actor.US)


def _posture_moves_compiled(today: Today) -> None:
    """``_posture`` after the signals in one compiled pass (``fused.us_posture_moves``),
    then its events in the order ``_posture`` logs them."""
    state, params = today.state, today.params
    us, th = params.config.doctrine.us, params.theatre
    R = state.replicates
    rules = (
        us.consolidation_lag_days,
        max(us.air_defence_upgrade_lag_days, 1),
        us.consolidation_interval_days,
        float(us.drawdown_target_troops),
        us.drawdown_days,
        us.air_defence_upgrade,
    )
    events = np.empty((4, R), dtype=np.int64)
    closed = np.empty(R, dtype=np.int64)
    counts = np.zeros(4, dtype=np.int64)
    fused.us_posture_moves(
        state.active, today.day, NEVER, us.posture_trigger == "first_us_death",
        state.first_us_death_day, rules, state.consolidation_start, state.drawdown_start,
        state.upgrade_due, params.consolidation_sites, state.sites_closed,
        (th.side == "us") & (th.country == "iraq"), state.personnel, state.site_open,
        state.posture_start_troops, state.air_defence, th.us_sites, events, closed, counts,
    )  # fmt: skip
    today.emit(events[0, : counts[0]], EventKind.SITE_CLOSED, Actor.US, target=closed[: counts[0]])
    today.emit(events[1, : counts[1]], EventKind.DRAWDOWN, Actor.US)
    today.emit(events[2, : counts[2]], EventKind.BUILD_UP, Actor.US)
    today.emit(events[3, : counts[3]], EventKind.AIR_DEFENCE_UPGRADE, Actor.US)


def _consolidate(today: Today) -> None:
    """Close the listed sites one by one, moving their people to the sites kept in Iraq."""
    state, params = today.state, today.params
    us = params.config.doctrine.us
    th = params.theatre
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
    today.emit(rows, EventKind.SITE_CLOSED, Actor.US, target=site)


def _drawdown(today: Today) -> None:
    """Troops move on a straight line from their level when the change began to the target:
    a drawdown (5,000 -> 2,500 in 2020, seeds 001 and 003) or a build-up."""
    state, us = today.state, today.params.config.doctrine.us
    starting = rows_equal(state.drawdown_start, today.day, state.active)
    starting_troops = sum_last(state.personnel[starting])  # only the rows it needs
    state.posture_start_troops[starting] = starting_troops
    down = starting_troops > us.drawdown_target_troops
    today.emit(starting[down], EventKind.DRAWDOWN, Actor.US)
    today.emit(starting[~down], EventKind.BUILD_UP, Actor.US)

    rows = np.flatnonzero(
        state.active & (state.drawdown_start != NEVER) & (today.day >= state.drawdown_start)
    )
    if len(rows) == 0:
        return
    progress = np.minimum((today.day - state.drawdown_start[rows]) / us.drawdown_days, 1.0)
    start = state.posture_start_troops[rows]
    goal = np.maximum(start + (us.drawdown_target_troops - start) * progress, 0.0)
    now = sum_last(state.personnel[rows])
    scale = np.divide(goal, now, out=np.ones_like(now), where=now > 0)
    state.personnel[rows] *= scale[:, None]


def start_posture(today: Today, rows: np.ndarray) -> None:
    """Schedule consolidation, the troop change and the air-defence upgrade (once)."""
    state, us = today.state, today.params.config.doctrine.us
    rows = rows[state.consolidation_start[rows] == NEVER]
    state.consolidation_start[rows] = today.day + us.consolidation_lag_days
    unset = rows[state.drawdown_start[rows] == NEVER]
    state.drawdown_start[unset] = today.day + us.consolidation_lag_days
    state.upgrade_due[rows] = today.day + max(us.air_defence_upgrade_lag_days, 1)


def us_answer_iran(today: Today, rows: np.ndarray, killed: np.ndarray) -> None:
    """After a direct Iranian strike: open war, or absorb it and harden (January 2020)."""
    us = today.params.config.doctrine.us
    chance = np.where(killed > 0, us.war_if_iran_kills_us, us.war_if_iran_strikes_without_deaths)
    war = rows[today.uniform(Stream.US_WAR_DECISION, 1, rows)[:, 0] < chance]
    today.absorb(war, Outcome.WAR, EventKind.OPEN_WAR, Action.AIRSTRIKE)
    if us.posture_trigger == "iran_strike":
        start_posture(today, rows)


# --- 4. Iran -------------------------------------------------------------------------------


def iran_act(today: Today) -> None:
    """Direct retaliation when the red line is crossed; green light or restraint for proxies."""
    state, iran = today.state, today.params.config.doctrine.iran
    if fused.ENABLED:
        _iran_act_compiled(today)
        return
    crossed = today.happens(
        Stream.IRAN_RETALIATION,
        iran.direct_retaliation_probability,
        state.active & state.decapitated_today & (state.retaliation_due == NEVER),
    )
    state.retaliation_due[crossed] = today.day + max(iran.retaliation_lag_days, 1)
    _direct_strike(today)
    _diplomacy(today)
    green = iran.green_light * np.exp(-iran.war_aversion * state.tension)
    restraining = today.day < state.iran_restraint_until
    green = np.where(restraining, np.minimum(green, iran.restraint_green_light), green)
    state.iran_green = np.where(state.talks_open, np.minimum(green, iran.talks_green_light), green)


def _iran_act_compiled(today: Today) -> None:
    """``iran_act`` in two compiled passes over the replicates around the direct strike
    (``fused.iran_red_line``, ``fused.iran_diplomacy_and_green``), with the same events."""
    state, params = today.state, today.params
    iran, day = params.config.doctrine.iran, today.day
    fused.iran_red_line(
        today.streams.keys, today.salts(Stream.IRAN_RETALIATION, 1)[0], state.active,
        state.decapitated_today, state.retaliation_due, NEVER,
        iran.direct_retaliation_probability, day + max(iran.retaliation_lag_days, 1),
    )  # fmt: skip
    _direct_strike_compiled(today)
    aversion = np.exp(-iran.war_aversion * state.tension)
    opened = np.empty(state.replicates, dtype=np.int64)
    ended = np.empty_like(opened)
    counts = np.zeros(2, dtype=np.int64)
    fused.iran_diplomacy_and_green(
        today.streams.keys, today.salts(Stream.TALKS_COLLAPSE, 1)[0], state.active,
        day == params.diplomacy_day, state.talks_open, state.responses_today,
        iran.talks_collapse_probability, aversion, iran.green_light, day,
        state.iran_restraint_until, iran.restraint_green_light, iran.talks_green_light,
        state.iran_green, opened, ended, counts,
    )  # fmt: skip
    today.emit(opened[: counts[0]], EventKind.TALKS_OPEN, Actor.IRAN)
    today.emit(ended[: counts[1]], EventKind.TALKS_COLLAPSE, Actor.IRAN)


def _diplomacy(today: Today) -> None:
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


def _direct_strike(today: Today) -> None:
    """Ballistic missiles on US bases (8 January 2020), warned to spare lives if calibrated."""
    state, params = today.state, today.params
    cfg = params.config
    iran, missile = cfg.doctrine.iran, cfg.weapons.ballistic_missile
    rows = rows_equal(state.retaliation_due, today.day, state.active)
    targets = params.retaliation_sites
    if len(rows) == 0 or len(targets) == 0:
        return
    state.retaliation_due[rows] = NEVER
    per_target = iran.retaliation_missiles / len(targets)
    exposure = state.personnel[np.ix_(rows, targets)] / cfg.weapons.personnel_reference
    killed = poisson_from_uniform(
        today.uniform(Stream.IRAN_MISSILE_KILLED, len(targets), rows),
        per_target * missile.kill_per_munition * exposure * (1.0 - iran.warning_effect),
    )
    wounded = poisson_from_uniform(
        today.uniform(Stream.IRAN_MISSILE_WOUNDED, len(targets), rows),
        per_target * missile.wound_per_munition * exposure,
    )
    # one event per (replicate, target), each replicate's targets in order: the order in
    # which a loop over the targets would tally them and the event log would sort them
    each = np.repeat(rows, len(targets))
    record_us_casualties(state, params, each, killed.ravel(), wounded.ravel(), today.day)
    today.emit(
        each,
        EventKind.IRAN_DIRECT_STRIKE,
        Actor.IRAN,
        Action.BALLISTIC_MISSILE,
        target=np.tile(targets, len(rows)),
        munitions=per_target,
        killed_us=killed.ravel(),
        wounded_us=wounded.ravel(),
    )
    # proxies are reined in afterwards (seed 002: attacks "scaled down")
    state.iran_restraint_until[rows] = today.day + iran.restraint_days
    us_answer_iran(today, rows, killed.sum(axis=1))


def _direct_strike_compiled(today: Today) -> None:
    """``_direct_strike`` in two compiled passes (``fused.iran_missile_means``,
    ``fused.iran_direct_strike``) around NumPy's exponential of the means, with the same
    events."""
    state, params = today.state, today.params
    cfg = params.config
    iran, missile, us = cfg.doctrine.iran, cfg.weapons.ballistic_missile, cfg.doctrine.us
    rows = rows_equal(state.retaliation_due, today.day, state.active)
    targets = params.retaliation_sites
    if len(rows) == 0 or len(targets) == 0:
        return
    n, T = len(rows), len(targets)
    per_target = iran.retaliation_missiles / T
    means = np.empty((2, n, T))
    fused.iran_missile_means(
        rows, targets, state.personnel, float(cfg.weapons.personnel_reference),
        float(per_target * missile.kill_per_munition), 1.0 - iran.warning_effect,
        float(per_target * missile.wound_per_munition), means,
    )  # fmt: skip
    counts = np.empty((2, n, T), dtype=np.int64)
    war = np.empty(n, dtype=np.int64)
    n_war = fused.iran_direct_strike(
        today.streams.keys, today.salts(Stream.IRAN_MISSILE_KILLED, T),
        today.salts(Stream.IRAN_MISSILE_WOUNDED, T), today.salts(Stream.US_WAR_DECISION, 1)[0],
        rows, means, np.exp(-means), POISSON_MAX_COUNT, us.war_if_iran_kills_us,
        us.war_if_iran_strikes_without_deaths, us.resolve_loss_per_us_death, today.day, NEVER,
        state.killed_us_today, state.wounded_us_today, state.us_resolve,
        state.first_us_death_day, state.retaliation_due, state.iran_restraint_until,
        today.day + iran.restraint_days, counts, war,
    )  # fmt: skip
    today.emit(
        np.repeat(rows, T),
        EventKind.IRAN_DIRECT_STRIKE,
        Actor.IRAN,
        Action.BALLISTIC_MISSILE,
        target=np.tile(targets, n),
        munitions=per_target,
        killed_us=counts[0].ravel(),
        wounded_us=counts[1].ravel(),
    )
    today.absorb(war[:n_war], Outcome.WAR, EventKind.OPEN_WAR, Action.AIRSTRIKE)
    if us.posture_trigger == "iran_strike":
        start_posture(today, rows)


# --- 5. Israel ----------------------------------------------------------------------------


def israel_interdict(today: Today) -> None:
    """Strikes on land-bridge depots, more often the more Iran ships (seed 004)."""
    state, params = today.state, today.params
    cfg = params.config
    israel = cfg.doctrine.israel
    th = params.theatre
    sites = th.interdiction_sites
    if len(sites) == 0:
        return
    in_iraq = sites[th.country[sites] == "iraq"]
    elsewhere = sites[th.country[sites] != "iraq"]
    chance = -np.expm1(
        -israel.interdiction_rate * state.transfer_recent / israel.reference_transfer_per_day
    )
    share = israel.strike_in_iraq_share if len(elsewhere) else 1.0
    pick_iraq_below = share if len(in_iraq) else 0.0
    pool_iraq = in_iraq if len(in_iraq) else elsewhere
    pool_else = elsewhere if len(elsewhere) else in_iraq
    iraq = cfg.doctrine.iraq
    blame_sovereignty = iraq.sovereignty_cost_israeli_strike * iraq.sovereignty_sensitivity
    if fused.ENABLED:  # the rest in one compiled pass over the replicates
        rows = np.empty(state.replicates, dtype=np.int64)
        site = np.empty_like(rows)
        salts = np.concatenate(
            [today.salts(Stream.ISRAEL_STRIKE, 1), today.salts(Stream.ISRAEL_TARGET, 2)]
            + [today.salts(Stream.ISRAEL_BLAME, 1)]
        )
        n = fused.israel_interdict(
            today.streams.keys, salts, state.active, chance, pick_iraq_below, pool_iraq,
            pool_else, params.base_share, israel.strike_stock_loss,
            israel.blame_us_probability, cfg.actors.dynamics.israeli_blame_grievance,
            blame_sovereignty, state.stock, state.grievance, state.sovereignty, rows, site,
        )  # fmt: skip
        today.emit(
            rows[:n], EventKind.ISRAELI_STRIKE, Actor.ISRAEL, Action.AIRSTRIKE, target=site[:n]
        )
        return
    rows = today.happens(Stream.ISRAEL_STRIKE, chance, state.active)
    if len(rows) == 0:
        return
    u = today.uniform(Stream.ISRAEL_TARGET, 2, rows)
    pick_iraq = u[:, 0] < pick_iraq_below
    site = np.where(
        pick_iraq,
        pool_iraq[(u[:, 1] * len(pool_iraq)).astype(np.int64)],
        pool_else[(u[:, 1] * len(pool_else)).astype(np.int64)],
    )
    loss = israel.strike_stock_loss * params.base_share[:, site].T  # (n, M)
    state.stock[rows] *= (1.0 - loss)[:, :, None]
    # militias may blame the US for strikes on Iraqi soil (Balad, August 2019, seed 004)
    blamed = pick_iraq & (
        today.uniform(Stream.ISRAEL_BLAME, 1, rows)[:, 0] < israel.blame_us_probability
    )
    state.grievance[rows[blamed]] += cfg.actors.dynamics.israeli_blame_grievance
    state.sovereignty[rows[blamed]] += blame_sovereignty
    today.emit(rows, EventKind.ISRAELI_STRIKE, Actor.ISRAEL, Action.AIRSTRIKE, target=site)


# --- 6. Iraqi government -----------------------------------------------------------------------


def iraq_act(today: Today) -> None:
    """Embassy protection, raids and releases, sovereignty votes, truce mediation."""
    if fused.ENABLED:
        _iraq_act_compiled(today)
        return
    state, params = today.state, today.params
    cfg = params.config
    iraq, us = cfg.doctrine.iraq, cfg.doctrine.us
    active, day = state.active, today.day

    # protect the embassy harder after an assault (Trump, 31 Dec 2019, seed 004)
    state.protection_until[active & state.assault_today] = day + iraq.protection_days
    level = np.where(
        day <= state.protection_until, iraq.protection_after_assault, iraq.embassy_protection
    )
    for site in params.theatre.embassy_sites:  # a column at a time: no fancy-index copy
        state.protection[:, site] = level

    threat = (state.closure_threat_day != NEVER) & (
        day - state.closure_threat_day < us.closure_threat_days
    )
    # raids on the most active group (June 2020 raid on Kataib Hezbollah, seed 003)
    raid_rate = np.where(threat, iraq.raid_rate_under_closure_threat, iraq.raid_rate)
    rows = today.happens(Stream.IRAQ_RAID, raid_rate, active)
    militia = np.argmax(state.recent_attacks[rows], axis=1)
    taken = state.fighters[rows, militia] * iraq.raid_detention_fraction
    state.fighters[rows, militia] -= taken
    state.detained[rows, militia] += taken
    today.emit(
        rows, EventKind.IRAQI_RAID, Actor.IRAQ_GOV, Action.RAID,
        target=params.strike_site_iraq[militia],
    )  # fmt: skip

    # detainees walk free sooner the more seats their group holds (seed 001)
    rows, militia = today.below(
        Stream.IRAQ_RELEASE,
        params.n_militias,
        iraq.release_rate * params.political_weight,
        state.detained > 0,
        row_where=active,
    )
    state.fighters[rows, militia] += state.detained[rows, militia]
    state.detained[rows, militia] = 0.0
    today.emit(
        rows, EventKind.FIGHTERS_RELEASED, Actor.IRAQ_GOV,
        target=params.strike_site_iraq[militia],
    )  # fmt: skip

    # parliament votes to expel US forces when sovereignty pressure runs high
    may_vote = (state.sovereignty >= iraq.expulsion_vote_threshold) & (
        (state.last_vote_day == NEVER) | (day - state.last_vote_day >= iraq.vote_cooldown_days)
    )
    votes = today.happens(Stream.EXPULSION_VOTE, iraq.expulsion_vote_probability, active & may_vote)
    state.last_vote_day[votes] = day
    state.us_resolve[votes] -= us.resolve_loss_per_expulsion_vote
    today.emit(votes, EventKind.EXPULSION_VOTE, Actor.IRAQ_GOV)

    # with the embassy at stake, Baghdad brokers a truce (October 2020)
    truce = today.happens(
        Stream.TRUCE, iraq.truce_probability, active & threat & (day > state.truce_until)
    )
    state.truce_until[truce] = day + iraq.truce_days
    today.emit(truce, EventKind.TRUCE, Actor.IRAQ_GOV)


#: the numbers of the Iraqi doctrine ``fused.iraq_act`` reads, in its order
IRAQ_RULES = (
    ("iraq", "protection_days"),
    ("iraq", "protection_after_assault"),
    ("iraq", "embassy_protection"),
    ("us", "closure_threat_days"),
    ("iraq", "raid_rate_under_closure_threat"),
    ("iraq", "raid_rate"),
    ("iraq", "raid_detention_fraction"),
    ("iraq", "expulsion_vote_threshold"),
    ("iraq", "vote_cooldown_days"),
    ("iraq", "expulsion_vote_probability"),
    ("us", "resolve_loss_per_expulsion_vote"),
    ("iraq", "truce_probability"),
    ("iraq", "truce_days"),
)


def _iraq_act_compiled(today: Today) -> None:
    """``iraq_act`` in one compiled pass over the replicates (``fused.iraq_act``), then its
    events in the order ``iraq_act`` logs them."""
    state, params = today.state, today.params
    doctrine = params.config.doctrine
    R, M = state.replicates, params.n_militias
    rules = tuple(getattr(getattr(doctrine, actor), name) for actor, name in IRAQ_RULES)
    salts = np.concatenate(
        [
            today.salts(Stream.IRAQ_RAID, 1),
            today.salts(Stream.EXPULSION_VOTE, 1),
            today.salts(Stream.TRUCE, 1),
            today.salts(Stream.IRAQ_RELEASE, M),
        ]
    )
    events = np.empty((4, R * M), dtype=np.int64)
    targets = np.empty((2, R * M), dtype=np.int64)
    counts = np.zeros(4, dtype=np.int64)
    fused.iraq_act(
        today.streams.keys, salts, state.active, today.day, NEVER,
        state.assault_today, state.protection_until, state.protection,
        params.theatre.embassy_sites, state.closure_threat_day, state.recent_attacks,
        state.fighters, state.detained, state.sovereignty, state.last_vote_day,
        state.us_resolve, state.truce_until, rules,
        doctrine.iraq.release_rate * params.political_weight, params.strike_site_iraq,
        events, targets, counts,
    )  # fmt: skip
    raids, released, votes, truces = (events[k, : counts[k]] for k in range(4))
    today.emit(
        raids, EventKind.IRAQI_RAID, Actor.IRAQ_GOV, Action.RAID, target=targets[0, : counts[0]]
    )
    today.emit(
        released, EventKind.FIGHTERS_RELEASED, Actor.IRAQ_GOV, target=targets[1, : counts[1]]
    )
    today.emit(votes, EventKind.EXPULSION_VOTE, Actor.IRAQ_GOV)
    today.emit(truces, EventKind.TRUCE, Actor.IRAQ_GOV)
