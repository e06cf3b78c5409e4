"""Compile the typed config into the arrays the vectorized core reads.

Nothing here decides anything; it only turns names into indices and lists into
arrays, once per run, so the daily kernels do no Python-level lookups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.config import BaseConfig, parse_date
from sim.events import Actor, EventKind, Weapon
from sim.theatre import Theatre


def decay_per_day(halflife_days: float) -> float:
    """Daily multiplier of a quantity that halves every ``halflife_days``."""
    return math.exp(-math.log(2.0) / halflife_days)


@dataclass
class Params:
    """Everything static a day of the core needs, as arrays; ``config`` keeps the scalars."""

    config: BaseConfig
    theatre: Theatre
    militia_names: list[str]
    # per militia (M,)
    base_attack_rate: np.ndarray
    resolve: np.ndarray
    obedience: np.ndarray
    casualty_aversion: np.ndarray
    political_weight: np.ndarray
    risk_sensitivity: np.ndarray
    salvo_scale: np.ndarray
    grievance_per_strike: np.ndarray
    max_fighters: np.ndarray
    stock_capacity: np.ndarray
    supply_share: np.ndarray
    base_share: np.ndarray  # (M, S)
    strike_site_iraq: np.ndarray  # (M,) where a US strike in Iraq on this group lands
    strike_site_syria: np.ndarray  # (M,) ... and in Syria
    # static attack geometry (M, T, W): reach x weapon-target fit x target value
    attack_weight: np.ndarray
    attack_weight_by_target: np.ndarray  # (T, M*W): the same, for one matrix product a day
    # per weapon (W,)
    kill_per_munition: np.ndarray
    wound_per_munition: np.ndarray
    iraqi_killed_per_munition: np.ndarray
    iraqi_wounded_per_munition: np.ndarray
    stock_half_saturation: np.ndarray
    salvo_mean: np.ndarray
    # ladder
    rung_of_kind: np.ndarray  # (n kinds,)
    # schedule
    drone_start_day: int
    diplomacy_day: int | None  # day US-Iran talks open (None: never)
    consolidation_sites: np.ndarray
    retaliation_sites: np.ndarray
    # daily decay multipliers
    grievance_decay: float
    tension_decay: float
    sovereignty_decay: float
    attack_count_decay: float
    baghdad_count_decay: float

    @property
    def n_militias(self) -> int:
        return len(self.militia_names)

    @property
    def source_names(self) -> list[str]:
        """Names that event ``source`` codes index: the militias, then the states."""
        return [*self.militia_names, "us", "iran", "israel", "iraq_gov"]

    def source_of(self, actor: Actor) -> int:
        """Source code of a state actor (militias use their own index)."""
        return self.n_militias + int(actor) - 1

    def supply_rates(self, day: int) -> np.ndarray:
        """(W,) materiel Iran ships per day: rockets, IEDs and, from their start date, drones."""
        iran = self.config.doctrine.iran
        drones = iran.drones_per_day if day >= self.drone_start_day else 0.0
        return np.array([iran.rockets_per_day, iran.ieds_per_day, drones])


def _militia_strike_site(theatre: Theatre, bases: list[str], country: str) -> int:
    """The group's first base in ``country``, else the militia site there nearest its bases."""
    idx = [theatre.site_index[b] for b in bases]
    own = [i for i in idx if theatre.country[i] == country]
    if own:
        return own[0]
    candidates = np.flatnonzero((theatre.side == "militia") & (theatre.country == country))
    if len(candidates) == 0:
        return idx[0]
    lat, lon = theatre.lat[idx].mean(), theatre.lon[idx].mean()
    d = (theatre.lat[candidates] - lat) ** 2 + (theatre.lon[candidates] - lon) ** 2
    return int(candidates[np.argmin(d)])


def compile_params(config: BaseConfig, theatre: Theatre | None = None) -> Params:
    """Build :class:`Params` from a validated config."""
    theatre = theatre or Theatre(config.theatre)
    militias = config.actors.militias
    weapons = config.weapons
    by_weapon = [weapons.rocket, weapons.ied, weapons.drone]
    vec = lambda attr: np.array([getattr(m, attr) for m in militias], dtype=np.float64)  # noqa: E731

    distance = theatre.militia_target_distance_km(militias)  # (M, T)
    reach = vec("reach_km")
    attack_weight = np.zeros((len(militias), theatre.n_targets, len(Weapon)))
    for w, weapon in enumerate(by_weapon):
        fits = theatre.target_is_convoy if w == Weapon.IED else ~theatre.target_is_convoy
        attack_weight[:, :, w] = np.exp(-distance / (reach[:, None] * weapon.reach_factor)) * fits
    value = np.ones(theatre.n_targets)
    value[~theatre.target_is_convoy] = theatre.target_value[theatre.us_sites]
    attack_weight *= value[None, :, None]

    rung_of_kind = np.zeros(len(EventKind), dtype=np.int64)
    for rung in config.ladder.rungs:
        for name in rung.events:
            k = EventKind[name.upper()]
            rung_of_kind[k] = max(rung_of_kind[k], rung.level)

    start = parse_date("scenario.start_date", config.scenario.start_date)
    drone_start = parse_date(
        "doctrine.iran.drone_supply_start_date", config.doctrine.iran.drone_supply_start_date
    )
    talks = config.scenario.diplomacy_opens
    diplomacy_day = (
        None if talks is None else (parse_date("scenario.diplomacy_opens", talks) - start).days
    )
    share = vec("supply_share")
    dyn, us = config.actors.dynamics, config.doctrine.us
    return Params(
        config=config,
        theatre=theatre,
        militia_names=[m.name for m in militias],
        base_attack_rate=vec("base_attack_rate"),
        resolve=vec("resolve"),
        obedience=vec("obedience"),
        casualty_aversion=vec("casualty_aversion"),
        political_weight=vec("political_weight"),
        risk_sensitivity=vec("risk_sensitivity"),
        salvo_scale=vec("salvo_scale"),
        grievance_per_strike=vec("grievance_per_strike"),
        max_fighters=vec("max_fighters"),
        stock_capacity=vec("stock_capacity"),
        supply_share=share / share.sum() if share.sum() > 0 else share,
        base_share=theatre.base_matrix(militias),
        strike_site_iraq=np.array(
            [_militia_strike_site(theatre, m.bases, "iraq") for m in militias]
        ),
        strike_site_syria=np.array(
            [_militia_strike_site(theatre, m.bases, "syria") for m in militias]
        ),
        attack_weight=attack_weight,
        attack_weight_by_target=np.ascontiguousarray(
            attack_weight.transpose(1, 0, 2).reshape(theatre.n_targets, -1)
        ),
        kill_per_munition=np.array([w.kill_per_munition for w in by_weapon]),
        wound_per_munition=np.array([w.wound_per_munition for w in by_weapon]),
        iraqi_killed_per_munition=np.array([w.iraqi_killed_per_munition for w in by_weapon]),
        iraqi_wounded_per_munition=np.array([w.iraqi_wounded_per_munition for w in by_weapon]),
        stock_half_saturation=np.array([w.stock_half_saturation for w in by_weapon]),
        salvo_mean=np.array([w.salvo_mean for w in by_weapon]),
        rung_of_kind=rung_of_kind,
        drone_start_day=(drone_start - start).days,
        diplomacy_day=diplomacy_day,
        consolidation_sites=np.array(
            [theatre.site_index[n] for n in us.consolidation_sites], dtype=np.int64
        ),
        retaliation_sites=np.array(
            [theatre.site_index[n] for n in config.doctrine.iran.retaliation_targets],
            dtype=np.int64,
        ),
        grievance_decay=decay_per_day(dyn.grievance_halflife_days),
        tension_decay=decay_per_day(config.ladder.tension_halflife_days),
        sovereignty_decay=decay_per_day(config.doctrine.iraq.sovereignty_halflife_days),
        attack_count_decay=math.exp(-1.0 / us.count_window_days),
        baghdad_count_decay=math.exp(-1.0 / us.closure_threat_window_days),
    )
