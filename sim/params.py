"""Compile the typed config into the arrays the vectorized core reads.

Nothing here decides anything; it only turns names into indices and lists into
arrays, once per run, so the daily kernels do no Python-level lookups.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.config import BaseConfig, ConfigError, parameter_at, parse_date, set_parameter
from sim.events import Actor, EventKind
from sim.numerics.reductions import repeat_last, sum_last
from sim.theatre import Theatre


def decay_per_day(halflife_days):
    """Daily multiplier of a quantity that halves every ``halflife_days`` (one value, or one
    per replicate)."""
    return _each(lambda h: math.exp(-math.log(2.0) / h), halflife_days)


def _each(func, value):
    """``func`` of a value, or of each of an array's values (the same arithmetic, so a
    replicate's number is the same whether it shares the batch with others or not)."""
    if np.ndim(value) == 0:
        return func(value)
    return np.array([func(v) for v in value.tolist()])


# --- parameters that take one value per replicate -----------------------------------------

#: the parameters that may take one value per replicate in one batch (any other differs
#: between batches): the numbers, switches and choices of the doctrines (not their lists
#: of sites or dates), the militia groups' numbers (but their reach, which fixes the attack
#: geometry), their dynamics, convoys, the weapons' lethality and salvos, the tension
#: half-life
_PER_REPLICATE_PREFIXES = (
    "doctrine.us.",
    "doctrine.iran.",
    "doctrine.israel.",
    "doctrine.iraq.",
    "actors.dynamics.",
    "actors.militias.",
    "actors.convoys_per_day",
    "actors.drawdown_convoy_boost",
    "actors.personnel_reference",
    "weapons.",
    "ladder.tension_halflife_days",
)
_NOT_PER_REPLICATE = ("reach_km", "reach_factor")


#: the choices (strings) the rules read per replicate
_CHOICES = ("doctrine.us.response_scaling", "doctrine.us.posture_trigger")


def varies_by_replicate(path: str) -> bool:
    """Whether the parameter at dotted ``path`` can take one value per replicate (if it is a
    number, a switch or one of the choices the rules read per replicate)."""
    return path.startswith(_PER_REPLICATE_PREFIXES) and not path.endswith(_NOT_PER_REPLICATE)


def takes_one_per_replicate(path: str, value: object) -> bool:
    """Whether ``value`` of the parameter at ``path`` can be one of a per-replicate array."""
    if isinstance(value, str):
        return path in _CHOICES
    return isinstance(value, int | float) and varies_by_replicate(path)


def with_values(config: BaseConfig, values: Mapping[str, np.ndarray]) -> BaseConfig:
    """A copy of ``config`` whose parameters at the given dotted paths hold one value per
    replicate (an (R,) array each: switches as booleans, whole numbers as integers, choices
    as strings)."""
    config = copy.deepcopy(config)
    for path, value in values.items():
        node, leaf, current = parameter_at(config, path)
        if not takes_one_per_replicate(path, current):
            raise ConfigError(f"{path}: cannot take one value per replicate in one batch")
        kinds = ((bool, np.bool_), (int, np.int64), (float, np.float64), (str, np.str_))
        dtype = next(d for kind, d in kinds if isinstance(current, kind))
        set_parameter(node, leaf, np.asarray(value, dtype=dtype))
    return config


def rows_choosing(value, rows: np.ndarray, option: str) -> np.ndarray:
    """Those of ``rows`` whose choice (a shared string, or one per replicate) is ``option``."""
    if np.ndim(value) == 0:
        return rows if value == option else rows[:0]
    return rows[value[rows] == option]


def at(value, rows: np.ndarray):
    """A parameter's value for the replicates ``rows``: itself when every replicate shares
    it, else its elements at ``rows``."""
    return value[rows] if isinstance(value, np.ndarray) and value.ndim else value


def column(value):
    """A parameter with one value per replicate as an (R, 1) column, to meet (R, k) arrays;
    one shared value as it is."""
    return value[:, None] if isinstance(value, np.ndarray) and value.ndim else value


@dataclass
class Params:
    """Everything static a day of the core needs, as arrays; ``config`` keeps the scalars.

    A parameter of each group or weapon is an (R, M) or (R, W) table, one row per
    replicate (the same row for all unless it varies by replicate): ``table[rows, group]``
    reads it for any replicates, and it meets the (R, M) state arrays without a broadcast.
    """

    config: BaseConfig
    theatre: Theatre
    militia_names: list[str]
    front_names: list[str]  # (M,) the name each group claims under ("": its own)
    claim_code: np.ndarray  # (M,) each group's claims as ``claimed_by`` codes
    splinter_of: np.ndarray  # (M,) the group each splinter may split from (-1: a founder)
    weapon_names: list[str]  # the weapon axis W, in the order of configs/weapons/
    weapon_kind: np.ndarray  # (W,) the ladder's event kind of each weapon's attacks
    weapon_actions: list[str]  # each weapon's action in the event record
    # per militia (R, M)
    base_attack_rate: np.ndarray
    resolve: np.ndarray
    obedience: np.ndarray
    casualty_aversion: np.ndarray
    political_weight: np.ndarray
    risk_sensitivity: np.ndarray
    salvo_scale: np.ndarray
    grievance_per_strike: np.ndarray
    max_fighters: np.ndarray
    stock_capacity: np.ndarray  # (R, M, W): each group's ceiling, for each weapon's stock
    supply_share: np.ndarray
    base_share: np.ndarray  # (M, S)
    strike_site_iraq: np.ndarray  # (M,) where a US strike in Iraq on this group lands
    strike_site_syria: np.ndarray  # (M,) ... and in Syria
    # static attack geometry (M, T, W): reach x weapon-target fit x target value
    attack_weight: np.ndarray
    attack_weight_by_target: np.ndarray  # (T, M*W): the same, for one matrix product a day
    # per weapon (R, W)
    supplied_per_day: np.ndarray
    kill_per_munition: np.ndarray
    wound_per_munition: np.ndarray
    iraqi_killed_per_munition: np.ndarray
    iraqi_wounded_per_munition: np.ndarray
    stock_half_saturation: np.ndarray  # (R, M, W): the same for every group
    salvo_mean: np.ndarray
    # ladder and escalation score
    rung_of_kind: np.ndarray  # (n kinds,)
    score_of_kind: np.ndarray  # (n kinds,) each kind's escalation score (0 if not scored)
    # schedule
    supply_start_day: np.ndarray  # (W,) first day Iran ships each weapon
    diplomacy_day: int | None  # day US-Iran talks open (None: never)
    # (US sites are columns of the state's site arrays: ``theatre.us_column``)
    consolidation_sites: np.ndarray  # the US sites the US closes, in order
    handed_over: np.ndarray  # (R, U) bool: a US site its dated input has handed over (held 0)
    retaliation_sites: np.ndarray  # the US sites Iran's missiles strike
    # daily decay multipliers
    grievance_decay: float
    momentum_decay: float
    outrage_decay: float
    affront_decay: float
    tension_decay: float
    sovereignty_decay: float
    attack_count_decay: float
    baghdad_count_decay: float
    #: the parameters that take one value per replicate, by dotted path ((R,) arrays)
    per_replicate: Mapping[str, np.ndarray] = field(default_factory=dict)
    _shipments: dict[tuple, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def n_militias(self) -> int:
        return len(self.militia_names)

    @property
    def splinters(self) -> np.ndarray:
        """The groups that are splinters in waiting (``splinter_of`` set), in order."""
        return np.flatnonzero(self.splinter_of >= 0)

    @property
    def claimant_names(self) -> list[str]:
        """Names that event ``claimed_by`` codes index: the groups, then their front names
        (a group's front ``n_militias + i``, ``i`` its place among the fronts)."""
        return [*self.militia_names, *(f for f in self.front_names if f)]

    @property
    def source_names(self) -> list[str]:
        """Names that event ``source`` codes index: the militias, then the states."""
        return [*self.militia_names, "us", "iran", "israel", "iraq_gov"]

    def source_of(self, actor: Actor) -> int:
        """Source code of a state actor (militias use their own index)."""
        return self.n_militias + int(actor) - 1

    def supply_rates(self, day: int) -> np.ndarray:
        """(R, W) materiel Iran ships per day of each weapon it ships by ``day``
        (read-only)."""
        return self._supply(day)[0]

    def shipments(self, day: int) -> np.ndarray:
        """(R, M, W) what each group receives of each weapon on ``day`` (read-only)."""
        return self._supply(day)[1]

    def _supply(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The rates and shipments of ``day``, worked out once for each set of weapons
        that flow."""
        flowing = tuple((day >= self.supply_start_day).tolist())
        if flowing not in self._shipments:
            rates = self.supplied_per_day * (day >= self.supply_start_day)
            shipped = self.supply_share[:, :, None] * rates[:, None, :]
            for table in (rates, shipped):
                table.flags.writeable = False
            self._shipments[flowing] = (rates, shipped)
        return self._shipments[flowing]


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


def _table(values: list, replicates: int) -> np.ndarray:
    """(R, K) from K values, each shared by every replicate or one per replicate."""
    table = np.empty((replicates, len(values)))
    for k, value in enumerate(values):
        table[:, k] = value
    return table


def compile_params(
    config: BaseConfig,
    theatre: Theatre | None = None,
    per_replicate: Mapping[str, np.ndarray] | None = None,
    replicates: int = 1,
) -> Params:
    """Build :class:`Params` for ``replicates`` replicates from a validated config;
    ``per_replicate`` gives parameters (by dotted path) one value per replicate."""
    per_replicate = dict(per_replicate or {})
    if per_replicate:
        config = with_values(config, per_replicate)
    theatre = theatre or Theatre(config.theatre)
    militias = config.actors.militias
    by_weapon = list(config.weapons.values())
    R = replicates
    vec = lambda attr: _table([getattr(m, attr) for m in militias], R)  # noqa: E731

    distance = theatre.militia_target_distance_km(militias)  # (M, T)
    reach = np.array([m.reach_km for m in militias], dtype=np.float64)
    attack_weight = np.zeros((len(militias), theatre.n_targets, len(by_weapon)))
    for w, weapon in enumerate(by_weapon):
        on_convoys = weapon.kind == "convoy_ied"  # else on sites (a base_attack)
        fits = theatre.target_is_convoy if on_convoys else ~theatre.target_is_convoy
        attack_weight[:, :, w] = np.exp(-distance / (reach[:, None] * weapon.reach_factor)) * fits
    value = np.ones(theatre.n_targets)
    value[~theatre.target_is_convoy] = theatre.target_value[theatre.us_sites]
    attack_weight *= value[None, :, None]

    rung_of_kind = np.zeros(len(EventKind), dtype=np.int64)
    for rung in config.ladder.rungs:
        for name in rung.events:
            k = EventKind[name.upper()]
            rung_of_kind[k] = max(rung_of_kind[k], rung.level)
    score_of_kind = np.zeros(len(EventKind))
    for name, scored in config.score.kinds.items():
        score_of_kind[EventKind[name.upper()]] = scored.score

    start = parse_date("scenario.start_date", config.scenario.start_date)
    supply_start_day = np.array(
        [
            0
            if w.supplied_from is None
            else (parse_date(f"weapons.{name}.supplied_from", w.supplied_from) - start).days
            for name, w in config.weapons.items()
        ],
        dtype=np.int64,
    )
    talks = config.scenario.diplomacy_opens
    diplomacy_day = (
        None if talks is None else (parse_date("scenario.diplomacy_opens", talks) - start).days
    )
    share = vec("supply_share")
    names = [m.name for m in militias]
    dyn, us = config.actors.dynamics, config.doctrine.us
    return Params(
        config=config,
        theatre=theatre,
        militia_names=[m.name for m in militias],
        front_names=[m.front for m in militias],
        claim_code=_claim_codes([m.front for m in militias]),
        splinter_of=np.array(
            [names.index(m.splinter_of) if m.splinter_of else -1 for m in militias],
            dtype=np.int64,
        ),
        weapon_names=list(config.weapons),
        weapon_kind=np.array([EventKind[w.kind.upper()] for w in by_weapon], dtype=np.int64),
        weapon_actions=[w.action for w in by_weapon],
        base_attack_rate=vec("base_attack_rate"),
        resolve=vec("resolve"),
        obedience=vec("obedience"),
        casualty_aversion=vec("casualty_aversion"),
        political_weight=vec("political_weight"),
        risk_sensitivity=vec("risk_sensitivity"),
        salvo_scale=vec("salvo_scale"),
        grievance_per_strike=vec("grievance_per_strike"),
        max_fighters=vec("max_fighters"),
        stock_capacity=repeat_last(vec("stock_capacity"), len(by_weapon)),
        supply_share=_shares(share),
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
        supplied_per_day=_table([w.supplied_per_day for w in by_weapon], R),
        kill_per_munition=_table([w.kill_per_munition for w in by_weapon], R),
        wound_per_munition=_table([w.wound_per_munition for w in by_weapon], R),
        iraqi_killed_per_munition=_table([w.iraqi_killed_per_munition for w in by_weapon], R),
        iraqi_wounded_per_munition=_table([w.iraqi_wounded_per_munition for w in by_weapon], R),
        stock_half_saturation=_each_group(
            _table([w.stock_half_saturation for w in by_weapon], R), len(militias)
        ),
        salvo_mean=_table([w.salvo_mean for w in by_weapon], R),
        rung_of_kind=rung_of_kind,
        score_of_kind=score_of_kind,
        supply_start_day=supply_start_day,
        diplomacy_day=diplomacy_day,
        handed_over=_table([s.held for s in config.theatre.sites], R)[:, theatre.us_sites] == 0,
        consolidation_sites=theatre.us_column[
            np.array([theatre.site_index[n] for n in us.consolidation_sites], dtype=np.int64)
        ],
        retaliation_sites=theatre.us_column[
            np.array(
                [theatre.site_index[n] for n in config.doctrine.iran.retaliation_targets],
                dtype=np.int64,
            )
        ],
        grievance_decay=decay_per_day(dyn.grievance_halflife_days),
        momentum_decay=decay_per_day(dyn.momentum_halflife_days),
        outrage_decay=decay_per_day(dyn.outrage_halflife_days),
        affront_decay=decay_per_day(config.doctrine.iran.affront_halflife_days),
        tension_decay=decay_per_day(config.ladder.tension_halflife_days),
        sovereignty_decay=decay_per_day(config.doctrine.iraq.sovereignty_halflife_days),
        attack_count_decay=_each(lambda d: math.exp(-1.0 / d), us.count_window_days),
        baghdad_count_decay=_each(lambda d: math.exp(-1.0 / d), us.closure_threat_window_days),
        per_replicate=per_replicate,
    )


def _claim_codes(fronts: list[str]) -> np.ndarray:
    """(M,) the ``claimed_by`` code of each group's claims: its own index, or that of its
    front among the names after the groups (``Params.claimant_names``)."""
    codes = np.arange(len(fronts))
    named = [i for i, front in enumerate(fronts) if front]
    codes[named] = len(fronts) + np.arange(len(named))
    return codes


def _each_group(table: np.ndarray, groups: int) -> np.ndarray:
    """(R, M, W) from an (R, W) table: the same value for every group."""
    return np.repeat(table[:, None, :], groups, axis=1)


def _shares(share: np.ndarray) -> np.ndarray:
    """(R, M) each group's share of Iran's supply: each row of ``share`` normalised."""
    total = sum_last(share)[:, None]
    return np.divide(share, total, out=share.copy(), where=total > 0)
