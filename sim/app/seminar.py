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

from sim.config import BaseConfig, ConfigError, apply_change, compose, config_dir, validate
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


def _changes(settings: Settings, base: BaseConfig, us: bool) -> list[tuple[str, float]]:
    """(path, value) of each slider's setting on a side (``us``: the US sliders too); the
    casualty aversion factor multiplies each group's own value."""
    changes: list[tuple[str, float]] = []
    for name, knob in KNOBS.items():
        if name not in settings.values or (knob.us_only and not us):
            continue
        value = settings.values[name]
        if knob.factor:
            if value != 1.0:
                changes += [
                    (knob.path.replace("*", str(i)), m.casualty_aversion * value)
                    for i, m in enumerate(base.actors.militias)
                ]
        else:
            changes.append((knob.path, value))
    return changes


def _side(settings: Settings, doctrine: str, us: bool) -> BaseConfig:
    """One side: the scenario and doctrine composed by Hydra (once each), then the seed and
    the sliders set and the whole configuration validated by :mod:`sim.config`."""
    base = _compose([f"scenario={settings.scenario}", *_doctrine_override(doctrine)])
    config = replace(base, seed=_seed(settings.seed))
    for path, value in _changes(settings, base, us):
        config = apply_change(config, path, value, where=path)
    validate(config)
    return config


def configure(settings: Settings) -> tuple[BaseConfig, BaseConfig]:
    """The validated configurations of side A (doctrine A and every slider) and side B
    (doctrine B as written, the shared sliders); ConfigError (one line) if bad.

    A value the model refuses gets the model's message; a value the model would take but
    that lies beyond its slider's ends is refused too, naming the range.
    """
    for name, knob in KNOBS.items():
        problem = knob.outside(settings.values[name]) if name in settings.values else None
        if problem:
            raise ConfigError(problem)
    return _side(settings, settings.doctrine_a, us=True), _side(
        settings, settings.doctrine_b, us=False
    )
