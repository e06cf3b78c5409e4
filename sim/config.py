"""Typed configuration: the schema Hydra composes into, and its validation.

The YAML files under ``configs/`` hold every value; the dataclasses here hold the
types, the allowed ranges (in field metadata) and nothing else. ``validate`` walks
the tree and raises :class:`ConfigError` with the dotted field name and what is
allowed, before any simulation starts.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from sim.parsed_configs import parse_once
from sim.record import ACTIONS  # the event record's vocabulary: a weapon's attacks use it


class ConfigError(ValueError):
    """A configuration value outside what the model allows (one line, names the field)."""


# --- field helpers: the allowed range travels with the field ----------------------------


# Values live in the YAML files only: every field defaults to MISSING, so a file that
# forgets one fails at composition instead of silently using a second copy of a value.


# --- the model's upper bounds on counts and sizes ----------------------------------------
#
# Counts of people and munitions are held as float64 and summed over days and replicates
# into int64 tallies: with at most MAX_PEOPLE (or MAX_MUNITIONS) in one place, a tally over
# the longest run (MAX_DAYS) stays below 2**53, where float64 stops counting whole units
# exactly (10,000,000 x 36,500 x 20 groups or sites < 2**53), and far from int64's end.
# Ten million is also a hundred times the largest force in the theatre (the PMF, about
# 100,000 fighters in 2019-2021), so no study needs more.

#: the longest run in days (a century): also the longest lag, delay or window in days
MAX_DAYS = 36_500
#: the most people in one count (a group's fighters, a site's personnel, a threshold)
MAX_PEOPLE = 10_000_000
#: the most munitions in one count (a stock, a salvo, a day's supply)
MAX_MUNITIONS = 10_000_000
#: the most replicates of a run: a replicate's number is hashed as a 32-bit word
#: (``sim.rng``), so replicates 0 to 2**32 - 1 draw distinct streams
MAX_REPLICATES = 2**32
#: the highest rung of a ladder: rungs are held as 8-bit integers in comparisons
MAX_RUNG = 127
#: the dates pandas can hold (``pd.Timestamp.min``/``max``, whole days): every day of a run
#: and every dated input must lie in this range
DATE_MIN = dt.date(1677, 9, 22)
DATE_MAX = dt.date(2262, 4, 11)


def _ranged(lo: float | None, hi: float | None, what: str, **extra: Any) -> Any:
    return field(default=MISSING, metadata={"lo": lo, "hi": hi, "what": what, **extra})


def people(lo: float = 0.0, whole: bool = False) -> Any:
    """A count of people in [lo, MAX_PEOPLE] (``whole``: a whole number)."""
    kind = "a whole number" if whole else "a number"
    return _ranged(lo, MAX_PEOPLE, f"{kind} >= {lo:g} and <= {MAX_PEOPLE}")


def munitions(lo: float = 0.0, open_: bool = False) -> Any:
    """A count of munitions (or munitions per day) in [lo, MAX_MUNITIONS] (``open_``: > lo)."""
    low = f"> {lo:g}" if open_ else f"a number >= {lo:g}"
    extra = {"open": True} if open_ else {}
    return _ranged(lo, MAX_MUNITIONS, f"{low} and <= {MAX_MUNITIONS}", **extra)


def probability() -> Any:
    """A probability in [0, 1]."""
    return _ranged(0.0, 1.0, "a probability in [0, 1]")


def fraction() -> Any:
    """A share in [0, 1]."""
    return _ranged(0.0, 1.0, "a fraction in [0, 1]")


def nonneg() -> Any:
    """A number >= 0."""
    return _ranged(0.0, None, "a number >= 0")


def positive() -> Any:
    """A number > 0."""
    return _ranged(0.0, None, "> 0", open=True)


def at_least(lo: float) -> Any:
    """A number >= lo."""
    return _ranged(lo, None, f"a number >= {lo:g}")


def whole_days(lo: int = 0) -> Any:
    """A whole number of days in [lo, MAX_DAYS]."""
    return _ranged(lo, MAX_DAYS, f"a whole number of days >= {lo} and <= {MAX_DAYS}")


# --- scenario, theatre, actors ------------------------------------------------------------


@dataclass
class InputConfig:
    """A dated input (an entry of the top-level ``inputs`` table): from ``date`` (through
    ``until``, if given) the numeric parameter at ``path`` takes ``value``, or is
    multiplied by ``scale`` (one of the two: a scale keeps what a doctrine or the user set,
    so a rate set to 0 stays 0); after ``until`` it returns to the value it had before. It
    changes a parameter, never schedules an event.
    ``source`` says where the date and the value come from (a seed, a public page, or
    "assumption: ..." with the reason). Two inputs on one parameter whose periods overlap
    each state an ``order``: the higher applies last."""

    date: str = MISSING
    path: str = MISSING  # dotted path of a numeric parameter, e.g. doctrine.iran.green_light
    value: float | None = None  # the parameter's value while it holds
    source: str = MISSING
    until: str | None = None  # last day it holds (None: to the end of the run)
    order: int | None = None  # among inputs on one parameter with overlapping periods
    note: str = ""
    scale: float | None = None  # instead of a value: what the parameter is multiplied by


#: what switches one input (``inputs.NAME=off``) or all of them (``inputs=off``) off
INPUT_OFF = "off"


@dataclass
class ScenarioConfig:
    name: str = MISSING
    description: str = ""
    start_date: str = MISSING
    us_troops_in_iraq: float | None = None  # None keeps the theatre's personnel
    sites_handed_over: list[str] = field(default_factory=list)
    drawdown_under_way: bool = False
    diplomacy_opens: str | None = None  # date US-Iran talks open; None: no talks
    # munitions of a weapon the groups hold on the first day, shared by their supply_share
    # (capped at each group's stock_capacity); a weapon left out keeps the actors' stock
    militia_stocks: dict[str, float] = field(default_factory=dict)


@dataclass
class SiteConfig:
    name: str = MISSING
    label: str = ""
    lat: float = MISSING
    lon: float = MISSING
    country: str = MISSING
    side: str = MISSING
    kind: str = MISSING
    personnel: int = people(whole=True)
    air_defence: float = probability()
    target_value: float = nonneg()
    # 1 while the US holds the site, 0 once it is handed over (a US site; a dated input
    # ``theatre.sites.NAME.held`` closes it on its day: sim/rules/us.py)
    held: int = field(default=1, metadata={"lo": 0, "hi": 1, "what": "0 (handed over) or 1 (held)"})
    source: str = ""


@dataclass
class RouteConfig:
    name: str = MISSING
    kind: str = MISSING
    sites: list[str] = field(default_factory=list)
    exposure: float = nonneg()
    source: str = ""


@dataclass
class TheatreConfig:
    name: str = MISSING
    cell_size_deg: float = _ranged(0.01, 2.0, "a cell size in [0.01, 2] degrees")
    lat_min: float = _ranged(-90.0, 90.0, "a latitude in [-90, 90]")
    lat_max: float = _ranged(-90.0, 90.0, "a latitude in [-90, 90]")
    lon_min: float = _ranged(-180.0, 180.0, "a longitude in [-180, 180]")
    lon_max: float = _ranged(-180.0, 180.0, "a longitude in [-180, 180]")
    sites: list[SiteConfig] = field(default_factory=list)
    routes: list[RouteConfig] = field(default_factory=list)


@dataclass
class MilitiaConfig:
    name: str = MISSING
    label: str = ""
    bases: list[str] = field(default_factory=list)
    fighters: float = people()
    max_fighters: float = _ranged(0.0, MAX_PEOPLE, f"> 0 and <= {MAX_PEOPLE}", open=True)
    stock: dict[str, float] = field(default_factory=dict)  # munitions on hand, by weapon
    stock_capacity: float = munitions(open_=True)
    supply_share: float = nonneg()
    base_attack_rate: float = nonneg()
    reach_km: float = positive()
    resolve: float = nonneg()
    obedience: float = fraction()
    casualty_aversion: float = fraction()
    political_weight: float = fraction()
    risk_sensitivity: float = nonneg()
    initial_perceived_risk: float = probability()
    salvo_scale: float = positive()
    grievance_per_strike: float = nonneg()
    front: str = ""  # the front name it may claim attacks under ("": its own name)
    splinter_of: str = ""  # the group it may split from after a leadership loss ("": a founder)
    source: str = ""


@dataclass
class WeaponConfig:
    """One militia weapon (an entry of ``configs/weapons/``): what its attacks hit, how
    they count on the ladder and in the record, how lethal and how plentiful it is."""

    kind: str = MISSING  # the ladder's event kind of its attacks (WEAPON_KINDS)
    action: str = "other"  # its attacks' action in the event record (sim.record.ACTIONS)
    kill_per_munition: float = nonneg()
    wound_per_munition: float = nonneg()
    iraqi_killed_per_munition: float = nonneg()
    iraqi_wounded_per_munition: float = nonneg()
    stock_half_saturation: float = positive()
    salvo_mean: float = munitions(1.0)
    reach_factor: float = positive()
    supplied_per_day: float = munitions()  # what Iran ships of it per day
    supplied_from: str | None = None  # first day Iran ships it (None: from the start)
    source: str = ""


@dataclass
class MilitiaDynamicsConfig:
    grievance_halflife_days: float = positive()
    learning_rate: float = probability()
    learning_spillover: float = fraction()
    fighter_regeneration_per_day: float = nonneg()
    leadership_recovery_days: float = positive()
    leadership_loss_effect: float = fraction()
    decapitation_grievance: float = nonneg()
    israeli_blame_grievance: float = nonneg()
    claim_probability: float = probability()
    harassment_lethality: float = fraction()
    embassy_assault_rate: float = probability()
    outrage_halflife_days: float = positive()
    outrage_half_saturation: float = positive()
    outrage_per_strike_in_iraq: float = nonneg()
    outrage_per_raid: float = nonneg()
    outrage_per_blamed_israeli_strike: float = nonneg()
    protest_outrage: float = nonneg()
    obedience_loss_on_decapitation: float = fraction()
    obedience_loss_network: float = fraction()
    obedience_recovery_per_day: float = fraction()
    defiance_threshold: float = fraction()
    splinter_probability: float = probability()
    splinter_share: float = fraction()
    self_excitation: bool = MISSING
    momentum_per_success: float = nonneg()
    momentum_halflife_days: float = positive()
    outbidding: float = nonneg()
    attack_rate_scale: float = positive()


@dataclass
class ActorsConfig:
    name: str = MISSING
    militias: list[MilitiaConfig] = field(default_factory=list)
    dynamics: MilitiaDynamicsConfig = field(default_factory=MilitiaDynamicsConfig)
    convoys_per_day: float = munitions()  # a count per day, bounded as munitions are
    drawdown_convoy_boost: float = nonneg()
    # people at a site for which weapons' rates hold
    personnel_reference: float = _ranged(0.0, MAX_PEOPLE, f"> 0 and <= {MAX_PEOPLE}", open=True)


# --- doctrines ------------------------------------------------------------------------


@dataclass
class USDoctrineConfig:
    name: str = MISSING
    kill_threshold: int = people(1, whole=True)
    respond_if_us_killed: float = probability()
    respond_if_us_wounded: float = probability()
    respond_per_attack: float = probability()
    attack_count_trigger: float = munitions(1.0)  # a campaign needs at least one attack
    respond_if_count_exceeded: float = probability()
    count_window_days: int = whole_days(1)
    response_lag_days: int = whole_days()  # the mean of the negative binomial lag
    response_lag_dispersion: float = nonneg()
    attribution_uncertainty: bool = MISSING
    intelligence_quality: float = probability()
    attribution_threshold: float = probability()
    strike_in_iraq_probability: float = probability()
    strike_fighter_loss: float = fraction()
    strike_stock_loss: float = fraction()
    response_scaling: str = MISSING
    escalation_step: float = nonneg()
    sovereignty_cost_strike_in_iraq: float = nonneg()
    sovereignty_cost_decapitation: float = nonneg()
    decapitation_probability: float = probability()
    lethal_campaign_deaths: float = people(1.0)
    decapitation_if_lethal_campaign: float = probability()
    decapitation_lag_days: int = whole_days()
    decapitation_lag_dispersion: float = nonneg()
    war_if_iran_kills_us: float = probability()
    war_if_iran_strikes_without_deaths: float = probability()
    posture_trigger: str = MISSING
    consolidation_sites: list[str] = field(default_factory=list)
    consolidation_lag_days: int = whole_days()
    consolidation_interval_days: int = whole_days(1)
    air_defence_upgrade: float = fraction()
    air_defence_upgrade_lag_days: int = whole_days()
    drawdown_target_troops: float = people()
    drawdown_days: int = whole_days(1)
    embassy_closure_threat: bool = MISSING
    closure_threat_baghdad_attacks: float = munitions(1.0)  # a run needs at least one attack
    closure_threat_window_days: int = whole_days(1)
    closure_threat_days: int = whole_days()
    show_of_force_probability: float = probability()
    show_of_force_risk_signal: float = fraction()
    resolve_loss_per_us_death: float = nonneg()
    resolve_loss_per_expulsion_vote: float = nonneg()
    resolve_recovery_per_day: float = nonneg()
    withdrawal_threshold: float = fraction()
    source: str = ""


@dataclass
class IranDoctrineConfig:
    name: str = MISSING
    green_light: float = probability()
    war_aversion: float = nonneg()
    red_line: float = positive()
    affront_halflife_days: float = positive()
    affront_per_decapitation: float = nonneg()
    irgc_with_proxy_leaders: float = probability()
    affront_per_irgc_killed: float = nonneg()
    affront_per_fighter_lost: float = nonneg()
    iranians_at_syria_sites: float = probability()
    affront_per_iranians_struck: float = nonneg()
    direct_retaliation_probability: float = probability()
    retaliation_lag_days: int = whole_days()
    retaliation_lag_dispersion: float = nonneg()
    retaliation_targets: list[str] = field(default_factory=list)
    retaliation_missiles: float = munitions(1.0)
    missile_kill_per_munition: float = nonneg()
    missile_wound_per_munition: float = nonneg()
    warning_probability: float = probability()
    warning_effect: float = fraction()
    restraint_days: int = whole_days()
    restraint_green_light: float = probability()
    talks_green_light: float = probability()
    talks_collapse_probability: float = probability()
    envoy_visit_probability: float = probability()
    envoy_visit_effect: float = fraction()
    source: str = ""


@dataclass
class IsraelDoctrineConfig:
    name: str = MISSING
    interdiction_rate: float = nonneg()
    reference_transfer_per_day: float = munitions(open_=True)
    strike_in_iraq_share: float = fraction()
    strike_stock_loss: float = fraction()
    blame_us_probability: float = probability()
    source: str = ""


@dataclass
class IraqDoctrineConfig:
    name: str = MISSING
    embassy_protection: float = fraction()
    protection_after_assault: float = fraction()
    protection_days: int = whole_days()
    raid_rate: float = probability()
    raid_rate_under_closure_threat: float = probability()
    raid_detention_fraction: float = fraction()
    release_rate: float = probability()
    sovereignty_sensitivity: float = nonneg()
    sovereignty_cost_israeli_strike: float = nonneg()
    sovereignty_halflife_days: float = positive()
    expulsion_vote_threshold: float = positive()
    expulsion_vote_probability: float = probability()
    vote_cooldown_days: int = whole_days()
    truce_probability: float = probability()
    truce_days: int = whole_days()
    truce_attack_factor: float = fraction()
    source: str = ""


@dataclass
class DoctrineConfig:
    us: USDoctrineConfig = field(default_factory=USDoctrineConfig)
    iran: IranDoctrineConfig = field(default_factory=IranDoctrineConfig)
    israel: IsraelDoctrineConfig = field(default_factory=IsraelDoctrineConfig)
    iraq: IraqDoctrineConfig = field(default_factory=IraqDoctrineConfig)


# --- ladder, escalation score and output ------------------------------------------------


@dataclass
class RungConfig:
    level: int = MISSING
    name: str = MISSING
    events: list[str] = field(default_factory=list)


@dataclass
class LadderConfig:
    name: str = MISSING
    rungs: list[RungConfig] = field(default_factory=list)
    tension_halflife_days: float = positive()
    spiral_min_rung: int = _ranged(0, MAX_RUNG, f"a rung level >= 0 and <= {MAX_RUNG}")
    chronic_attacks_per_month: float = nonneg()


@dataclass
class ScoreCategoryConfig:
    """A category of the escalation-scoring framework and its points on that scale."""

    name: str = MISSING
    score: Any = MISSING  # a number (checked by validate, which names the field)


@dataclass
class ScoredKindConfig:
    """The severity of one event kind: its category, its score and why."""

    category: str = MISSING  # one of the categories' names
    score: Any = MISSING  # a number: what each event of the kind adds to its actor's score
    reason: str = ""


@dataclass
class ScoreConfig:
    """The escalation score beside the ladder (docs/ODD.md section 4): a severity score per
    event kind, on the scale of a published escalation-scoring framework. A kind left out
    scores 0."""

    name: str = MISSING
    source: str = ""
    categories: list[ScoreCategoryConfig] = field(default_factory=list)
    kinds: dict[str, ScoredKindConfig] = field(default_factory=dict)


@dataclass
class OutputConfig:
    figures: bool = True
    quiet: bool = False
    events: str = "sample"  # per-event rows of: all, sample (first event_sample), none
    event_sample: int = field(  # replicates whose events (and daily series) are kept
        default=100,
        metadata={
            "lo": 1,
            "hi": MAX_REPLICATES,
            "what": f"a whole number >= 1 and <= {MAX_REPLICATES}",
        },
    )
    daily: str = "auto"  # full, quantiles, or auto (full for one replicate)


@dataclass
class BaseConfig:
    seed: int = _ranged(0, 2**63 - 1, "a whole number >= 0")
    days: int = _ranged(1, MAX_DAYS, f"a whole number of days in [1, {MAX_DAYS}]")
    replicates: int = _ranged(1, MAX_REPLICATES, f"a whole number >= 1 and <= {MAX_REPLICATES}")
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    theatre: TheatreConfig = field(default_factory=TheatreConfig)
    actors: ActorsConfig = field(default_factory=ActorsConfig)
    weapons: dict[str, WeaponConfig] = field(default_factory=dict)  # the militias' weapons
    doctrine: DoctrineConfig = field(default_factory=DoctrineConfig)
    ladder: LadderConfig = field(default_factory=LadderConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    # dated inputs by name (InputConfig), or "off"; "off" for the whole table switches all
    # off. Typed Any so that ``inputs.NAME=off`` and ``inputs=off`` compose; validate
    # checks every entry and turns each into an InputConfig.
    inputs: Any = field(default_factory=dict)


SCHEMA_NAME = "base_config"


def register_schemas() -> None:
    """Store the schema under a name that no YAML file uses (see STACK_NOTES), once a
    process (storing it builds the whole typed tree again: 20 ms a composition)."""
    store = ConfigStore.instance()
    if f"{SCHEMA_NAME}.yaml" not in store.repo:
        store.store(name=SCHEMA_NAME, node=BaseConfig)


# --- conversion and validation ------------------------------------------------------------

SIDES = ("us", "militia", "iran", "logistics")
COUNTRIES = ("iraq", "syria", "iran", "kuwait", "jordan")
SITE_KINDS = (
    "base",
    "embassy",
    "airport",
    "syria_outpost",
    "logistics_hub",
    "stronghold",
    "depot",
    "border_crossing",
)
ROUTE_KINDS = ("us_logistics", "iran_supply")
RESPONSE_SCALINGS = ("fixed", "proportional", "escalating")
POSTURE_TRIGGERS = ("iran_strike", "first_us_death", "never")
#: run settings and map geometry cannot change in the middle of a run
_UNCHANGEABLE = (
    "seed",
    "days",
    "replicates",
    "scenario.",
    "theatre.",
    "output.",
    "ladder.",
    "score.",
)


def to_config(cfg: DictConfig | BaseConfig) -> BaseConfig:
    """Turn a composed DictConfig into the typed dataclass tree and validate it."""
    config = cfg if isinstance(cfg, BaseConfig) else OmegaConf.to_object(cfg)
    if not isinstance(config, BaseConfig):
        raise ConfigError(f"config: expected the {SCHEMA_NAME} schema, got {type(config).__name__}")
    validate(config)
    return config


def _check_ranges(node: Any, path: str) -> None:
    """The gate every value passes: known keys only, no value missing, numbers of the
    schema's type, finite and within their field's range (recursively)."""
    if dataclasses.is_dataclass(node):
        fields = {f.name: f for f in dataclasses.fields(node)}
        for key in vars(node):
            if key not in fields:  # a key added with + or ++, or by a file: not a setting
                raise ConfigError(_unknown_key(path, key, list(fields)))
        hints = _type_hints(type(node))
        for f in fields.values():
            value = getattr(node, f.name)
            where = f"{path}.{f.name}" if path else f.name
            _check_value(where, value, hints.get(f.name), f.metadata)
            if isinstance(value, list | dict) or dataclasses.is_dataclass(value):
                _check_ranges(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{path}[{i}] = {item}: must be a number (finite)")
            if not isinstance(item, str | int | float):
                _check_ranges(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            where = f"{path}.{key}"
            if isinstance(item, int | float) and out_of_range(item, KEYED_NUMBER):
                raise ConfigError(f"{where} = {item}: must be {KEYED_NUMBER['what']}")
            if not isinstance(item, str | int | float):
                _check_ranges(item, where)


def _check_value(where: str, value: Any, hint: Any, metadata: Mapping[str, Any]) -> None:
    """One field's value against its type and range (field metadata)."""
    what = metadata.get("what")
    if isinstance(value, str) and value == MISSING:
        raise ConfigError(f"{where}: missing; must be {what or 'set'}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        if what is not None and value is not None:
            raise ConfigError(f"{where} = {value!r}: must be {what}")
        return
    if hint is int and not isinstance(value, int):
        raise ConfigError(f"{where} = {value}: must be {what or 'a whole number'}")
    if not math.isfinite(value):
        raise ConfigError(f"{where} = {value}: must be {what or 'a number (finite)'}")
    if what is not None and out_of_range(value, metadata):
        raise ConfigError(f"{where} = {value}: must be {what}")


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _unknown_key(path: str, key: str, known: list[str]) -> str:
    """``<path>.<key>: not a setting``, with the closest known keys."""
    import difflib

    where = f"{path}.{key}" if path else key
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"the settings there are {', '.join(known)}"
    return f"{where}: not a setting of the configuration ({hint})"


def out_of_range(value: float, metadata) -> bool:
    """Whether a number lies outside the range a field's metadata allows (or is not finite)."""
    lo, hi = metadata.get("lo"), metadata.get("hi")
    bad = not math.isfinite(value)
    bad |= lo is not None and (value <= lo if metadata.get("open") else value < lo)
    bad |= hi is not None and value > hi
    return bool(bad)


def parameter_at(config: BaseConfig, path: str) -> tuple[Any, str, Any]:
    """The node holding the parameter at dotted ``path`` (list items by number, keyed
    entries such as weapons by key), its field name and its value; a ConfigError if there
    is none."""
    *parents, leaf = path.split(".")
    node: Any = config
    try:
        for part in parents:
            node = _child(node, part)
        current = _child(node, leaf)
    except (AttributeError, IndexError, KeyError, ValueError, TypeError, StopIteration):
        raise ConfigError(f"{path}: not a parameter of the configuration") from None
    return node, leaf, current


#: the range of a number in a keyed table (a group's stock of each weapon)
KEYED_NUMBER = {"lo": 0.0, "hi": MAX_MUNITIONS, "what": f"a number >= 0 and <= {MAX_MUNITIONS}"}


def allowed_range(node: Any, leaf: str) -> Mapping[str, Any]:
    """The range (field metadata) of the parameter ``leaf`` of a node that
    :func:`parameter_at` returned."""
    if isinstance(node, dict):
        return KEYED_NUMBER
    return next(f for f in dataclasses.fields(node) if f.name == leaf).metadata


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node[part]
    if isinstance(node, list):  # an item by number, or by its name (theatre.sites.taji)
        if part.isdigit():
            return node[int(part)]
        return next(item for item in node if getattr(item, "name", None) == part)
    return getattr(node, part)


def set_parameter(node: Any, leaf: str | int, value: Any) -> None:
    """Set the parameter ``leaf`` of a node that :func:`parameter_at` or :func:`number_at`
    returned (a list's item by its index)."""
    if isinstance(node, dict | list):
        node[leaf] = value
    else:
        setattr(node, leaf, value)


def leaves(node: Any, path: str = "") -> dict[str, Any]:
    """Every parameter of a configuration (or of one of its nodes) by dotted path: list
    items by number, keyed entries by key."""
    if dataclasses.is_dataclass(node):
        items = [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node)]
    elif isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list) and node and dataclasses.is_dataclass(node[0]):
        items = [(str(i), item) for i, item in enumerate(node)]
    else:
        return {path: node}
    out: dict[str, Any] = {}
    for name, value in items:
        out.update(leaves(value, f"{path}.{name}" if path else name))
    return out


def numeric_leaf(config: BaseConfig, path: str) -> tuple[Any, str, int | float]:
    """``parameter_at`` for a numeric parameter (not a switch); a ConfigError otherwise."""
    node, leaf, current = parameter_at(config, path)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ConfigError(f"{path}: not a numeric parameter")
    return node, leaf, current


def _check_choice(where: str, value: str, allowed: tuple[str, ...] | set[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{where} = {value!r}: must be one of {', '.join(sorted(allowed))}")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(where: str, value: str) -> dt.date:
    """Parse a date YYYY-MM-DD between DATE_MIN and DATE_MAX (the dates pandas can hold),
    or raise a ConfigError naming the field."""
    allowed = f"must be a date YYYY-MM-DD from {DATE_MIN} to {DATE_MAX}"
    text = str(value)
    try:
        if not _ISO_DATE.fullmatch(text):  # Python would also read week dates (2020-W01-1)
            raise ValueError(text)
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{where} = {value!r}: {allowed}") from None
    if not DATE_MIN <= date <= DATE_MAX:
        raise ConfigError(f"{where} = {value!r}: {allowed}")
    return date


def validate(config: BaseConfig) -> None:
    """Check ranges and cross-references; raise ConfigError on the first problem."""
    _normalize_inputs(config)
    _check_ranges(config, "")
    start = parse_date("scenario.start_date", config.scenario.start_date)
    if (DATE_MAX - start).days < config.days - 1:
        raise ConfigError(
            f"scenario.start_date = {config.scenario.start_date!r} with days = {config.days}: "
            f"the run must end by {DATE_MAX} (the last date pandas can hold)"
        )
    _validate_weapons(config)
    th = config.theatre
    if th.lat_min >= th.lat_max or th.lon_min >= th.lon_max:
        raise ConfigError("theatre: lat_min < lat_max and lon_min < lon_max are required")
    names: set[str] = set()
    for i, site in enumerate(th.sites):
        where = f"theatre.sites[{i}]"
        if site.name in names:
            raise ConfigError(f"{where}.name = {site.name!r}: site names must be unique")
        names.add(site.name)
        _check_choice(f"{where}.side", site.side, SIDES)
        _check_choice(f"{where}.country", site.country, COUNTRIES)
        _check_choice(f"{where}.kind", site.kind, SITE_KINDS)
        if not (th.lat_min <= site.lat <= th.lat_max and th.lon_min <= site.lon <= th.lon_max):
            raise ConfigError(
                f"{where} ({site.name}) at lat {site.lat}, lon {site.lon}: outside the map "
                f"(lat {th.lat_min}..{th.lat_max}, lon {th.lon_min}..{th.lon_max})"
            )
    if not any(s.side == "us" for s in th.sites):
        raise ConfigError("theatre.sites: at least one site with side 'us' is required")
    for i, route in enumerate(th.routes):
        where = f"theatre.routes[{i}]"
        _check_choice(f"{where}.kind", route.kind, ROUTE_KINDS)
        if len(route.sites) < 2:
            raise ConfigError(f"{where}.sites: a route needs at least two sites")
        for j, name in enumerate(route.sites):
            if name not in names:
                raise ConfigError(f"{where}.sites[{j}] = {name!r}: not a site of the theatre")
    militias = config.actors.militias
    if not militias:
        raise ConfigError("actors.militias: at least one militia group is required")
    for i, militia in enumerate(militias):
        where = f"actors.militias[{i}]"
        if not militia.bases:
            raise ConfigError(f"{where}.bases: a militia needs at least one base site")
        for j, name in enumerate(militia.bases):
            if name not in names:
                raise ConfigError(f"{where}.bases[{j}] = {name!r}: not a site of the theatre")
        if militia.fighters > militia.max_fighters:
            raise ConfigError(f"{where}.fighters = {militia.fighters}: must be <= max_fighters")
        if militia.splinter_of:
            _validate_splinter(militias, i)
    us_sites = {s.name for s in th.sites if s.side == "us"}
    us = config.doctrine.us
    _check_choice("doctrine.us.response_scaling", us.response_scaling, RESPONSE_SCALINGS)
    _check_choice("doctrine.us.posture_trigger", us.posture_trigger, POSTURE_TRIGGERS)
    _validate_scenario(config, us_sites)
    _validate_inputs(config, us_sites)
    for j, name in enumerate(config.doctrine.us.consolidation_sites):
        _check_choice(f"doctrine.us.consolidation_sites[{j}]", name, us_sites)
    for j, name in enumerate(config.doctrine.iran.retaliation_targets):
        _check_choice(f"doctrine.iran.retaliation_targets[{j}]", name, us_sites)
    _validate_ladder(config.ladder)
    _validate_score(config.score)
    _validate_output(config.output)


def _validate_splinter(militias: list[MilitiaConfig], i: int) -> None:
    """A splinter names a founding group and waits, with nothing of its own, for that
    group's leaders to fall: no fighters, no munitions, no share of Iran's supply."""
    where, splinter = f"actors.militias[{i}]", militias[i]
    founders = [m.name for m in militias if not m.splinter_of and m is not splinter]
    _check_choice(f"{where}.splinter_of", splinter.splinter_of, founders)
    if splinter.fighters != 0 or any(splinter.stock.values()):
        raise ConfigError(
            f"{where}: a splinter starts with no fighters and no stock (it takes its share "
            "of its group's when it forms): set fighters and stock to 0"
        )
    if splinter.supply_share != 0:
        raise ConfigError(
            f"{where}.supply_share = {splinter.supply_share}: a splinter defies Iran and "
            "gets none of its supply; must be 0"
        )


def _validate_scenario(config: BaseConfig, us_sites: set[str]) -> None:
    scenario = config.scenario
    for j, name in enumerate(scenario.sites_handed_over):
        _check_choice(f"scenario.sites_handed_over[{j}]", name, us_sites)
    troops = scenario.us_troops_in_iraq
    if troops is not None and not 0 <= troops <= MAX_PEOPLE:  # also refuses nan
        raise ConfigError(
            f"scenario.us_troops_in_iraq = {troops}: must be a number >= 0 and "
            f"<= {MAX_PEOPLE}, or null (the theatre's personnel)"
        )
    if scenario.diplomacy_opens is not None:
        parse_date("scenario.diplomacy_opens", scenario.diplomacy_opens)
    for weapon in scenario.militia_stocks:
        if weapon not in config.weapons:
            raise ConfigError(
                f"scenario.militia_stocks.{weapon}: not a weapon; "
                f"the weapons are {', '.join(config.weapons)}"
            )


#: a dated input's name: a key on the command line (``inputs.NAME=off``)
_INPUT_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: the one theatre value a dated input may change: whether the US holds a site
_HELD = re.compile(r"theatre\.sites\.([^.]+)\.held")
_INPUT_FIELDS = [f.name for f in dataclasses.fields(InputConfig)]


def _normalize_inputs(config: BaseConfig) -> None:
    """``config.inputs`` as composed (a table of mappings, "off" entries, or "off") made
    into ``{name: InputConfig or "off"}`` (or "off"), or a ConfigError naming the entry."""
    raw = config.inputs
    allowed = "a table of dated inputs {name: {date, path, value or scale, source, ...}}, or off"
    if isinstance(raw, str):
        if raw != INPUT_OFF:
            raise ConfigError(f"inputs = {raw!r}: must be {allowed} (all switched off)")
        return
    if not isinstance(raw, Mapping):
        raise ConfigError(f"inputs = {raw!r}: must be {allowed} (all switched off)")
    entries: dict[str, Any] = {}
    for name, entry in raw.items():
        where = f"inputs.{name}"
        if not isinstance(name, str) or not _INPUT_NAME.fullmatch(name):
            raise ConfigError(f"{where}: an input's name must be lower-case letters, digits and _")
        if isinstance(entry, InputConfig) or entry == INPUT_OFF:
            entries[name] = entry
            continue
        if not isinstance(entry, Mapping):
            raise ConfigError(
                f"{where} = {entry!r}: must be a dated input {{date, path, value or scale, "
                "source, until, order, note}, or off"
            )
        for key in entry:
            if key not in _INPUT_FIELDS:
                raise ConfigError(_unknown_key(where, str(key), _INPUT_FIELDS))
        entries[name] = InputConfig(**entry)
    config.inputs = entries


def active_inputs(config: BaseConfig) -> dict[str, InputConfig]:
    """The dated inputs switched on (none if ``inputs`` is off), by name."""
    if isinstance(config.inputs, str):
        return {}
    return {name: i for name, i in config.inputs.items() if isinstance(i, InputConfig)}


def input_period(name: str, entry: InputConfig) -> tuple[dt.date, dt.date | None]:
    """The first and last day an input holds (None: to the end of the run)."""
    date = parse_date(f"inputs.{name}.date", entry.date)
    if entry.until is None:
        return date, None
    return date, parse_date(f"inputs.{name}.until", entry.until)


def _validate_inputs(config: BaseConfig, us_sites: set[str]) -> None:
    """Each input switched on: its dates, a numeric parameter that may change mid-run, a
    value within that parameter's range, a source; and an order wherever two inputs change
    one parameter over overlapping periods."""
    inputs = active_inputs(config)
    periods = {}
    for name, entry in sorted(inputs.items()):
        where = f"inputs.{name}"
        date, until = periods[name] = input_period(name, entry)
        if until is not None and until < date:
            raise ConfigError(
                f"{where}.until = {entry.until!r}: before its date {entry.date}; must be on "
                "or after it (or null: to the end of the run)"
            )
        if entry.order is not None and (
            isinstance(entry.order, bool) or not isinstance(entry.order, int)
        ):
            raise ConfigError(f"{where}.order = {entry.order!r}: must be a whole number or null")
        if not isinstance(entry.source, str) or not entry.source.strip():
            raise ConfigError(
                f"{where}.source: empty; must name a seed file, a public page, or say "
                "'assumption: <why>'"
            )
        held = _HELD.fullmatch(str(entry.path))
        if held:
            _check_choice(f"{where}.path (site {held[1]!r})", held[1], us_sites)
        elif str(entry.path).startswith(_UNCHANGEABLE):
            raise ConfigError(
                f"{where}.path = {entry.path!r}: run settings, the scenario, the theatre "
                "(but a site's held), the ladder, the score and the output cannot change "
                "mid-run"
            )
        if (entry.value is None) == (entry.scale is None):
            raise ConfigError(
                f"{where}: give either value (the parameter's value while it holds) or "
                "scale (what it is multiplied by), not both or neither"
            )
        if entry.scale is not None and not (
            isinstance(entry.scale, int | float) and math.isfinite(entry.scale) and entry.scale >= 0
        ):
            raise ConfigError(f"{where}.scale = {entry.scale!r}: must be a finite number >= 0")
        _check_input_value(config, entry, where)
    _check_overlaps(inputs, periods)


def _check_input_value(config: BaseConfig, entry: InputConfig, where: str) -> None:
    """The value a dated input gives its parameter, as :func:`apply_inputs` sets it, checked
    as every value is (:func:`_check_ranges`) on the node that holds it: the rest of the
    configuration, which the input leaves alone, has been checked already."""
    node, leaf, current = _numeric_parameter(config, entry.path, where)
    _set_change(config, entry.path, _input_value(config, entry, where), where)
    try:
        _check_ranges(node, entry.path.rpartition(".")[0])
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    finally:
        set_parameter(node, leaf, current)


def _check_overlaps(inputs: dict[str, InputConfig], periods: dict) -> None:
    """Two inputs on one parameter whose periods overlap must each state an order, and
    not the same one (the higher applies last)."""
    names = sorted(inputs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if inputs[a].path != inputs[b].path:
                continue
            (a0, a1), (b0, b1) = periods[a], periods[b]
            if (a1 is not None and a1 < b0) or (b1 is not None and b1 < a0):
                continue
            order_a, order_b = inputs[a].order, inputs[b].order
            if order_a is None or order_b is None or order_a == order_b:
                raise ConfigError(
                    f"inputs.{a} and inputs.{b}: both change {inputs[a].path} over "
                    "overlapping periods; give each a different order (a whole number: "
                    "the higher applies last)"
                )


def apply_inputs(
    config: BaseConfig, entries: Sequence[InputConfig], where: str = "input"
) -> BaseConfig:
    """A copy of ``config`` with dated inputs applied one after the other, a later one
    reading what the earlier ones set (:func:`_input_value`)."""
    config = copy.deepcopy(config)
    for entry in entries:
        _set_change(config, entry.path, _input_value(config, entry, where), where)
    return config


def _input_value(config: BaseConfig, entry: InputConfig, where: str) -> float:
    """The value a dated input gives its parameter: its ``value``, or the parameter's
    times its ``scale``, up to the most the parameter allows (ten times a probability of
    0.2 is 1)."""
    if entry.scale is None:
        return entry.value
    return scaled_by_input(config, entry, _numeric_parameter(config, entry.path, where)[2])


def scaled_by_input(config: BaseConfig, entry: InputConfig, current):
    """``current`` (the parameter's value, or an array of one per replicate) times the
    input's ``scale``, up to the most the parameter allows."""
    node, leaf, _ = parameter_at(config, entry.path)
    most = allowed_range(node, leaf).get("hi")
    value = current * entry.scale
    if most is None:
        return value
    return min(value, most) if isinstance(value, int | float) else value.clip(max=most)


def apply_change(config: BaseConfig, path: str, value: float, where: str = "change") -> BaseConfig:
    """A copy of ``config`` with the numeric parameter at dotted ``path`` set to ``value``."""
    config = copy.deepcopy(config)
    _set_change(config, path, value, where)
    return config


def _numeric_parameter(config: BaseConfig, path: str, where: str) -> tuple[Any, str, Any]:
    """``parameter_at`` for a parameter that may change mid-run (a number, not a switch);
    a ConfigError naming ``where`` otherwise."""
    try:
        node, leaf, current = parameter_at(config, path)
    except ConfigError:
        raise ConfigError(
            f"{where}.path = {path!r}: not a parameter of the configuration"
        ) from None
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ConfigError(f"{where}.path = {path!r}: only numeric parameters can change mid-run")
    return node, leaf, current


def _set_change(config: BaseConfig, path: str, value: float, where: str) -> None:
    """Set the numeric parameter at ``path`` of ``config`` (in place) to ``value``,
    checked as :func:`apply_change` checks it."""
    node, leaf, current = _numeric_parameter(config, path, where)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: {path} = {value!r}: must be a number (finite)")
    if isinstance(current, int) and value != int(value):  # the field's own rule, not a cast
        what = allowed_range(node, leaf).get("what") or "a whole number"
        raise ConfigError(f"{where}: {path} = {value}: must be {what}")
    set_parameter(node, leaf, type(current)(value))


#: what a weapon's attacks can count as on the ladder: attacks on sites or on convoys
WEAPON_KINDS = ("base_attack", "convoy_ied")
#: a weapon's name becomes part of column names (``attacks_<name>``)
_WEAPON_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _validate_weapons(config: BaseConfig) -> None:
    """The weapons' entries, and the militias' stocks of them."""
    weapons = config.weapons
    if not weapons:
        raise ConfigError("weapons: at least one militia weapon is required")
    for name, weapon in weapons.items():
        if not _WEAPON_NAME.fullmatch(name):
            raise ConfigError(
                f"weapons.{name}: a weapon's name must be lower-case letters, digits and _"
            )
        _check_choice(f"weapons.{name}.kind", weapon.kind, WEAPON_KINDS)
        _check_choice(f"weapons.{name}.action", weapon.action, ACTIONS)
        if weapon.supplied_from is not None:
            parse_date(f"weapons.{name}.supplied_from", weapon.supplied_from)
    for i, militia in enumerate(config.actors.militias):
        for name in militia.stock:
            if name not in weapons:
                raise ConfigError(
                    f"actors.militias[{i}].stock.{name}: not a weapon; "
                    f"the weapons are {', '.join(weapons)}"
                )


def _event_kinds() -> set[str]:
    """The names of the event kinds the core emits (``sim.events.EventKind``, lower case)."""
    from sim.events import EventKind  # the vocabulary of events the core emits

    return {k.name.lower() for k in EventKind}


def _validate_ladder(ladder: LadderConfig) -> None:
    known = _event_kinds()
    levels = [r.level for r in ladder.rungs]
    if not levels or levels != sorted(set(levels)) or levels[0] != 0:
        raise ConfigError("ladder.rungs: levels must start at 0 and strictly increase")
    for i, rung in enumerate(ladder.rungs):
        for j, name in enumerate(rung.events):
            _check_choice(f"ladder.rungs[{i}].events[{j}]", name, known)


def _is_number(value: Any) -> bool:
    """A finite int or float (not a switch, not a string)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value)


#: the largest score of an event kind, either sign: the published scale runs from -2 to 60;
#: a thousand leaves room for other scales while a run's total (at most a few thousand
#: events a day for MAX_DAYS) stays far from float64's end
MAX_SCORE = 1000.0


def _is_score(value: Any) -> bool:
    return _is_number(value) and abs(value) <= MAX_SCORE


def _validate_score(score: ScoreConfig) -> None:
    """Every category has a number; every kind scored is an event kind of the core, with a
    category of the scale and a number (at most MAX_SCORE either way)."""
    allowed = f"must be a number in [-{MAX_SCORE:g}, {MAX_SCORE:g}]"
    for i, category in enumerate(score.categories):
        if not _is_score(category.score):
            raise ConfigError(f"score.categories[{i}].score = {category.score!r}: {allowed}")
    categories = {c.name for c in score.categories}
    known = _event_kinds()
    for kind, entry in score.kinds.items():
        if kind not in known:
            raise ConfigError(
                f"score.kinds.{kind}: not an event kind (one of {', '.join(sorted(known))})"
            )
        _check_choice(f"score.kinds.{kind}.category", entry.category, categories)
        if not _is_score(entry.score):
            raise ConfigError(f"score.kinds.{kind}.score = {entry.score!r}: {allowed}")


# --- output -------------------------------------------------------------------------------

OUTPUT_EVENTS = ("all", "sample", "none")
OUTPUT_DAILY = ("auto", "full", "quantiles")


def _validate_output(output: OutputConfig) -> None:
    """What a run keeps and writes: the choices of ``output.events`` and ``output.daily``."""
    _check_choice("output.events", output.events, OUTPUT_EVENTS)
    _check_choice("output.daily", output.daily, OUTPUT_DAILY)


# --- locating and composing the config tree -------------------------------------------------


def config_dir() -> str:
    """Absolute path of the ``configs/`` tree (packaged copy first, then the source tree)."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for candidate in (here / "configs", here.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return str(candidate)
    raise FileNotFoundError("configs/config.yaml not found beside the sim package")


# A number a composition may set after Hydra has run: ``key=value`` with a plain decimal
# (``days=180``, ``doctrine.us.respond_per_attack=0.3``), on which Hydra and this module
# agree: a whole number without a point, else a float. Anything else goes to Hydra.
_NUMBER_OVERRIDE = re.compile(
    r"^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)=(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?)$"
)
_COMPOSED: dict[tuple, DictConfig] = {}
_TYPED: dict[tuple, BaseConfig] = {}


def compose(*overrides: str) -> BaseConfig:
    """Compose and validate the configuration as the CLI would, from override strings.

    Example: ``compose("seed=7", "days=180", "doctrine.us.response_lag_days=5")``.

    Hydra takes about a third of a second a composition, most of it reading and merging
    the config files the config groups choose; the settings given after it (``seed=7``,
    ``output.events=all``) are applied last, to the merged tree. So the tree each choice
    of config groups composes is kept for the life of the process (keyed also on the config
    files' modification times), and the settings are applied to a copy of it by Hydra's
    own function (:func:`_composed`): a sweep, a test or a notebook's loop composes each
    choice of groups once. An override that sets a number to a plain decimal is quicker
    still: set on a copy of the typed tree and validated again (a test holds both to the
    result, or the refusal, Hydra composes).
    """
    numbers, rest = [], []
    for override in overrides:
        match = _NUMBER_OVERRIDE.match(override)
        (numbers if match else rest).append(match.groups() if match else override)
    keys = [key for key, _ in numbers]
    if numbers and (
        len(set(keys)) < len(keys)
        or any(o.split("=", 1)[0].lstrip("+~") in keys or "searchpath" in o for o in rest)
    ):
        numbers, rest = [], list(overrides)
    config = _composed(rest)
    if numbers:
        values = [(key, float(text) if "." in text else int(text)) for key, text in numbers]
        if any(set_number(config, key, value) is None for key, value in values):
            return _composed(list(overrides))
        validate(config)
    return config


def _composed(overrides: list[str]) -> BaseConfig:
    """A copy of what Hydra composes from ``overrides``, validated (kept for the process's
    life)."""
    stamp = _config_files_stamp(*_searched_folders(overrides))
    key = (config_dir(), stamp, tuple(overrides))
    if key not in _TYPED:
        _TYPED[key] = _composed_from_groups(overrides, stamp)
    return copy.deepcopy(_TYPED[key])


def _composed_from_groups(overrides: list[str], stamp: tuple) -> BaseConfig:
    """What Hydra composes from ``overrides``, validated: the tree of their config groups,
    composed by Hydra (kept for the process's life), with their settings applied to a copy
    by Hydra's own function, as Hydra applies them once it has merged the files."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import OmegaConfBaseException

    groups, settings = _settings_apart(overrides)
    key = (config_dir(), stamp, tuple(groups))
    if key not in _COMPOSED:
        _COMPOSED[key] = _hydra_tree(groups, stamp=stamp)
    tree = copy.deepcopy(_COMPOSED[key]) if settings else _COMPOSED[key]
    try:
        ConfigLoaderImpl._apply_overrides_to_config(settings, tree)
    except OmegaConfBaseException as exc:  # as Hydra's config loader reports it
        raise ConfigCompositionException().with_traceback(exc.__traceback__) from exc
    return _checked(tree, overrides)


def _settings_apart(overrides: list[str]) -> tuple[list[str], list]:
    """``overrides`` split as Hydra reads them: those Hydra composes (config groups, its
    own settings, keys added ``+``, removed ``~`` or swept) as written, and the plain
    ``key=value`` settings it applies afterwards, parsed. All are left to Hydra when one
    of them cannot be parsed or a user's folder of configs is searched (it may hold
    config groups of its own)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if any("searchpath" in line for line in overrides):
        return list(overrides), []
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException:
        return list(overrides), []
    groups, settings = [], []
    for override in parsed:
        plain = not (
            override.is_delete()
            or override.is_add()
            or override.is_force_add()
            or override.is_sweep_override()
            or override.is_hydra_override()
            or override.package is not None
            or _packaged_repository().group_exists(override.key_or_group)
        )
        (settings if plain else groups).append(override if plain else override.input_line)
    return groups, settings


_REPOSITORY: dict[str, Any] = {}


def _packaged_repository():
    """Hydra's repository of the packaged configs (one a process): what names a group."""
    if config_dir() not in _REPOSITORY:
        _REPOSITORY[config_dir()] = config_loader([]).repository
    return _REPOSITORY[config_dir()]


def set_number(config: BaseConfig, path: str, value: int | float) -> int | float | None:
    """Set the number at ``path`` to ``value`` as Hydra would (a whole number for a float
    field becomes a float) and return the value it replaced; None, with nothing set, if
    Hydra must read it: no number of the tree by Hydra's paths, or a float for a whole
    number (Hydra refuses a fraction, or 2.0)."""
    found = number_at(config, path)
    if found is None or (isinstance(found[2], int) and not isinstance(value, int)):
        return None
    node, leaf, current = found
    set_parameter(node, leaf, type(current)(value))
    return current


def number_at(config: BaseConfig, path: str) -> tuple[Any, Any, int | float] | None:
    """The node holding the number at ``path``, its field, key or list index, and its value,
    by the paths Hydra reads (fields, keys, list items by number, not by name); None if
    no number of the configuration is there."""
    node: Any = config
    parent, leaf = None, None
    for part in path.split("."):
        parent = node
        if dataclasses.is_dataclass(node) and part in {f.name for f in dataclasses.fields(node)}:
            node, leaf = getattr(node, part), part
        elif isinstance(node, dict) and part in node:
            node, leaf = node[part], part
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node, leaf = node[int(part)], int(part)
        else:
            return None
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return parent, leaf, node


def _config_files_stamp(*folders: str) -> tuple:
    """The config files' names, sizes and modification times (the packaged ones and those
    of the user's ``folders``): a change to any of them makes the next composition go
    through Hydra again."""
    from pathlib import Path

    stamp = []
    for root in (Path(config_dir()), *map(Path, folders)):
        stamp += [
            (str(path), stat.st_size, stat.st_mtime_ns)
            for path in sorted(root.rglob("*.yaml"))
            for stat in [path.stat()]
        ]
    return tuple(stamp)


def _searched_folders(overrides: list[str]) -> list[str]:
    """The folders of a ``hydra.searchpath=[file://...]`` override among ``overrides``."""
    found = []
    for line in overrides:
        if line.startswith("hydra.searchpath="):
            items = line.split("=", 1)[1].strip("[]").split(",")
            found += [i.strip().strip("'\"").removeprefix("file://") for i in items if i.strip()]
    return found


def _hydra_compose(overrides: list[str]) -> BaseConfig:
    """What Hydra composes from ``overrides``, every one composed by Hydra, validated (the
    reference :func:`compose` is held to in the tests)."""
    return _checked(_hydra_tree(overrides), overrides)


def _checked(tree: DictConfig, overrides: list[str]) -> BaseConfig:
    """The typed, validated configuration of a composed ``tree``; a switch that
    ``overrides`` set to anything but true or false is refused."""
    config = to_config(tree)
    _check_switches(config, overrides)
    return config


def _hydra_tree(
    overrides: list[str], hydra_node: bool = False, stamp: tuple | None = None
) -> DictConfig:
    """Hydra's composition of ``overrides``, not validated (with its ``hydra`` node if
    ``hydra_node``). Given the config files' ``stamp``, each file is parsed once while they
    stay as they are (:mod:`sim.parsed_configs`)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        if stamp is not None:
            parse_once(GlobalHydra.instance().config_loader(), f"files {hash(stamp):x}")
        return hydra_compose(
            config_name="config", overrides=list(overrides), return_hydra_config=hydra_node
        )


def _check_switches(config: BaseConfig, overrides: list[str]) -> None:
    """A switch set on the command line is ``true`` or ``false``: OmegaConf would read 2,
    ``yes`` or ``on`` as true and the run would go on with a value nobody wrote."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_delete() or override.is_sweep_override():
            continue
        path = override.key_or_group
        try:
            _, _, current = parameter_at(config, path)
        except ConfigError:
            continue  # a config group, or a key other checks name
        if isinstance(current, bool) and not isinstance(override.value(), bool):
            raise ConfigError(f"{path} = {override.value()!r}: must be true or false")


def compose_with_hydra_node(overrides: list[str]) -> DictConfig:
    """The composed configuration with its ``hydra`` node (its sweeper's parameters, its
    launcher), as a DictConfig, not validated: what a sweep starts from."""
    stamp = _config_files_stamp(*_searched_folders(overrides))
    return _hydra_tree(overrides, hydra_node=True, stamp=stamp)


def config_loader(overrides: list[str]):
    """Hydra's config loader over the packaged configs and the folders of a
    ``hydra.searchpath`` override among ``overrides``: what lists a group's options (for
    a sweep such as ``doctrine/us=glob(*)``)."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.override_parser.overrides_parser import OverridesParser

    search_path = create_config_search_path(config_dir())
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        if override.key_or_group == "hydra.searchpath":
            for folder in override.value() or []:
                search_path.append("command-line", str(folder))
    return ConfigLoaderImpl(config_search_path=search_path)


def check_config_folder(folder: str) -> None:
    """A user's folder of configs (``--config-dir`` or ``hydra.searchpath``): a folder,
    whose YAML files are UTF-8 text, none named as a packaged config.

    Hydra looks for a config in the packaged ``configs/`` before the user's folders, so
    a user's file of the same name would be silently ignored: it is refused, with the
    new name to give it. A new option (``doctrine/us/mine.yaml``) is chosen as any other
    (``doctrine/us=mine``).
    """
    from pathlib import Path

    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{folder}: not a folder of configs")
    packaged = Path(config_dir())
    for path in sorted(root.rglob("*.yaml")):
        relative = path.relative_to(root)
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                f"{exc.start}); save it as UTF-8"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        if (packaged / relative).is_file():
            group = relative.parent.as_posix()
            choose = f", choose it with {group}={path.stem}_mine" if group != "." else ""
            raise ConfigError(
                f"{path}: has the name of a packaged config ({relative.as_posix()}), which "
                f"would be used instead; give yours a new name (say {path.stem}_mine.yaml)"
                f"{choose}"
            )
