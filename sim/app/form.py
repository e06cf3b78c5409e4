"""The seminar page's settings form: what the boxes hold, read and checked, field by field.

The page sends every box as typed (text), whatever was or was not confirmed with Enter.
Each slider's box must hold one of the slider's values (a number on its grid, from one end
to the other): a word, ``nan``, an infinity or a value between steps (2.5 in a box of whole
numbers) is refused, not snapped or ignored. The values then go through the model's own
validation (:func:`sim.app.seminar.configure`, which composes and validates with
:mod:`sim.config`), whose one-line message is put under the box it is about, in the words a
class knows (a group's name, not its place in a list).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from sim.app.seminar import (
    KNOBS,
    SCENARIO_DOCTRINE,
    Knob,
    Settings,
    configure,
    scenarios,
    us_doctrines,
)
from sim.config import BaseConfig, ConfigError

#: the form's fields besides the sliders (field -> what the page calls it)
CHOICES = {
    "scenario": "Scenario",
    "doctrine_a": "US doctrine A",
    "doctrine_b": "US doctrine B",
    "seed": "Seed",
}
#: the most a seed may be on the page (a 32-bit word, as replicate numbers are hashed)
MAX_SEED = 2**32 - 1
_GRID_TOLERANCE = 1e-6  # in steps: typed decimals are not exact in binary


class FormError(ValueError):
    """Bad values in the form: ``errors`` maps each field to its one-line message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


def allowed(knob: Knob) -> str:
    """The values a knob's box takes, in words."""
    if knob.whole:
        return f"a whole number from {knob.lo:g} to {knob.hi:g}"
    return f"a number from {knob.lo:g} to {knob.hi:g} in steps of {knob.step:g}"


def on_grid(knob: Knob, value: float) -> bool:
    """Whether ``value`` is one of the slider's values (its ends included)."""
    steps = (value - knob.lo) / knob.step
    return knob.lo <= value <= knob.hi and abs(steps - round(steps)) < _GRID_TOLERANCE


def read_number(knob: Knob, text: Any) -> float:
    """The number in a knob's box, or ValueError with a one-line message naming the
    allowed values."""
    typed = str(text).strip()
    try:
        value = float(typed)
    except ValueError:
        raise ValueError(f"{typed!r} is not a number: type {allowed(knob)}") from None
    if not math.isfinite(value):
        raise ValueError(f"{typed} is not a finite number: type {allowed(knob)}")
    if not on_grid(knob, value):
        raise ValueError(f"{typed} is not allowed here: type {allowed(knob)}")
    return round(value, _decimals(knob.step) + 3)


def _seed(text: Any) -> str:
    typed = str(text).strip()
    if not re.fullmatch(r"[0-9]+", typed) or int(typed) > MAX_SEED:
        raise ValueError(f"{typed!r} is not allowed: type a whole number from 0 to {MAX_SEED}")
    return str(int(typed))


def read_form(form: Mapping[str, Any]) -> Settings:
    """The settings in ``form`` (field -> typed text); FormError naming every bad field."""
    errors: dict[str, str] = {}
    doctrines = [SCENARIO_DOCTRINE, *us_doctrines()]
    choices = {"scenario": scenarios(), "doctrine_a": doctrines, "doctrine_b": doctrines}
    picked: dict[str, str] = {}
    for name, options in choices.items():
        value = str(form.get(name, ""))
        if value not in options:
            errors[name] = f"{value!r} is not an option: choose one of {', '.join(options)}"
        picked[name] = value
    try:
        picked["seed"] = _seed(form.get("seed", ""))
    except ValueError as exc:
        errors["seed"] = str(exc)
    values: dict[str, float] = {}
    for name, knob in KNOBS.items():
        if name not in form:
            errors[name] = f"missing: type {allowed(knob)}"
            continue
        try:
            values[name] = read_number(knob, form[name])
        except ValueError as exc:
            errors[name] = str(exc)
    unknown = sorted(set(form) - set(CHOICES) - set(KNOBS))
    if unknown:
        errors["form"] = f"not a setting of the page: {', '.join(unknown)}"
    if errors:
        raise FormError(errors)
    return Settings(values=values, **picked)


def _field_of(message: str) -> str:
    """The form field a one-line config message is about ("form" if none)."""
    path = message.split(" ", 1)[0].split("=", 1)[0].rstrip(":")
    path = re.sub(r"\[(\d+)\]", r".\1", path)
    if path == "seed":
        return "seed"
    if path.startswith("scenario"):
        return "scenario"
    if path.startswith("doctrine/us") or path == "doctrine.us.name":
        return "doctrine_a"
    for name, knob in KNOBS.items():
        pattern = re.escape(knob.path).replace(r"\*", r"\d+")
        if re.fullmatch(pattern, path):
            return name
    return "form"


def in_class_words(message: str, config: BaseConfig | None) -> str:
    """A config message with each militia group named (``actors.militias[1]`` ->
    Asaib Ahl al-Haq) and each slider's path replaced by its label."""

    def group(match: re.Match) -> str:
        i = int(match.group(1))
        militias = config.actors.militias if config is not None else []
        name = militias[i].label or militias[i].name if i < len(militias) else f"group {i + 1}"
        return f"{name}'s {match.group(2).replace('_', ' ')} would be"

    text = re.sub(r"actors\.militias(?:\.|\[)(\d+)\]?\.(\w+) =", group, message)
    for knob in KNOBS.values():
        if not knob.factor:
            text = text.replace(knob.path, knob.label)
    return text


def checked(form: Mapping[str, Any]) -> tuple[Settings, BaseConfig, BaseConfig]:
    """The settings and both sides' validated configurations; FormError if anything is bad."""
    settings = read_form(form)
    try:
        config_a, config_b = configure(settings)
    except ConfigError as exc:
        message = str(exc)
        base = None
        if "actors.militias" in message:
            try:  # the groups' names, from the settings without the factor that broke them
                base, _ = configure(
                    Settings(
                        scenario=settings.scenario,
                        doctrine_a=settings.doctrine_a,
                        doctrine_b=settings.doctrine_b,
                        seed=settings.seed,
                        values={**settings.values, "casualty_aversion": 1.0},
                    )
                )
            except ConfigError:
                base = None
        raise FormError({_field_of(message): in_class_words(message, base)}) from None
    return settings, config_a, config_b
