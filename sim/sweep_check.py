"""Checking every point of a sweep before any job starts (``escalation-sim -m``).

A sweep's jobs are the combinations of its values: those of the experiment file's
``hydra.sweeper.params`` and of the command line, combined as Hydra's basic sweeper
combines them (:meth:`BasicSweeper.split_arguments`, so the job numbers are the sweep's
own). Every job is composed and validated here, in one pass, and every bad job is
reported, one line each, before Hydra creates a folder.

Composing a job with Hydra takes about a third of a second, so jobs that differ only in
numbers are composed once: the numbers are then set on a copy of the composed
configuration and validated again (a millisecond), which is what Hydra's composition
would give, since no config file refers to another value by interpolation. Anything else
(a config group, a string, a key added with ``+``, a whole-number field given a
fraction) is composed by Hydra itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import yaml
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override

from sim.config import (
    ConfigError,
    compose,
    compose_with_hydra_node,
    config_loader,
    set_number,
    validate,
)
from sim.errors import COMPOSE_ERRORS, one_line

#: the most bad jobs listed one by one; the rest are counted on one more line
MAX_LISTED = 20


def problem(overrides: Sequence[str]) -> str | None:
    """What is wrong with the configuration these overrides compose, on one line (None: all
    is well): an unknown key or option, a value out of range, a config file that is not
    valid YAML or not UTF-8 text."""
    try:
        compose(*overrides)
    except ConfigError as exc:
        return str(exc)
    except COMPOSE_ERRORS as exc:
        return one_line(exc)
    except yaml.YAMLError as exc:  # a config file that is not valid YAML
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.name}, line {mark.line + 1}: " if mark else ""
        return f"{where}{getattr(exc, 'problem', None) or exc}".replace("\n", " ")
    except UnicodeDecodeError as exc:  # a config file that is not UTF-8 text
        return f"a config file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
    except (ValueError, TypeError, KeyError) as exc:  # what Hydra raises for some bad files
        return one_line(exc)
    return None


def sweep_jobs(overrides: Sequence[str]) -> list[list[str]]:
    """The overrides of every job of the sweep that ``escalation-sim -m OVERRIDES`` starts,
    in job order (Hydra's own settings, but for ``hydra.searchpath``, left out).

    Raises Hydra's or the schema's exception when the sweep itself cannot be read (an
    unknown experiment, a sweep expression Hydra cannot parse).
    """
    single = [o for o in overrides if not _looks_swept(o)]
    params = compose_with_hydra_node(single).hydra.sweeper.params or {}
    lines = [f"{key}={value}" for key, value in params.items()] + list(overrides)
    parser = OverridesParser.create(config_loader=config_loader(single))
    parsed = [o for o in parser.parse_overrides(lines) if _is_model_setting(o)]
    for override in parsed:
        if override.is_sweep_override() and not list(override.sweep_string_iterator()):
            raise ConfigError(f"{override.input_line}: the sweep has no values")
    return BasicSweeper.split_arguments(parsed, None)[0]


def bad_jobs(jobs: Sequence[Sequence[str]]) -> Iterator[str]:
    """One line for each job whose configuration is bad: its number, its swept values and
    what is wrong."""
    swept = _swept_keys(jobs)
    composed: dict[tuple[str, ...], Any] = {}
    for number, job in enumerate(jobs):
        slow, fast = _split(job)
        key = tuple(slow)
        if key not in composed:
            composed[key] = problem(slow) or compose(*slow)
        base = composed[key]
        try:
            message = base if isinstance(base, str) else _with_numbers(base, fast)
        except _ComposeWithHydraError as exc:  # its problem does not depend on the others
            message = problem([*slow, exc.line]) or problem(job)
        if message is not None:
            values = " ".join(o for o in job if o.split("=", 1)[0] in swept) or "no swept values"
            yield f"sweep job {number} ({values}): {message}"


def check_sweep(overrides: Sequence[str]) -> list[str]:
    """Every problem of the sweep ``escalation-sim -m OVERRIDES``, one line each (empty: all
    jobs compose and validate); at most ``MAX_LISTED`` jobs, then how many more."""
    try:
        jobs = sweep_jobs(overrides)
    except ConfigError as exc:
        return [str(exc)]
    except (*COMPOSE_ERRORS, ValueError, TypeError, KeyError) as exc:
        return [one_line(exc)]
    lines = list(bad_jobs(jobs))
    if len(lines) > MAX_LISTED:
        more = len(lines) - MAX_LISTED
        lines = [*lines[:MAX_LISTED], f"... and {more} more bad jobs of {len(jobs)}"]
    return lines


def _looks_swept(line: str) -> bool:
    override = OverridesParser.create().parse_override(line)
    return override.is_sweep_override()


def _is_model_setting(override: Override) -> bool:
    key = override.key_or_group
    return key == "hydra.searchpath" or not key.startswith(("hydra.", "hydra/"))


def _swept_keys(jobs: Sequence[Sequence[str]]) -> set[str]:
    seen: dict[str, set[str]] = {}
    for job in jobs:
        for line in job:
            key, _, value = line.partition("=")
            seen.setdefault(key, set()).add(value)
    return {key for key, values in seen.items() if len(values) > 1}


_NUMBERS: dict[str, tuple[str, float] | None] = {}


def _number(line: str) -> tuple[str, float] | None:
    """``key=number`` as (key, number) when it may be set after composition, else None."""
    if line not in _NUMBERS:
        found = None
        key, _, text = line.partition("=")
        if key and not key.startswith(("+", "~")) and "/" not in key:
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                value = None
            if isinstance(value, int | float) and not isinstance(value, bool):
                found = (key, value)
        _NUMBERS[line] = found
    return _NUMBERS[line]


def _split(job: Sequence[str]) -> tuple[list[str], list[tuple[str, float]]]:
    """A job's overrides: those Hydra composes, and numbers set after composition."""
    slow, fast = [], []
    for line in job:
        number = _number(line)
        (fast.append(number) if number else slow.append(line))
    return slow, fast


class _ComposeWithHydraError(Exception):
    """A number that Hydra converts by its own rules: the job is composed by Hydra."""

    def __init__(self, key: str, value: float) -> None:
        super().__init__(f"{key}={value}")
        self.line = f"{key}={value}"


def _with_numbers(config, numbers: list[tuple[str, float]]) -> str | None:
    """Set the numbers on the composed configuration and validate it (the problem on one
    line, or None); the configuration is given back as it was."""
    before = []
    try:
        for key, value in numbers:
            current = set_number(config, key, value)
            if current is None:  # a number Hydra reads by its own rules: it says what it is
                raise _ComposeWithHydraError(key, value)
            before.append((key, current))
        validate(config)
    except ConfigError as exc:
        return str(exc)
    finally:
        for key, current in reversed(before):
            set_number(config, key, current)
    return None
