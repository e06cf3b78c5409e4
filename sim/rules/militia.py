"""The militia groups' rules (ODD 3, steps 2 and 7): whether, where and with what to attack,
the attack's outcome, the embassy assault, learning from US answers, and recovery.

Every function works on whole arrays with a leading replicate axis (R, M groups, W
weapons, T targets); there is no per-replicate Python loop.
"""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind
from sim.numerics.reductions import add_at, repeat_last, rowwise_matmul, sum_last
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
#: then US killed, US wounded, Iraqi killed and Iraqi wounded
ATTACK_STREAMS = (
    Stream.ATTACK_CHOICE,
    Stream.SALVO,
    Stream.INTERCEPT,
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
    green_light = 1.0 - params.obedience * repeat_last(1.0 - state.iran_green, M)
    truce = np.where(day <= state.truce_until, params.config.doctrine.iraq.truce_attack_factor, 1.0)
    return (
        params.base_attack_rate
        * motive
        * green_light
        * deterrence(state, params)
        * repeat_last(truce * state.active, M)
    )


def deterrence(state: State, params: Params) -> np.ndarray:
    """(R, M) factor of the fear of a US answer on each group's attacks."""
    return np.exp(-params.risk_sensitivity * state.perceived_risk)


def target_opportunity(state: State, params: Params, day: int) -> np.ndarray:
    """(R, T): open, manned, unprotected sites; convoys on the road (more in a drawdown)."""
    th, actors = params.theatre, params.config.actors
    opportunity = np.empty((state.replicates, th.n_targets))
    # worked out for every site, then the US sites taken: whole arrays are met in one
    # pass, columns of them row by row
    sites = 1.0 - state.protection
    sites *= state.site_open & (state.personnel > 0)
    n_sites = len(th.us_sites)
    opportunity[:, :n_sites] = sites[:, _as_slice(th.us_sites)]
    moving = day - state.drawdown_start  # days into a drawdown or build-up
    drawing_down = (
        (state.drawdown_start != NEVER)
        & (moving >= 0)
        & (moving < params.config.doctrine.us.drawdown_days)
    )
    convoys = actors.convoys_per_day * (1.0 + actors.drawdown_convoy_boost * drawing_down)
    np.multiply(convoys[:, None], th.convoy_weight[None, :], out=opportunity[:, n_sites:])
    return opportunity


def _as_slice(index: np.ndarray) -> slice | np.ndarray:
    """A run of consecutive indices as a slice, which selects a view instead of a copy."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return index


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


# --- the day's attacks --------------------------------------------------------------------


def attack(today: Today) -> Attacks:
    """Sample whether each group attacks today, then where and with what, then the outcome."""
    state, params, day = today.state, today.params, today.day
    rate, cap, opportunity = attack_rates(state, params, day)
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
    munitions, intercepted, means = attack_exposure(
        state, params, rows, militia, target, weapon, munitions, draws[2]
    )
    # the four casualty counts of every attack in one pass
    killed, wounded, iraqi_killed, iraqi_wounded = poisson_from_uniform(draws[3:], means)
    record_us_casualties(today, rows, killed, wounded)
    th = params.theatre
    add_at(state.killed_iraqi_today, rows, iraqi_killed)
    add_at(state.wounded_iraqi_today, rows, iraqi_wounded)
    np.add.at(state.attacks_today, (rows, weapon), 1.0)
    state.recent_attacks[rows, militia] += 1.0
    add_at(state.recent_baghdad_attacks, rows, th.target_in_baghdad[target])
    # each attack is a trial of "does the US answer?": until it does, risk decays
    state.perceived_risk[rows, militia] *= 1.0 - at(
        params.config.actors.dynamics.learning_rate, rows
    )

    today.emit(
        rows,
        params.weapon_kind[weapon],
        Actor.MILITIA,
        Action.ATTACK,
        extra_kinds=(((killed + wounded) > 0, EventKind.US_CASUALTIES),),
        weapon=weapon,
        source=militia,
        target=th.target_place[target],
        munitions=munitions,
        intercepted=intercepted,
        killed_us=killed,
        wounded_us=wounded,
        killed_iraqi=iraqi_killed,
        wounded_iraqi=iraqi_wounded,
    )
    return Attacks(rows, militia, target, weapon, killed, wounded)


def _choose_target_and_weapon(params, rows, militia, u_choice, opportunity, cap):
    """One categorical draw over (target, weapon) per attack, proportional to the rates:
    ``opportunity[t] * attack_weight[m, t, w] * cap[m, w]``."""
    choice = categorical_from_product(
        u_choice, opportunity[rows], params.attack_weight[militia], cap[rows, militia]
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fire the attacks: munitions (at most the stock, at least one) leave the stock; air
    defence may intercept; returns munitions, intercepted and the (4, n) expected US
    killed, US wounded, Iraqi killed and Iraqi wounded."""
    th, actors = params.theatre, params.config.actors
    on_hand = np.maximum(1, np.ceil(state.stock[rows, militia, weapon])).astype(np.int64)
    munitions = np.minimum(munitions, on_hand)
    state.stock[rows, militia, weapon] = np.maximum(
        0.0, state.stock[rows, militia, weapon] - munitions
    )
    site = th.target_site[target]
    is_site = site >= 0
    site_or_0 = np.where(is_site, site, 0)
    air_defence = np.where(is_site, state.air_defence[rows, site_or_0], 0.0)
    intercepted = u_intercept < air_defence
    # convoy crews are mostly Iraqi contractors: the convoy weapons' rates already say so
    exposure = np.where(
        is_site, state.personnel[rows, site_or_0] / at(actors.personnel_reference, rows), 1.0
    )
    aim = (1.0 - params.casualty_aversion[rows, militia]) * ~intercepted
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
    """Days after a US strike in Iraq, the struck group may storm the embassy (31 Dec 2019;
    ODD 3 step 2)."""
    state, params = today.state, today.params
    embassies = params.theatre.embassy_sites
    if len(embassies) == 0:
        return
    embassy = embassies[0]
    probability = params.config.actors.dynamics.embassy_assault_probability
    rows = np.flatnonzero(state.active & (state.assault_until >= today.day))
    rows = today.happens_in(
        Stream.EMBASSY_ASSAULT,
        rows,
        at(probability, rows) * (1.0 - state.protection[rows, embassy]),
    )
    state.assault_until[rows] = NEVER
    state.assault_today[rows] = True
    state.recent_baghdad_attacks[rows] += 1.0
    today.emit(
        rows,
        EventKind.EMBASSY_ASSAULT,
        Actor.MILITIA,
        Action.ASSAULT,
        source=state.assault_militia[rows],
        target=embassy,
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
    """Grievance fades, leaderships rebuild, groups recruit, attack counts fade (ODD 3
    step 7)."""
    state, params = today.state, today.params
    dyn = params.config.actors.dynamics
    state.grievance *= column(params.grievance_decay)
    recovered = state.leadership + column(1.0 / dyn.leadership_recovery_days)
    np.minimum(recovered, 1.0, out=state.leadership)
    # groups rebuild and replace members (seed 001), logistic towards their ceiling
    room = 1.0 - (state.fighters + state.detained) / params.max_fighters
    regrowth = column(dyn.fighter_regeneration_per_day) * state.fighters
    state.fighters += regrowth * np.maximum(room, 0.0)
    state.recent_attacks *= column(params.attack_count_decay)
    state.recent_baghdad_attacks *= params.baghdad_count_decay
