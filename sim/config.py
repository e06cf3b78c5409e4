"""Typed configuration: the schema Hydra composes into, and its validation.

The YAML files under ``configs/`` hold every value; the dataclasses here hold the
types, the allowed ranges (in field metadata) and nothing else. ``validate`` walks
the tree and raises :class:`ConfigError` with the dotted field name and what is
allowed, before any simulation starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf


class ConfigError(ValueError):
    """A configuration value outside what the model allows (one line, names the field)."""


# --- field helpers: the allowed range travels with the field ----------------------------


def _ranged(default: Any, lo: float | None, hi: float | None, what: str) -> Any:
    return field(default=default, metadata={"lo": lo, "hi": hi, "what": what})


def probability(default: float) -> Any:
    """A probability in [0, 1]."""
    return _ranged(default, 0.0, 1.0, "a probability in [0, 1]")


def fraction(default: float) -> Any:
    """A share in [0, 1]."""
    return _ranged(default, 0.0, 1.0, "a fraction in [0, 1]")


def nonneg(default: float) -> Any:
    """A number >= 0."""
    return _ranged(default, 0.0, None, "a number >= 0")


def positive(default: float) -> Any:
    """A number > 0."""
    return field(default=default, metadata={"lo": 0.0, "hi": None, "open": True, "what": "> 0"})


def at_least(default: float, lo: float) -> Any:
    """A number >= lo."""
    return _ranged(default, lo, None, f"a number >= {lo:g}")


def days_field(default: int) -> Any:
    """A whole number of days >= 0."""
    return _ranged(default, 0, None, "a whole number of days >= 0")


# --- scenario, theatre, actors ------------------------------------------------------------


@dataclass
class ScenarioConfig:
    name: str = "default"
    description: str = ""
    start_date: str = "2019-10-01"


@dataclass
class SiteConfig:
    name: str = "???"
    label: str = ""
    lat: float = 0.0
    lon: float = 0.0
    country: str = "iraq"
    side: str = "us"
    kind: str = "base"
    personnel: int = _ranged(0, 0, None, "a whole number >= 0")
    air_defence: float = probability(0.0)
    target_value: float = nonneg(1.0)
    source: str = ""


@dataclass
class RouteConfig:
    name: str = "???"
    kind: str = "us_logistics"
    sites: list[str] = field(default_factory=list)
    exposure: float = nonneg(1.0)
    source: str = ""


@dataclass
class TheatreConfig:
    name: str = "iraq_syria"
    cell_size_deg: float = _ranged(0.1, 0.01, 2.0, "a cell size in [0.01, 2] degrees")
    lat_min: float = _ranged(29.0, -90.0, 90.0, "a latitude in [-90, 90]")
    lat_max: float = _ranged(37.5, -90.0, 90.0, "a latitude in [-90, 90]")
    lon_min: float = _ranged(38.0, -180.0, 180.0, "a longitude in [-180, 180]")
    lon_max: float = _ranged(49.0, -180.0, 180.0, "a longitude in [-180, 180]")
    sites: list[SiteConfig] = field(default_factory=list)
    routes: list[RouteConfig] = field(default_factory=list)


@dataclass
class MilitiaConfig:
    name: str = "???"
    label: str = ""
    bases: list[str] = field(default_factory=list)
    fighters: float = nonneg(1000.0)
    max_fighters: float = positive(1000.0)
    rockets: float = nonneg(50.0)
    ieds: float = nonneg(20.0)
    drones: float = nonneg(0.0)
    stock_capacity: float = positive(200.0)
    supply_share: float = nonneg(0.25)
    base_attack_rate: float = nonneg(0.05)
    reach_km: float = positive(60.0)
    resolve: float = nonneg(1.0)
    obedience: float = fraction(0.7)
    casualty_aversion: float = fraction(0.5)
    political_weight: float = fraction(0.3)
    risk_sensitivity: float = nonneg(2.0)
    initial_perceived_risk: float = probability(0.1)
    salvo_scale: float = positive(1.0)
    grievance_per_strike: float = nonneg(1.0)
    source: str = ""


@dataclass
class WeaponConfig:
    kill_per_munition: float = nonneg(0.01)
    wound_per_munition: float = nonneg(0.04)
    iraqi_killed_per_munition: float = nonneg(0.005)
    iraqi_wounded_per_munition: float = nonneg(0.02)
    stock_half_saturation: float = positive(10.0)
    salvo_mean: float = at_least(1.0, 1.0)
    reach_factor: float = positive(1.0)
    source: str = ""


@dataclass
class MissileConfig:
    kill_per_munition: float = nonneg(0.5)
    wound_per_munition: float = nonneg(8.0)
    source: str = ""


@dataclass
class WeaponsConfig:
    rocket: WeaponConfig = field(default_factory=WeaponConfig)
    ied: WeaponConfig = field(default_factory=WeaponConfig)
    drone: WeaponConfig = field(default_factory=WeaponConfig)
    ballistic_missile: MissileConfig = field(default_factory=MissileConfig)
    personnel_reference: float = positive(1000.0)


@dataclass
class MilitiaDynamicsConfig:
    grievance_halflife_days: float = positive(45.0)
    learning_rate: float = probability(0.15)
    learning_spillover: float = fraction(0.3)
    fighter_regeneration_per_day: float = nonneg(0.01)
    leadership_recovery_days: float = positive(120.0)
    leadership_loss_effect: float = fraction(0.6)
    decapitation_grievance: float = nonneg(4.0)
    israeli_blame_grievance: float = nonneg(0.5)
    embassy_assault_probability: float = probability(0.3)
    assault_window_days: int = days_field(5)


@dataclass
class ActorsConfig:
    name: str = "historical"
    militias: list[MilitiaConfig] = field(default_factory=list)
    dynamics: MilitiaDynamicsConfig = field(default_factory=MilitiaDynamicsConfig)
    convoys_per_day: float = nonneg(1.0)
    drawdown_convoy_boost: float = nonneg(1.0)


# --- doctrines ------------------------------------------------------------------------


@dataclass
class USDoctrineConfig:
    name: str = "historical"
    respond_if_us_killed: float = probability(1.0)
    respond_if_us_wounded: float = probability(0.2)
    respond_per_attack: float = probability(0.0)
    attack_count_trigger: float = nonneg(11.0)
    respond_if_count_exceeded: float = probability(0.1)
    count_window_days: int = _ranged(60, 1, None, "a whole number of days >= 1")
    response_lag_days: int = days_field(2)
    strike_in_iraq_probability: float = probability(0.7)
    strike_fighter_loss: float = fraction(0.02)
    strike_stock_loss: float = fraction(0.25)
    decapitation_probability: float = probability(0.5)
    decapitation_lag_days: int = days_field(3)
    war_if_iran_kills_us: float = probability(0.8)
    war_if_iran_strikes_without_deaths: float = probability(0.02)
    consolidation_sites: list[str] = field(default_factory=list)
    consolidation_lag_days: int = days_field(60)
    consolidation_interval_days: int = _ranged(20, 1, None, "a whole number of days >= 1")
    air_defence_upgrade: float = fraction(0.3)
    air_defence_upgrade_lag_days: int = days_field(90)
    drawdown_target_troops: float = nonneg(2500.0)
    drawdown_days: int = _ranged(240, 1, None, "a whole number of days >= 1")
    closure_threat_baghdad_attacks: float = nonneg(6.0)
    closure_threat_window_days: int = _ranged(30, 1, None, "a whole number of days >= 1")
    closure_threat_days: int = days_field(60)
    show_of_force_probability: float = probability(0.02)
    show_of_force_risk_signal: float = fraction(0.05)
    resolve_loss_per_us_death: float = nonneg(0.04)
    resolve_loss_per_expulsion_vote: float = nonneg(0.25)
    resolve_recovery_per_day: float = nonneg(0.002)
    withdrawal_threshold: float = fraction(0.2)
    source: str = ""


@dataclass
class IranDoctrineConfig:
    name: str = "historical"
    rockets_per_day: float = nonneg(1.5)
    ieds_per_day: float = nonneg(0.6)
    drones_per_day: float = nonneg(0.15)
    drone_supply_start_date: str = "2021-01-01"
    green_light: float = probability(0.8)
    war_aversion: float = nonneg(0.03)
    direct_retaliation_probability: float = probability(1.0)
    retaliation_lag_days: int = days_field(5)
    retaliation_targets: list[str] = field(default_factory=list)
    retaliation_missiles: float = at_least(10.0, 1.0)
    warning_effect: float = fraction(0.95)
    restraint_days: int = days_field(45)
    restraint_green_light: float = probability(0.3)
    source: str = ""


@dataclass
class IsraelDoctrineConfig:
    name: str = "historical"
    interdiction_rate: float = nonneg(0.02)
    reference_transfer_per_day: float = positive(2.0)
    strike_in_iraq_share: float = fraction(0.3)
    strike_stock_loss: float = fraction(0.5)
    blame_us_probability: float = probability(0.5)
    source: str = ""


@dataclass
class IraqDoctrineConfig:
    name: str = "historical"
    embassy_protection: float = fraction(0.5)
    protection_after_assault: float = fraction(0.9)
    protection_days: int = days_field(90)
    raid_rate: float = probability(0.003)
    raid_rate_under_closure_threat: float = probability(0.05)
    raid_detention_fraction: float = fraction(0.02)
    release_rate: float = probability(0.1)
    sovereignty_cost_us_strike: float = nonneg(1.0)
    sovereignty_cost_decapitation: float = nonneg(3.0)
    sovereignty_cost_israeli_strike: float = nonneg(0.5)
    sovereignty_halflife_days: float = positive(60.0)
    expulsion_vote_threshold: float = positive(2.5)
    expulsion_vote_probability: float = probability(0.3)
    vote_cooldown_days: int = days_field(180)
    truce_probability: float = probability(0.05)
    truce_days: int = days_field(60)
    truce_attack_factor: float = fraction(0.25)
    source: str = ""


@dataclass
class DoctrineConfig:
    us: USDoctrineConfig = field(default_factory=USDoctrineConfig)
    iran: IranDoctrineConfig = field(default_factory=IranDoctrineConfig)
    israel: IsraelDoctrineConfig = field(default_factory=IsraelDoctrineConfig)
    iraq: IraqDoctrineConfig = field(default_factory=IraqDoctrineConfig)


# --- ladder and output ------------------------------------------------------------------


@dataclass
class RungConfig:
    level: int = 0
    name: str = ""
    events: list[str] = field(default_factory=list)


@dataclass
class LadderConfig:
    name: str = "default"
    rungs: list[RungConfig] = field(default_factory=list)
    tension_halflife_days: float = positive(14.0)
    spiral_min_rung: int = _ranged(6, 0, None, "a rung level >= 0")
    chronic_attacks_per_month: float = nonneg(2.0)


@dataclass
class OutputConfig:
    figures: bool = True
    quiet: bool = False


@dataclass
class BaseConfig:
    seed: int = _ranged(0, 0, 2**63 - 1, "a whole number >= 0")
    days: int = _ranged(365, 1, 36500, "a whole number of days in [1, 36500]")
    replicates: int = _ranged(1, 1, None, "a whole number >= 1")
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    theatre: TheatreConfig = field(default_factory=TheatreConfig)
    actors: ActorsConfig = field(default_factory=ActorsConfig)
    weapons: WeaponsConfig = field(default_factory=WeaponsConfig)
    doctrine: DoctrineConfig = field(default_factory=DoctrineConfig)
    ladder: LadderConfig = field(default_factory=LadderConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


SCHEMA_NAME = "base_config"


def register_schemas() -> None:
    """Store the schema under a name that no YAML file uses (see STACK_NOTES)."""
    ConfigStore.instance().store(name=SCHEMA_NAME, node=BaseConfig)


# --- conversion and validation ------------------------------------------------------------

SIDES = ("us", "militia", "iran", "logistics")
COUNTRIES = ("iraq", "syria", "iran", "kuwait")
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


def to_config(cfg: DictConfig | BaseConfig) -> BaseConfig:
    """Turn a composed DictConfig into the typed dataclass tree and validate it."""
    config = cfg if isinstance(cfg, BaseConfig) else OmegaConf.to_object(cfg)
    if not isinstance(config, BaseConfig):
        raise ConfigError(f"config: expected the {SCHEMA_NAME} schema, got {type(config).__name__}")
    validate(config)
    return config


def _check_ranges(node: Any, path: str) -> None:
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            where = f"{path}.{f.name}" if path else f.name
            if "what" in f.metadata and isinstance(value, int | float):
                lo, hi = f.metadata["lo"], f.metadata["hi"]
                bad = not math.isfinite(value)
                bad |= lo is not None and (value <= lo if f.metadata.get("open") else value < lo)
                bad |= hi is not None and value > hi
                if bad:
                    raise ConfigError(f"{where} = {value}: must be {f.metadata['what']}")
            _check_ranges(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _check_ranges(item, f"{path}[{i}]")


def _check_choice(where: str, value: str, allowed: tuple[str, ...] | set[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{where} = {value!r}: must be one of {', '.join(sorted(allowed))}")


def parse_date(where: str, value: str) -> dt.date:
    """Parse an ISO date (YYYY-MM-DD) or raise a ConfigError naming the field."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where} = {value!r}: must be a date YYYY-MM-DD") from None


def validate(config: BaseConfig) -> None:
    """Check ranges and cross-references; raise ConfigError on the first problem."""
    _check_ranges(config, "")
    parse_date("scenario.start_date", config.scenario.start_date)
    parse_date(
        "doctrine.iran.drone_supply_start_date", config.doctrine.iran.drone_supply_start_date
    )
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
    us_sites = {s.name for s in th.sites if s.side == "us"}
    for j, name in enumerate(config.doctrine.us.consolidation_sites):
        _check_choice(f"doctrine.us.consolidation_sites[{j}]", name, us_sites)
    for j, name in enumerate(config.doctrine.iran.retaliation_targets):
        _check_choice(f"doctrine.iran.retaliation_targets[{j}]", name, us_sites)
    _validate_ladder(config.ladder)


def _validate_ladder(ladder: LadderConfig) -> None:
    from sim.events import EventKind  # the vocabulary of events the core emits

    known = {k.name.lower() for k in EventKind}
    levels = [r.level for r in ladder.rungs]
    if not levels or levels != sorted(set(levels)) or levels[0] != 0:
        raise ConfigError("ladder.rungs: levels must start at 0 and strictly increase")
    for i, rung in enumerate(ladder.rungs):
        for j, name in enumerate(rung.events):
            _check_choice(f"ladder.rungs[{i}].events[{j}]", name, known)


# --- locating and composing the config tree -------------------------------------------------


def config_dir() -> str:
    """Absolute path of the ``configs/`` tree (packaged copy first, then the source tree)."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for candidate in (here / "configs", here.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return str(candidate)
    raise FileNotFoundError("configs/config.yaml not found beside the sim package")


def compose(*overrides: str) -> BaseConfig:
    """Compose and validate the configuration as the CLI would, from override strings.

    Example: ``compose("seed=7", "days=180", "doctrine.us.response_lag_days=5")``.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides))
    return to_config(cfg)
