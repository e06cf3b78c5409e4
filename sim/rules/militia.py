"""The militia groups' rules (ODD 3, steps 2 and 7): whether, where and with what to attack,
the attack's outcome, the embassy assault, learning from US answers, and recovery.

Every function works on whole arrays with a leading replicate axis (R, M groups, W
weapons, T targets); there is no per-replicate Python loop.
"""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind, Intent, Signal
from sim.numerics.reductions import (
    add_at,
    add_at_cells,
    repeat_last,
    rowwise_matmul,
    sum_last,
)
from sim.numerics.sampling import (
    categorical_from_product,
    geometric_from_uniform,
    poisson_from_uniform,
)
from sim.params import Params, at, column
from sim.rng import Stream
from sim.rules.effects import record_us_casualties
from sim.rules.today import Attacks, Today
from sim.state import NEVER, State

#: the streams of each attack's draws: where and with what, the salvo, the interception,
#: the intent, the claim, then US killed, US wounded, Iraqi killed and Iraqi wounded
ATTACK_STREAMS = (
    Stream.ATTACK_CHOICE,
    Stream.SALVO,
    Stream.INTERCEPT,
    Stream.INTENT,
    Stream.CLAIM,
    Stream.US_KILLED,
    Stream.US_WOUNDED,
    Stream.IRAQI_KILLED,
    Stream.IRAQI_WOUNDED,
)


# --- the hazard of an attack (ODD 3 step 2, ODD 7 militia groups) --------------------------


def capability(state: State, params: Params) -> np.ndarray:
    """(R, M, W) in [0, 1]: stock on hand (saturating), fighters and intact leadership."""
    dyn = params.config.actors.dynamics
    cap = state.stock + params.stock_half_saturation
    np.divide(state.stock, cap, out=cap)
    strength = state.fighters / params.max_fighters
    leadership = 1.0 - column(dyn.leadership_loss_effect) * (1.0 - state.leadership)
    cap *= repeat_last(strength * leadership, cap.shape[2])
    return cap


def attack_propensity(state: State, params: Params, day: int) -> np.ndarray:
    """(R, M) attacks per day before capability and geometry: motive, green light, deterrence."""
    M = params.n_militias
    motive = params.resolve + state.grievance
    green_light = 1.0 - obeying(state, params) * repeat_last(1.0 - state.iran_green, M)
    truce = np.where(day <= state.truce_until, params.config.doctrine.iraq.truce_attack_factor, 1.0)
    return (
        params.base_attack_rate
        * column(params.config.actors.dynamics.attack_rate_scale)
        * motive
        * green_light
        * deterrence(state, params)
        * tempo(state, params)
        * repeat_last(truce * state.active, M)
    )


def obeying(state: State, params: Params) -> np.ndarray:
    """(R, M) how far each group follows Iran's restraint: its obedience, or none at all
    once it has fallen below the defiance threshold (the group acts against Iran)."""
    threshold = column(params.config.actors.dynamics.defiance_threshold)
    return np.where(state.obedience < threshold, 0.0, state.obedience)


def tempo(state: State, params: Params) -> np.ndarray:
    """(R, M) factor of self-excitation on each group's attacks (ODD 7, "Self-excitation"):
    1 + its own momentum (emboldened by its attacks that landed) + ``outbidding`` times the
    other groups' momentum (rivals matching each other for Iran's favour and recruits).
    Momentum fades with ``momentum_halflife_days``; what ends a burst is the rest of the
    model: US answers raising perceived risk, stocks running down, Iran's restraint, Iraqi
    raids."""
    momentum = state.momentum
    others = repeat_last(sum_last(momentum), momentum.shape[1]) - momentum
    return 1.0 + momentum + column(params.config.actors.dynamics.outbidding) * others


def deterrence(state: State, params: Params) -> np.ndarray:
    """(R, M) factor of the fear of a US answer on each group's attacks."""
    return np.exp(-params.risk_sensitivity * state.perceived_risk)


def target_opportunity(state: State, params: Params, day: int) -> np.ndarray:
    """(R, T): open, manned, unprotected sites; convoys on the road (more in a drawdown)."""
    th, actors = params.theatre, params.config.actors
    opportunity = np.empty((state.replicates, th.n_targets))
    # the US sites (the first targets) worked out whole, then copied in: whole arrays are
    # met in one pass, the columns of a wider one row by row
    sites = 1.0 - state.protection
    sites *= state.site_open & (state.personnel > 0)
    n_sites = sites.shape[1]
    opportunity[:, :n_sites] = sites
    moving = day - state.drawdown_start  # days into a drawdown or build-up
    drawing_down = (
        (state.drawdown_start != NEVER)
        & (moving >= 0)
        & (moving < params.config.doctrine.us.drawdown_days)
    )
    convoys = actors.convoys_per_day * (1.0 + actors.drawdown_convoy_boost * drawing_down)
    for t, weight in enumerate(th.convoy_weight, start=n_sites):  # a column at a time
        np.multiply(convoys, weight, out=opportunity[:, t])
    return opportunity


def attack_rates(state: State, params: Params, day: int) -> tuple[np.ndarray, ...]:
    """(R, M, W) attacks per day of each group with each weapon, the (R, M, W) capability
    and the (R, T) target opportunity it was built from."""
    opportunity = target_opportunity(state, params, day)
    # sum over targets first: rate[r, m, w] = a[r, m] cap[r, m, w] sum_t opp[r, t] B[m, t, w]
    # one matrix product (R, T) @ (T, M*W) instead of an einsum
    reach = rowwise_matmul(opportunity, params.attack_weight_by_target)
    reach = reach.reshape(state.stock.shape)
    cap = capability(state, params)
    rate = repeat_last(attack_propensity(state, params, day), cap.shape[2])
    rate *= cap
    rate *= reach
    return rate, cap, opportunity


def record_capability(state: State, cap: np.ndarray) -> None:
    """Keep the groups' mean capability of the day (over the groups formed and every
    weapon), as they chose whether to attack, for the daily series."""
    R, M, W = cap.shape
    formed = sum_last(state.formed.astype(np.float64))
    np.divide(sum_last(cap.reshape(R, M * W)), formed * W, out=state.capability_today)


# --- the day's attacks --------------------------------------------------------------------


def attack(today: Today) -> Attacks:
    """Sample whether each group attacks today, then where and with what, to harass or to
    kill, whether it is claimed (under a front's name if the group has one), then the
    outcome. The attacks are logged by :func:`log_attacks` once the US has attributed
    them."""
    state, params, day = today.state, today.params, today.day
    rate, cap, opportunity = attack_rates(state, params, day)
    record_capability(state, cap)
    p_attack = -np.expm1(-sum_last(rate))
    rows, militia = today.below(Stream.ATTACK_OCCURS, params.n_militias, p_attack)
    if len(rows) == 0:
        return Attacks.none()

    # one uniform per attack of each stream, slot = the group; the four casualty counts
    # (each its own stream) come last, side by side
    draws = today.uniforms_at(ATTACK_STREAMS, rows, militia)
    target, weapon = _choose_target_and_weapon(params, rows, militia, draws[0], opportunity, cap)
    salvo_mean = params.salvo_mean[rows, weapon] * params.salvo_scale[rows, militia]
    munitions = geometric_from_uniform(draws[1], salvo_mean)
    harass = draws[3] < params.casualty_aversion[rows, militia]
    munitions, intercepted, means = attack_exposure(
        state, params, rows, militia, target, weapon, munitions, draws[2], harass
    )
    claimed = draws[4] < at(params.config.actors.dynamics.claim_probability, rows)
    code = params.claim_code[militia]
    front = code >= params.n_militias
    signal = np.where(
        claimed, np.where(front, Signal.CLAIMED_BY_FRONT, Signal.CLAIMED), Signal.UNCLAIMED
    )
    # the four casualty counts of every attack in one pass
    killed, wounded, iraqi_killed, iraqi_wounded = poisson_from_uniform(draws[5:], means)
    record_us_casualties(today, rows, killed, wounded)
    th = params.theatre
    add_at(state.killed_iraqi_today, rows, iraqi_killed)
    add_at(state.wounded_iraqi_today, rows, iraqi_wounded)
    add_at_cells(state.attacks_today, rows, weapon, 1.0)
    state.recent_attacks[rows, militia] += 1.0
    add_at(state.recent_baghdad_attacks, rows, th.target_in_baghdad[target])
    # an attack that landed emboldens its group (no more than one attack a group a day)
    dyn = params.config.actors.dynamics
    gain = at(dyn.momentum_per_success, rows) * at(dyn.self_excitation, rows)
    state.momentum[rows, militia] += gain * ~intercepted
    # each attack is a trial of "does the US answer?": until it does, risk decays
    state.perceived_risk[rows, militia] *= 1.0 - at(dyn.learning_rate, rows)

    return Attacks(
        rows,
        militia,
        target,
        weapon,
        harass,
        np.where(claimed, code, -1),
        signal.astype(np.int64),
        munitions,
        intercepted,
        killed,
        wounded,
        iraqi_killed,
        iraqi_wounded,
    )


def log_attacks(today: Today, attacks: Attacks) -> None:
    """Log today's attacks: what each did and said, and whom the US blames for it."""
    if attacks.n == 0:
        return
    a, th = attacks, today.params.theatre
    today.emit(
        a.rows,
        today.params.weapon_kind[a.weapon],
        Actor.MILITIA,
        Action.ATTACK,
        extra_kinds=(((a.killed_us + a.wounded_us) > 0, EventKind.US_CASUALTIES),),
        weapon=a.weapon,
        source=a.militia,
        target=th.target_place[a.target],
        claimed_by=a.claimed_by,
        blamed=a.blamed,
        signal=a.signal,
        intent=np.where(a.harass, Intent.HARASS, Intent.KILL),
        munitions=a.munitions,
        intercepted=a.intercepted,
        killed_us=a.killed_us,
        wounded_us=a.wounded_us,
        killed_iraqi=a.killed_iraqi,
        wounded_iraqi=a.wounded_iraqi,
    )


def _choose_target_and_weapon(params, rows, militia, u_choice, opportunity, cap):
    """One categorical draw over (target, weapon) per attack, proportional to the rates:
    ``opportunity[t] * attack_weight[m, t, w] * cap[m, w]``."""
    choice = categorical_from_product(
        u_choice, opportunity[rows], params.attack_weight, cap[rows, militia], b_rows=militia
    )
    return np.divmod(choice, cap.shape[2])


def attack_exposure(
    state: State,
    params: Params,
    rows: np.ndarray,
    militia: np.ndarray,
    target: np.ndarray,
    weapon: np.ndarray,
    munitions: np.ndarray,
    u_intercept: np.ndarray,
    harass: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fire the attacks: munitions (at most the stock, at least one) leave the stock; air
    defence may intercept; an attack meant to harass keeps ``harassment_lethality`` of the
    weapon's lethality; returns munitions, intercepted and the (4, n) expected US killed,
    US wounded, Iraqi killed and Iraqi wounded."""
    th, actors = params.theatre, params.config.actors
    held = state.stock[rows, militia, weapon]
    munitions = np.minimum(munitions, np.maximum(1, np.ceil(held)).astype(np.int64))
    state.stock[rows, militia, weapon] = np.maximum(0.0, held - munitions)
    site = th.target_us_site[target]
    is_site = site >= 0
    site_or_0 = np.where(is_site, site, 0)
    air_defence = np.where(is_site, state.air_defence[rows, site_or_0], 0.0)
    intercepted = u_intercept < air_defence
    # convoy crews are mostly Iraqi contractors: the convoy weapons' rates already say so
    exposure = np.where(
        is_site, state.personnel[rows, site_or_0] / at(actors.personnel_reference, rows), 1.0
    )
    lethality = at(actors.dynamics.harassment_lethality, rows)
    aim = np.where(harass, lethality, 1.0) * ~intercepted
    per_munition = (
        params.kill_per_munition,
        params.wound_per_munition,
        params.iraqi_killed_per_munition,
        params.iraqi_wounded_per_munition,
    )
    rate = [table[rows, weapon] for table in per_munition]
    means = np.stack(
        [
            munitions * rate[0] * exposure * aim,
            munitions * rate[1] * exposure * aim,
            munitions * rate[2] * aim,
            munitions * rate[3] * aim,
        ]
    )
    return munitions, intercepted, means


def storm_embassy(today: Today) -> None:
    """Crowds led by the most aggrieved group may storm the embassy, the more likely the
    angrier the street: outrage at US strikes on Iraqi soil, at raids and arrests, at
    Israeli strikes blamed on the US, and a protest movement that grows with sovereignty
    pressure (31 Dec 2019 followed strikes; ODD 3 step 2)."""
    state, params = today.state, today.params
    th = params.theatre
    if len(th.embassy_sites) == 0:
        return
    embassy, guarded = th.embassy_sites[0], th.embassy_columns[0]
    dyn = params.config.actors.dynamics
    drive = state.outrage + dyn.protest_outrage * state.sovereignty
    hazard = dyn.embassy_assault_rate * drive / (drive + dyn.outrage_half_saturation)
    rows = today.happens(
        Stream.EMBASSY_ASSAULT, hazard * (1.0 - state.protection[:, guarded]), state.active
    )
    leaders = np.argmax(np.where(state.formed[rows], state.grievance[rows], -np.inf), axis=1)
    state.assault_militia[rows] = leaders
    state.assault_today[rows] = True
    state.outrage[rows] = 0.0  # the crowd's anger is spent
    state.recent_baghdad_attacks[rows] += 1.0
    today.emit(
        rows,
        EventKind.EMBASSY_ASSAULT,
        Actor.MILITIA,
        Action.ASSAULT,
        source=leaders,
        target=embassy,
        intent=Intent.PROTEST,
    )


# --- learning and recovery ------------------------------------------------------------------


def learn_response(today: Today, rows: np.ndarray, militias: np.ndarray) -> None:
    """Militias see a US response: the struck group's perceived risk rises most (ODD 5).

    With the per-attack decay in ``attack``, this is an exponentially weighted estimate of
    P(response | attack): an attack multiplies risk by (1 - a), a response adds a.
    """
    if len(rows) == 0:
        return
    state, dyn = today.state, today.params.config.actors.dynamics
    rate, spill = dyn.learning_rate, dyn.learning_spillover
    # only the replicates that saw a strike learn: every group in them (the others watch)
    seen, where = np.unique(rows, return_inverse=True)
    struck = np.zeros((len(seen), state.perceived_risk.shape[1]), dtype=bool)
    struck[where, militias] = True
    rate, spill = column(at(rate, seen)), column(at(spill, seen))
    risk = state.perceived_risk[seen]
    risk += np.where(struck, rate, rate * spill * (1.0 - risk))
    state.perceived_risk[seen] = np.clip(risk, 0.0, 1.0, out=risk)


def recover(today: Today) -> None:
    """Grievance fades, leaderships rebuild, groups recruit, attack counts and momentum fade
    (ODD 3 step 7)."""
    state, params = today.state, today.params
    dyn = params.config.actors.dynamics
    state.grievance *= column(params.grievance_decay)
    state.outrage *= params.outrage_decay
    lose_obedience(today)
    split(today)
    recovered = state.leadership + column(1.0 / dyn.leadership_recovery_days)
    np.minimum(recovered, 1.0, out=state.leadership)
    # groups rebuild and replace members (seed 001), logistic towards their ceiling
    room = 1.0 - (state.fighters + state.detained) / params.max_fighters
    regrowth = column(dyn.fighter_regeneration_per_day) * state.fighters
    state.fighters += regrowth * np.maximum(room, 0.0)
    state.recent_attacks *= column(params.attack_count_decay)
    state.momentum *= column(params.momentum_decay)
    # obedience drifts back to each group's baseline (Iran's advisers, money, arms)
    state.obedience += column(dyn.obedience_recovery_per_day) * (params.obedience - state.obedience)
    state.recent_baghdad_attacks *= params.baghdad_count_decay


def lose_obedience(today: Today) -> None:
    """Groups whose leaders were killed today obey Iran less, and every group a little less:
    the network's leaders are gone (ODD 3 step 7)."""
    state, dyn = today.state, today.params.config.actors.dynamics
    rows = np.flatnonzero(state.leaders_struck_today)
    if len(rows) == 0:
        return
    group = state.decapitation_target[rows]
    state.obedience[rows] *= column(1.0 - at(dyn.obedience_loss_network, rows))
    state.obedience[rows, group] *= 1.0 - at(dyn.obedience_loss_on_decapitation, rows)


def split(today: Today) -> None:
    """A group whose leaders were killed today may split (ODD 3 step 7): each splinter
    declared for it (``splinter_of``) forms with probability ``splinter_probability`` times
    the group's disobedience to Iran after the loss, and takes ``splinter_share`` of its
    fighters and munitions (up to the splinter's own ceilings) and its grievance; its fear of
    the US is its own, learnt from what it watched. From then on it attacks under its own
    name, at its own low obedience."""
    state, params = today.state, today.params
    dyn = params.config.actors.dynamics
    struck = np.flatnonzero(state.leaders_struck_today)
    if len(struck) == 0:
        return
    for splinter in params.splinters:  # the few declared in the configuration
        group = params.splinter_of[splinter]
        waiting = ~state.formed[struck, splinter]
        rows = struck[(state.decapitation_target[struck] == group) & waiting]
        chance = at(dyn.splinter_probability, rows) * (1.0 - state.obedience[rows, group])
        u = today.uniform_at(Stream.SPLINTER, rows, np.full(len(rows), splinter))
        rows = rows[u < chance]
        if len(rows) == 0:
            continue
        share = at(dyn.splinter_share, rows)
        leaving = np.minimum(
            share * state.fighters[rows, group], params.max_fighters[rows, splinter]
        )
        state.fighters[rows, group] -= leaving
        state.fighters[rows, splinter] = leaving
        capacity = params.stock_capacity[rows, splinter]
        taken = np.minimum(column(share) * state.stock[rows, group], capacity)
        state.stock[rows, group] -= taken
        state.stock[rows, splinter] = taken
        state.grievance[rows, splinter] = state.grievance[rows, group]
        state.formed[rows, splinter] = True
        today.emit(
            rows,
            EventKind.SPLINTER_FORMED,
            Actor.MILITIA,
            source=np.full(len(rows), splinter),
            target=params.strike_site_iraq[np.full(len(rows), group)],
            signal=Signal.ANNOUNCED,
        )
