"""What the analysis commands share: their common options, the checked plan of a design,
running it in one process with a progress bar, and the results folder.

Every check runs before the simulation and before the results folder exists, so a command
given bad input writes nothing (one line on stderr, exit status 2: :func:`sim.errors.fail`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sim.config import BaseConfig, ConfigError, compose
from sim.design import DesignPlan, DesignResult, plan_design
from sim.errors import COMPOSE_ERRORS, fail, one_line
from sim.folders import FolderError, check_writable, claim_or_fail

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


def add_parameter_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """``--param PATH=LOW:HIGH[:log]`` (repeatable) and ``--parameters FILE``; ``default``
    says what is varied when neither is given."""
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH[:log]",
        help="a parameter and its range (repeatable); replaces --parameters",
    )
    parser.add_argument(
        "--parameters",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"a YAML list of parameters and ranges (default: {default})",
    )


def parameters_of(args: argparse.Namespace) -> list[str] | Path | None:
    """The parameters an analysis command was given: ``--param`` items, or a file."""
    if args.param and args.parameters is not None:
        raise ConfigError("give --param or --parameters, not both")
    return args.param or args.parameters


def run_command[P, R](
    prog: str,
    args: argparse.Namespace,
    kind: str,
    prepare: Callable[[], P],
    execute: Callable[[P, bool], R],
    write: Callable[[R, Path], None],
    summary: Callable[[R], str],
) -> None:
    """An analysis command from its parsed options: check everything (one line, exit 2,
    nothing written), then run and write in a folder of its own (``results/<kind>/...`` or
    ``--out``), which a failure or a stop leaves as it found it, then print the summary.
    ``P`` is the command's checked input, ``R`` its result."""
    try:
        prepared = prepare()
        out = results_folder(args.out, kind)
    except INPUT_ERRORS as exc:
        fail_on_bad_input(prog, exc)
    with claim_or_fail(prog, out, "--out") as claim:
        result = execute(prepared, args.quiet)
        write(result, out)
        claim.keep()
    if not args.quiet:
        print(summary(result))
        print(f"Results: {out}")


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
