"""The seminar's two sides: what the page lets a class choose, and the configurations it gives.

Side A runs the chosen scenario with US doctrine A, edited by the US sliders; side B runs the
same scenario, seed and shared settings under US doctrine B as written in its config file. Both
are configured through :func:`sim.config.compose` (the Hydra configs, as on the command line)
and validated by :mod:`sim.config`: no rule and no bound of the model is restated here. The
sliders' ends are the page's own (the range a seminar argues over), inside the model's.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

from sim.config import BaseConfig, ConfigError, compose, config_dir
from sim.errors import COMPOSE_ERRORS, one_line

#: the scenario's own US doctrine (no ``doctrine/us=`` override)
SCENARIO_DOCTRINE = "scenario"


@dataclass(frozen=True)
class Knob:
    """A parameter a seminar argues about: where it lives, and the slider that moves it."""

    label: str
    path: str  # dotted path in the configuration; "*" stands for every militia group
    lo: float
    hi: float
    step: float
    us_only: bool = False  # True: applies to side A only (the US decision being compared)
    factor: bool = False  # True: the slider multiplies each group's configured value

    @property
    def whole(self) -> bool:
        return float(self.step).is_integer() and not self.factor

    def outside(self, value: float) -> str | None:
        """What is wrong with a typed ``value`` beyond the slider's ends; None if it is within."""
        if self.lo <= value <= self.hi:
            return None
        return f"{self.label} = {value:g}: outside the slider's range, {self.lo:g} to {self.hi:g}"


KNOBS: dict[str, Knob] = {
    "kill_threshold": Knob(
        "US responds after this many US deaths", "doctrine.us.kill_threshold", 1, 10, 1, True
    ),
    "respond_if_us_wounded": Knob(
        "US responds to wounded (probability)",
        "doctrine.us.respond_if_us_wounded",
        0,
        1,
        0.05,
        True,
    ),
    "response_lag_days": Knob(
        "US response lag (days)", "doctrine.us.response_lag_days", 0, 30, 1, True
    ),
    "war_aversion": Knob(
        "Iranian restraint (war aversion)", "doctrine.iran.war_aversion", 0, 0.2, 0.005
    ),
    "interdiction_rate": Knob(
        "Israeli interdiction (strikes/day)", "doctrine.israel.interdiction_rate", 0, 0.1, 0.005
    ),
    "raid_rate": Knob("Iraqi crackdown (raids/day)", "doctrine.iraq.raid_rate", 0, 0.05, 0.002),
    "casualty_aversion": Knob(
        "Militia casualty aversion (x configured, all groups)",
        "actors.militias.*.casualty_aversion",
        0,
        2,
        0.1,
        factor=True,
    ),
}


def scenarios() -> list[str]:
    """The scenario presets in ``configs/scenario/``."""
    return sorted(p.stem for p in Path(config_dir(), "scenario").glob("*.yaml"))


def us_doctrines() -> list[str]:
    """The US doctrines in ``configs/doctrine/us/``."""
    return sorted(p.stem for p in Path(config_dir(), "doctrine", "us").glob("*.yaml"))


@dataclass(frozen=True)
class Settings:
    """What the page lets a class choose; ``values`` holds one number per :data:`KNOBS` key."""

    scenario: str = "dec2019_crisis"
    doctrine_a: str = SCENARIO_DOCTRINE
    doctrine_b: str = "restraint"
    seed: str = "0"
    values: dict[str, float] = field(default_factory=dict)

    def with_presets(self) -> Settings:
        """These settings with every slider at the value the chosen presets configure."""
        return replace(self, values=preset_values(self.scenario, self.doctrine_a))


def _doctrine_override(doctrine: str) -> list[str]:
    return [] if doctrine == SCENARIO_DOCTRINE else [f"doctrine/us={doctrine}"]


def _compose(overrides: list[str]) -> BaseConfig:
    """Compose, turning Hydra's multi-line complaints into one line (as the CLI does).

    Reset builds both sides anew, mostly from choices composed before: each set of
    overrides is composed once (a few tenths of a second) and every model gets its own copy.
    """
    return copy.deepcopy(_composed(config_dir(), tuple(overrides)))


@functools.lru_cache(maxsize=64)
def _composed(configs: str, overrides: tuple[str, ...]) -> BaseConfig:
    """The configuration of ``overrides``, composed once for each config folder ``configs``
    (:func:`sim.config.config_dir`, which :func:`sim.config.compose` reads)."""
    try:
        return compose(*overrides)
    except COMPOSE_ERRORS as exc:
        raise ConfigError(one_line(exc)) from None


def preset_values(scenario: str, doctrine_a: str = SCENARIO_DOCTRINE) -> dict[str, float]:
    """The slider values that reproduce the presets (casualty aversion: a factor of 1)."""
    return dict(_preset_values(scenario, doctrine_a))


@functools.lru_cache(maxsize=64)
def _preset_values(scenario: str, doctrine_a: str) -> dict[str, float]:
    config = _compose([f"scenario={scenario}", *_doctrine_override(doctrine_a)])
    values: dict[str, float] = {}
    for name, knob in KNOBS.items():
        if knob.factor:
            values[name] = 1.0
            continue
        node = config
        for part in knob.path.split("."):
            node = getattr(node, part)
        values[name] = float(node)
    return values


def _seed(text: str) -> int:
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"seed = {text!r}: must be a whole number >= 0") from None
    if seed < 0:
        raise ConfigError(f"seed = {seed}: must be a whole number >= 0")
    return seed


def _number(knob: Knob, value: float) -> str:
    return str(int(round(value))) if knob.whole else repr(float(value))


def overrides(settings: Settings) -> tuple[list[str], list[str]]:
    """The override strings of side A and side B (B: doctrine B, US sliders not applied)."""
    shared = [f"scenario={settings.scenario}", f"seed={_seed(settings.seed)}"]
    us: list[str] = []
    for name, knob in KNOBS.items():
        if name not in settings.values:
            continue
        value = settings.values[name]
        if knob.factor:
            continue  # applied to the composed values below (a factor of each group's own)
        target = us if knob.us_only else shared
        if knob.whole and not float(value).is_integer():
            raise ConfigError(f"{knob.path} = {value}: must be a whole number")
        target.append(f"{knob.path}={_number(knob, value)}")
    side_a = [*shared, *_doctrine_override(settings.doctrine_a), *us]
    side_b = [*shared, *_doctrine_override(settings.doctrine_b)]
    return side_a, side_b


def _scaled(settings: Settings, base: BaseConfig) -> list[str]:
    """Overrides that scale each group's casualty aversion by the factor slider."""
    factor = settings.values.get("casualty_aversion", 1.0)
    if factor == 1.0:
        return []
    return [
        f"actors.militias.{i}.casualty_aversion={m.casualty_aversion * factor!r}"
        for i, m in enumerate(base.actors.militias)
    ]


def configure(settings: Settings) -> tuple[BaseConfig, BaseConfig]:
    """The validated configurations of side A and side B; ConfigError (one line) if bad.

    A value the model refuses gets the model's message; a value the model would take but
    that lies beyond its slider's ends (typed in the box) is refused too, naming the range.
    """
    side_a, side_b = overrides(settings)
    base_a, base_b = _compose(side_a), _compose(side_b)
    for name, knob in KNOBS.items():
        problem = knob.outside(settings.values[name]) if name in settings.values else None
        if problem:
            raise ConfigError(problem)
    extra_a, extra_b = _scaled(settings, base_a), _scaled(settings, base_b)
    config_a = _compose([*side_a, *extra_a]) if extra_a else base_a
    config_b = _compose([*side_b, *extra_b]) if extra_b else base_b
    return config_a, config_b
