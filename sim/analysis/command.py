"""What the analysis commands share: their common options, the checked plan of a design,
running it in one process with a progress bar, and the results folder.

Every check runs before the simulation and before the results folder exists, so a command
given bad input writes nothing (one line on stderr, exit status 2: :func:`sim.errors.fail`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sim.config import BaseConfig, ConfigError, compose
from sim.design import DesignPlan, DesignResult, plan_design
from sim.errors import COMPOSE_ERRORS, fail, one_line
from sim.folders import FolderError, check_writable

#: settings every analysis run adds: a design keeps each replicate's counts, no events or
#: figures of single runs
QUIET_RUNS = ("output.events=none", "output.figures=false")


def add_common_arguments(parser: argparse.ArgumentParser, replicates: int) -> None:
    """The options every analysis command takes: overrides, replicates, output folder."""
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="OVERRIDE",
        help="settings for every point, as on the escalation-sim command line (key=value)",
    )
    parser.add_argument(
        "--replicates",
        type=int,
        default=replicates,
        help=f"replicates per point, on common random numbers (default {replicates})",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the results")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def check_count(name: str, value: int, least: int = 1) -> None:
    """A ConfigError unless ``value`` is a whole number >= ``least``."""
    if value < least:
        raise ConfigError(f"{name} = {value}: must be a whole number >= {least}")


def base_config(overrides: Sequence[str], replicates: int) -> BaseConfig:
    """The configuration every point starts from."""
    return compose(*overrides, f"replicates={replicates}", *QUIET_RUNS)


def results_folder(out: Path | None, kind: str) -> Path:
    """``out``, or ``results/<kind>/<date>/<time>-<id>``, checked writable (not created)."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d/%H-%M-%S")
    folder = out or Path("results") / kind / f"{stamp}-{uuid.uuid4().hex[:6]}"
    check_writable(folder, "--out")
    return folder


def plan(design: pd.DataFrame, overrides: Sequence[str], replicates: int, where: str) -> DesignPlan:
    """The checked plan of ``design`` (ConfigError before anything runs)."""
    return plan_design(
        design,
        *overrides,
        f"replicates={replicates}",
        *QUIET_RUNS,
        replicates=replicates,
        where=where,
    )


def run_plan(design_plan: DesignPlan, label: str, quiet: bool) -> DesignResult:
    """Run every point of a planned design in this process, with a progress bar on stderr."""
    total = len(design_plan.points)
    with tqdm(total=total, unit="point", desc=label, disable=quiet) as bar:
        return design_plan.run(lambda done: bar.update(done - bar.n))


def fail_on_bad_input(prog: str, exc: Exception) -> None:
    """Exit with the one-line message of a configuration error (status 2)."""
    if isinstance(exc, ConfigError):
        fail(prog, str(exc))
    fail(prog, one_line(exc))


#: what checking a command's input may raise
INPUT_ERRORS = (ConfigError, FolderError, *COMPOSE_ERRORS)
