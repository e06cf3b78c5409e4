"""Checking every point of a sweep before any job starts (``escalation-sim -m``).

A sweep's jobs are the combinations of its values: those of the experiment file's
``hydra.sweeper.params`` and of the command line, combined as Hydra's basic sweeper
combines them (:meth:`BasicSweeper.split_arguments`, so the job numbers are the sweep's
own). Every job is composed and validated here, in one pass, and every bad job is
reported, one line each, before Hydra creates a folder.

Each job is composed by :func:`sim.config.compose`, which keeps what each choice of
config groups composes: jobs that differ only in settings (numbers, switches, strings)
cost a copy and a validation each, not a composition by Hydra.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import yaml
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override

from sim.config import (
    ConfigError,
    compose,
    compose_with_hydra_node,
    config_loader,
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
    for number, job in enumerate(jobs):
        message = problem(job)
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
