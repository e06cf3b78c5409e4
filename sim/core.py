"""The vectorized core: one day of the model for R replicates at once (MODEL.md section 3).

Militia behaviour (supply, attack hazards, outcomes, the embassy assault) and the
daily updates live here; the decision rules of the states live in ``doctrines``.
Every function works on whole arrays with a leading replicate axis; there is no
per-replicate Python loop anywhere in a day.
"""

from __future__ import annotations

import numpy as np

from sim import doctrines, fused
from sim.events import WEAPON_ACTION, Action, Actor, EventKind, EventLog, Weapon
from sim.kernels import (
    POISSON_MAX_COUNT,
    Attacks,
    Today,
    categorical_from_uniform,
    geometric_from_uniform,
    geometric_parameters,
    poisson_from_uniform,
    record_us_casualties,
    rowwise_matmul,
    sum_last,
)
from sim.params import Params
from sim.rng import RandomStreams, Stream
from sim.state import NEVER, Outcome, State

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


def step(state: State, params: Params, streams: RandomStreams, day: int, log: EventLog) -> None:
    """Advance every replicate by one day, appending the day's events to ``log``."""
    today = Today(state, params, streams, day, log)
    begin_day(state)
    supply(state, params, day)
    attacks = militia_attacks(today)
    embassy_assault(today)
    doctrines.us_respond(today, attacks)
    doctrines.iran_act(today)
    doctrines.israel_interdict(today)
    doctrines.iraq_act(today)
    end_of_day(today)


def begin_day(state: State) -> None:
    """Reset today's tallies."""
    for tally in (
        state.attacks_today,
        state.responses_today,
        state.killed_us_today,
        state.wounded_us_today,
        state.killed_iraqi_today,
        state.wounded_iraqi_today,
    ):
        tally.fill(0.0)
    state.rung_today.fill(0)
    state.assault_today.fill(False)
    state.decapitated_today.fill(False)


# --- 1. supply -------------------------------------------------------------------------


def supply(state: State, params: Params, day: int) -> None:
    """Iran ships materiel along the land bridge to each group's depots (shares fixed)."""
    rates = params.supply_rates(day)
    if fused.ENABLED:
        fused.supply(state.stock, state.active, params.supply_share, rates, params.stock_capacity)
    else:
        state.stock[state.active] += params.supply_share[:, None] * rates[None, :]
        np.minimum(state.stock, params.stock_capacity[None, :, None], out=state.stock)
    # a 30-day moving volume of transfers: what Israeli intelligence sees
    state.transfer_recent += (rates.sum() - state.transfer_recent) / 30.0


# --- 2. militia attacks ------------------------------------------------------------------


def capability(state: State, params: Params) -> np.ndarray:
    """(R, M, W) in [0, 1]: stock on hand (saturating), fighters and intact leadership."""
    dyn = params.config.actors.dynamics
    cap = state.stock + params.stock_half_saturation
    np.divide(state.stock, cap, out=cap)
    strength = state.fighters / params.max_fighters
    leadership = 1.0 - dyn.leadership_loss_effect * (1.0 - state.leadership)
    cap *= (strength * leadership)[:, :, None]
    return cap


def _capability_inputs(state: State, params: Params) -> tuple:
    """The arguments of ``capability`` for the compiled loops, in their order."""
    return (
        state.stock,
        params.stock_half_saturation,
        state.fighters,
        params.max_fighters,
        state.leadership,
        params.config.actors.dynamics.leadership_loss_effect,
    )


def mean_capability(state: State, params: Params, out: np.ndarray) -> np.ndarray:
    """(R,) mean of ``capability`` over groups and weapons, into ``out``."""
    if fused.ENABLED and state.stock[0].size <= fused.PAIRWISE_BLOCK:
        fused.mean_capability(*_capability_inputs(state, params), out)
        return out
    cap = capability(state, params).reshape(state.replicates, -1)
    return np.divide(sum_last(cap), cap.shape[1], out=out)


def attack_propensity(state: State, params: Params, day: int) -> np.ndarray:
    """(R, M) attacks per day before capability and geometry: motive, green light, deterrence."""
    motive = params.resolve + state.grievance
    green_light = 1.0 - params.obedience * (1.0 - state.iran_green[:, None])
    truce = np.where(day <= state.truce_until, params.config.doctrine.iraq.truce_attack_factor, 1.0)
    return (
        params.base_attack_rate
        * motive
        * green_light
        * deterrence(state, params)
        * (truce * state.active)[:, None]
    )


def deterrence(state: State, params: Params) -> np.ndarray:
    """(R, M) factor of the fear of a US answer on each group's attacks."""
    if not fused.ENABLED:
        return np.exp(-params.risk_sensitivity * state.perceived_risk)
    exponent = np.empty_like(state.perceived_risk)
    fused.scale_columns(state.perceived_risk, -params.risk_sensitivity, exponent)
    return np.exp(exponent, out=exponent)


def target_opportunity(state: State, params: Params, day: int) -> np.ndarray:
    """(R, T): open, manned, unprotected sites; convoys on the road (more in a drawdown)."""
    th, actors = params.theatre, params.config.actors
    opportunity = np.empty((state.replicates, th.n_targets))
    if fused.ENABLED:
        fused.target_opportunity(
            state.protection,
            state.site_open,
            state.personnel,
            th.us_sites,
            state.drawdown_start,
            NEVER,
            day,
            params.config.doctrine.us.drawdown_days,
            actors.convoys_per_day,
            actors.drawdown_convoy_boost,
            th.convoy_weight,
            opportunity,
        )
        return opportunity
    us_sites = _as_slice(th.us_sites)
    n_sites = len(th.us_sites)
    sites = opportunity[:, :n_sites]
    np.subtract(1.0, state.protection[:, us_sites], out=sites)
    sites *= state.site_open[:, us_sites] & (state.personnel[:, us_sites] > 0)
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
    """Hazard pieces: (R, M, W) rate by weapon, plus the factors to rebuild (t, w) detail."""
    return _hazards(state, params, day)[:3]


def _hazards(
    state: State, params: Params, day: int, by_weapon: bool = True
) -> tuple[np.ndarray, ...]:
    """``attack_rates`` and the (R, M) total rate of each group; without ``by_weapon`` the
    compiled loop skips the (R, M, W) rates (returned empty)."""
    opportunity = target_opportunity(state, params, day)
    # sum over targets first: rate[r, m, w] = a[r, m] cap[r, m, w] sum_t opp[r, t] B[m, t, w]
    # one BLAS product (R, T) @ (T, M*W) instead of an einsum, in blocks of rows
    reach = rowwise_matmul(opportunity, params.attack_weight_by_target)
    reach = reach.reshape(state.stock.shape)
    if not fused.ENABLED:
        cap = capability(state, params)
        rate = attack_propensity(state, params, day)[:, :, None] * cap * reach
        return rate, cap, opportunity, sum_last(rate)
    cap = np.empty_like(state.stock)
    rate = np.empty_like(state.stock) if by_weapon else np.empty((0, 0, 0))
    total = np.empty(state.fighters.shape)
    fused.hazard(
        *_capability_inputs(state, params),
        params.resolve,
        state.grievance,
        params.obedience,
        state.iran_green,
        deterrence(state, params),
        state.truce_until,
        day,
        params.config.doctrine.iraq.truce_attack_factor,
        state.active,
        params.base_attack_rate,
        reach,
        cap,
        rate,
        total,
    )
    return rate, cap, opportunity, total


def militia_attacks(today: Today) -> Attacks:
    """Sample whether each group attacks today, then where and with what, then the outcome."""
    state, params, day = today.state, today.params, today.day
    M = params.n_militias
    _, cap, opportunity, total = _hazards(state, params, day, by_weapon=False)
    p_attack = -np.expm1(-total)
    rows, militia = today.below(Stream.ATTACK_OCCURS, M, p_attack)
    n = len(rows)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return Attacks(empty, empty, empty, empty, empty, empty)

    # one uniform per attack of each stream, slot = the group; the four casualty counts
    # (each its own stream) come last, side by side
    draws = today.uniforms_at(ATTACK_STREAMS, rows, militia)
    th = params.theatre
    # each attack is a trial of "does the US answer?": until it does, risk decays
    risk_kept = 1.0 - params.config.actors.dynamics.learning_rate
    fire = _fire_compiled if fused.ENABLED else _fire
    target, weapon, munitions, intercepted, killed, wounded, iraqi_killed, iraqi_wounded = fire(
        today, rows, militia, draws, opportunity, cap, risk_kept
    )
    casualties = (killed + wounded) > 0
    today.emit(
        rows,
        np.where(th.target_is_convoy[target], EventKind.CONVOY_IED, EventKind.BASE_ATTACK),
        Actor.MILITIA,
        np.asarray(WEAPON_ACTION)[weapon],
        extra_kinds=((casualties, EventKind.US_CASUALTIES),),
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


def _salvo_tables(params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(M, W) ``geometric_parameters`` of each group's mean salvo with each weapon."""
    return geometric_parameters(params.salvo_mean[None, :] * params.salvo_scale[:, None])


def _fire_compiled(today: Today, rows, militia, draws, opportunity, cap, risk_kept) -> tuple:
    """``_fire`` in two compiled passes (``fused.attack_outcomes``, ``fused.attack_tallies``)
    around NumPy's logarithm of the salvos' uniforms and exponential of the means."""
    state, params = today.state, today.params
    th, M, n = params.theatre, params.n_militias, len(rows)
    stop, log_continue = _salvo_tables(params)
    target, weapon, munitions = (np.empty(n, dtype=np.int64) for _ in range(3))
    intercepted, means = np.empty(n, dtype=bool), np.empty((4, n))
    fused.attack_outcomes(
        draws[0], np.log1p(-draws[1]), stop, log_continue, draws[2], rows, militia,
        opportunity, params.attack_weight.reshape(M, -1), cap, state.stock,
        state.air_defence, state.personnel, th.target_site,
        params.config.weapons.personnel_reference, params.casualty_aversion,
        _per_munition(params), target, weapon, munitions, intercepted, means,
    )  # fmt: skip
    counts = np.empty((4, n), dtype=np.int64)
    fused.attack_tallies(
        draws[3:], means, np.exp(-means), POISSON_MAX_COUNT, rows, militia, weapon, target,
        params.config.doctrine.us.resolve_loss_per_us_death, today.day, NEVER,
        state.killed_us_today, state.wounded_us_today, state.us_resolve,
        state.first_us_death_day, state.killed_iraqi_today, state.wounded_iraqi_today,
        state.attacks_today, state.recent_attacks, state.recent_baghdad_attacks,
        th.target_in_baghdad, state.perceived_risk, risk_kept, counts,
    )  # fmt: skip
    return (target, weapon, munitions, intercepted, *counts)


def _fire(today: Today, rows, militia, draws, opportunity, cap, risk_kept) -> tuple:
    """Where and with what each attack strikes, its salvo, interception and casualties,
    tallied: target, weapon, munitions, intercepted, US killed and wounded, Iraqi killed
    and wounded, one element per attack."""
    state, params, day = today.state, today.params, today.day
    M, W = params.n_militias, len(Weapon)
    u_choice, u_salvo, u_intercept = draws[:3]

    # where and with what: one categorical draw over (target, weapon) per attack
    # detail[i, t * W + w] = opportunity[t] * attack_weight[m, t, w] * cap[m, w]
    attack_weight = params.attack_weight.reshape(M, -1)
    # laid out flat so that each product is one long loop
    detail = np.repeat(opportunity[rows], W, axis=1)
    detail *= attack_weight[militia]
    detail *= np.tile(cap[rows, militia], opportunity.shape[1])
    choice = categorical_from_uniform(u_choice, detail)
    target, weapon = np.divmod(choice, W)

    salvo_mean = params.salvo_mean[weapon] * params.salvo_scale[militia]
    munitions = geometric_from_uniform(u_salvo, salvo_mean)
    munitions, intercepted, means = attack_exposure(
        state, params, rows, militia, target, weapon, munitions, u_intercept
    )
    # the four casualty counts of every attack in one pass
    killed, wounded, iraqi_killed, iraqi_wounded = poisson_from_uniform(draws[3:], means)
    record_us_casualties(state, params, rows, killed, wounded, day)
    th = params.theatre
    np.add.at(state.killed_iraqi_today, rows, iraqi_killed)
    np.add.at(state.wounded_iraqi_today, rows, iraqi_wounded)
    np.add.at(state.attacks_today, (rows, weapon), 1.0)
    state.recent_attacks[rows, militia] += 1.0
    np.add.at(state.recent_baghdad_attacks, rows, th.target_in_baghdad[target])
    state.perceived_risk[rows, militia] *= risk_kept
    return target, weapon, munitions, intercepted, killed, wounded, iraqi_killed, iraqi_wounded


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
    th, weapons = params.theatre, params.config.weapons
    per_munition = _per_munition(params)
    if fused.ENABLED:
        means = np.empty((4, len(rows)))
        intercepted = np.empty(len(rows), dtype=bool)
        munitions = munitions.copy()
        fused.attack_exposure(
            rows,
            militia,
            weapon,
            target,
            munitions,
            u_intercept,
            state.stock,
            state.air_defence,
            state.personnel,
            th.target_site,
            weapons.personnel_reference,
            params.casualty_aversion,
            per_munition,
            means,
            intercepted,
        )
        return munitions, intercepted, means
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
    # convoy crews are mostly Iraqi contractors: the IED weapon rates already say so
    exposure = np.where(
        is_site, state.personnel[rows, site_or_0] / weapons.personnel_reference, 1.0
    )
    aim = (1.0 - params.casualty_aversion[militia]) * ~intercepted
    means = np.stack(
        [
            munitions * per_munition[0, weapon] * exposure * aim,
            munitions * per_munition[1, weapon] * exposure * aim,
            munitions * per_munition[2, weapon] * aim,
            munitions * per_munition[3, weapon] * aim,
        ]
    )
    return munitions, intercepted, means


def _per_munition(params: Params) -> np.ndarray:
    """(4, W) expected US killed, US wounded, Iraqi killed and Iraqi wounded per munition."""
    return np.stack(
        [
            params.kill_per_munition,
            params.wound_per_munition,
            params.iraqi_killed_per_munition,
            params.iraqi_wounded_per_munition,
        ]
    )


def embassy_assault(today: Today) -> None:
    """Days after a US strike in Iraq, the struck group may storm the embassy (31 Dec 2019)."""
    state, params = today.state, today.params
    embassies = params.theatre.embassy_sites
    if len(embassies) == 0:
        return
    embassy = embassies[0]
    probability = params.config.actors.dynamics.embassy_assault_probability
    if fused.ENABLED:
        rows = np.empty(state.replicates, dtype=np.int64)
        rows = rows[
            : fused.embassy_assault(
                today.streams.keys,
                today.salts(Stream.EMBASSY_ASSAULT, 1)[0],
                state.active,
                today.day,
                NEVER,
                probability,
                state.protection,
                embassy,
                state.assault_until,
                state.assault_today,
                state.recent_baghdad_attacks,
                rows,
            )  # fmt: skip
        ]
    else:
        rows = np.flatnonzero(state.active & (state.assault_until >= today.day))
        chance = probability * (1.0 - state.protection[rows, embassy])
        rows = rows[today.uniform(Stream.EMBASSY_ASSAULT, 1, rows)[:, 0] < chance]
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


# --- 7. updates --------------------------------------------------------------------------


def end_of_day(today: Today) -> None:
    """Decay, regeneration, absorbing outcomes, tension and the rung of the day."""
    state, params = today.state, today.params
    cfg = params.config
    dyn, us = cfg.actors.dynamics, cfg.doctrine.us
    if fused.ENABLED:
        fused.decay_and_recover(
            state.grievance,
            params.grievance_decay,
            state.leadership,
            1.0 / dyn.leadership_recovery_days,
            state.fighters,
            state.detained,
            params.max_fighters,
            dyn.fighter_regeneration_per_day,
            state.recent_attacks,
            params.attack_count_decay,
            state.recent_baghdad_attacks,
            params.baghdad_count_decay,
            state.sovereignty,
            params.sovereignty_decay,
            state.us_resolve,
            us.resolve_recovery_per_day,
        )
    else:
        state.grievance *= params.grievance_decay
        recovered = state.leadership + 1.0 / dyn.leadership_recovery_days
        np.minimum(recovered, 1.0, out=state.leadership)
        # groups rebuild and replace members (seed 001), logistic towards their ceiling
        room = 1.0 - (state.fighters + state.detained) / params.max_fighters
        state.fighters += dyn.fighter_regeneration_per_day * state.fighters * np.maximum(room, 0.0)
        state.recent_attacks *= params.attack_count_decay
        state.recent_baghdad_attacks *= params.baghdad_count_decay
        state.sovereignty *= params.sovereignty_decay
        np.minimum(state.us_resolve + us.resolve_recovery_per_day, 1.0, out=state.us_resolve)

    leaving = np.flatnonzero(state.active & (state.us_resolve < us.withdrawal_threshold))
    today.absorb(leaving, Outcome.WITHDRAWAL, EventKind.US_WITHDRAWAL, Action.OTHER)
    war_rung = params.rung_of_kind[EventKind.OPEN_WAR]
    if fused.ENABLED:
        fused.close_day(
            state.outcome, Outcome.WAR, war_rung, params.tension_decay, today.day,
            state.rung_today, state.tension, state.max_rung, state.max_rung_day,
        )  # fmt: skip
        return
    at_war = state.outcome == Outcome.WAR
    state.rung_today[at_war] = np.maximum(state.rung_today[at_war], war_rung)
    state.tension = state.tension * params.tension_decay + state.rung_today
    higher = state.rung_today > state.max_rung
    state.max_rung[higher] = state.rung_today[higher]
    state.max_rung_day[higher] = today.day


DAILY_COLUMNS = (
    "attacks_rocket",
    "attacks_ied",
    "attacks_drone",
    "attacks",
    "responses",
    "killed_us",
    "wounded_us",
    "killed_iraqi",
    "wounded_iraqi",
    "rung",
    "tension",
    "militia_fighters",
    "militia_capacity",
    "militia_rockets",
    "perceived_risk",
    "grievance",
    "iran_green_light",
    "us_troops",
    "us_resolve",
    "sites_open",
    "sovereignty_pressure",
)


def daily_values(state: State, params: Params) -> np.ndarray:
    """(len(DAILY_COLUMNS), R) values of each daily series at the end of the day.

    One array, written row by row: the quantiles across replicates read it as it is.
    """
    out = np.empty((len(DAILY_COLUMNS), state.replicates))
    if fused.ENABLED and max(state.stock[0].size, state.personnel.shape[1]) <= fused.PAIRWISE_BLOCK:
        fused.daily_values(
            state.attacks_today,
            int(Weapon.ROCKET),  # plain ints: numba types an enum member slowly, every call
            int(Weapon.IED),
            int(Weapon.DRONE),
            state.responses_today,
            state.killed_us_today,
            state.wounded_us_today,
            state.killed_iraqi_today,
            state.wounded_iraqi_today,
            state.rung_today,
            state.tension,
            state.fighters,
            state.stock,
            params.stock_half_saturation,
            params.max_fighters,
            state.leadership,
            params.config.actors.dynamics.leadership_loss_effect,
            state.perceived_risk,
            state.grievance,
            state.iran_green,
            state.personnel,
            state.us_resolve,
            state.site_open,
            params.theatre.us_sites,
            state.sovereignty,
            out,
        )
        return out
    row = dict(zip(DAILY_COLUMNS, out, strict=True))
    M = params.n_militias
    row["attacks_rocket"][:] = state.attacks_today[:, Weapon.ROCKET]
    row["attacks_ied"][:] = state.attacks_today[:, Weapon.IED]
    row["attacks_drone"][:] = state.attacks_today[:, Weapon.DRONE]
    row["attacks"][:] = sum_last(state.attacks_today)
    row["responses"][:] = state.responses_today
    row["killed_us"][:] = state.killed_us_today
    row["wounded_us"][:] = state.wounded_us_today
    row["killed_iraqi"][:] = state.killed_iraqi_today
    row["wounded_iraqi"][:] = state.wounded_iraqi_today
    row["rung"][:] = state.rung_today
    row["tension"][:] = state.tension
    row["militia_fighters"][:] = sum_last(state.fighters)
    mean_capability(state, params, out=row["militia_capacity"])
    row["militia_rockets"][:] = sum_last(state.stock[:, :, Weapon.ROCKET])
    np.divide(sum_last(state.perceived_risk), M, out=row["perceived_risk"])
    np.divide(sum_last(state.grievance), M, out=row["grievance"])
    row["iran_green_light"][:] = state.iran_green
    row["us_troops"][:] = state.troops()
    row["us_resolve"][:] = state.us_resolve
    row["sites_open"][:] = np.count_nonzero(state.site_open[:, params.theatre.us_sites], axis=1)
    row["sovereignty_pressure"][:] = state.sovereignty
    return out


def daily_record(state: State, params: Params) -> dict[str, np.ndarray]:
    """(R,) values of each daily series at the end of the day, by name."""
    return dict(zip(DAILY_COLUMNS, daily_values(state, params), strict=True))
