"""A sweep's jobs stepped together as parameter-batched ensembles (``hydra/launcher=batched``).

The jobs of a multirun that differ only in swept config groups (``doctrine/us``) and swept
numbers are the points of a design (:mod:`sim.design`): :func:`sim.design.plan_design`
groups them into batches whose configurations differ only in values that may vary by
replicate, and each batch of jobs is stepped as one :class:`~sim.engine.Simulation` holding
one run per job. Replicate k of a job draws the same numbers there as alone, and each run
keeps its own event sample and daily quantiles, so every job gets the results it would get
alone (``Simulation.results``).

Jobs are first grouped by what a design holds for all its points: their other overrides
(seed, days, replicates, the scenario or experiment, output settings, any value that is
not a number). A job joins a batch only if the batch runs its own configuration, checked
parameter by parameter (``sim.design.runs_as``). The jobs left out run alone, as under
any other launcher (``sim.sweep.run_job``), and so do, in the launcher, jobs whose folder
holds a finished job and jobs whose configuration fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType

from sim.config import BaseConfig, ConfigError, numeric_leaf
from sim.design import plan_design, runs_as, simulate_points
from sim.engine import RunResult
from sim.errors import COMPOSE_ERRORS

#: the run's seed, length and size: a design holds them for all its points, so only jobs
#: that share them are stepped together
RUN_SETTINGS = ("seed", "days", "replicates")
#: replicates stepped together at most (jobs x replicates per job). Each job keeps the
#: daily series and events of its sample (``output.event_sample``, 100 replicates by
#: default), so a batch of 2,000 replicates x 365 days adds about 330 MB to the process;
#: larger batches are hardly faster per replicate-day.
BATCH_REPLICATES = 2_000
#: the launcher's option that sets it
BATCH_REPLICATES_KEY = "hydra.launcher.batch_replicates"


def check_batch_replicates(value: Any) -> int:
    """``hydra.launcher.batch_replicates`` as given, if it is a whole number >= 1; else a
    one-line ConfigError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{BATCH_REPLICATES_KEY} = {value}: must be a whole number >= 1")
    return value


@dataclass
class Job:
    """A job of a multirun: its number, its own overrides and its configuration."""

    number: int
    overrides: list[str]  # as Hydra gives them (``hydra.overrides.task``)
    config: BaseConfig


@dataclass
class JobBatch:
    """Jobs stepped together: the points at ``positions`` of a design's batch, one job each."""

    jobs: list[Job]
    batch: Any  # one of plan_design's batches, with the jobs' output settings
    positions: list[int]
    replicates: int

    def run(self) -> Iterator[tuple[Job, RunResult]]:
        """Step the jobs together, then give each job with its results as alone (and its
        own configuration), one job at a time: write each before taking the next."""
        simulation = simulate_points(
            self.batch, self.positions, self.replicates, runs=len(self.jobs)
        )
        while not simulation.done:
            simulation.step()
        for job, result in zip(self.jobs, simulation.results(), strict=True):
            yield job, dataclasses.replace(result, config=job.config)


def plan_batches(
    jobs: Sequence[Job],
    swept: Collection[str],
    overrides: Sequence[str] = (),
    batch_replicates: int = BATCH_REPLICATES,
) -> tuple[list[JobBatch], list[Job]]:
    """The jobs that can be stepped together, in batches of at most ``batch_replicates``
    replicates (of two jobs or more), and the jobs to run alone.

    Args:
        jobs: the jobs of a multirun that are to run.
        swept: the swept keys (``SweepPlan.keys``); a job's values of swept config groups
            and numbers are its design cells.
        overrides: overrides every job was composed with besides its own
            (``hydra.searchpath``).
        batch_replicates: replicates stepped together at most.
    """
    groups: dict[tuple, list[tuple[Job, dict[str, Any]]]] = {}
    parser = OverridesParser.create()
    for job in jobs:
        shared, cells = _design_cells(job, swept, parser)
        groups.setdefault((shared, tuple(cells)), []).append((job, cells))
    batches: list[JobBatch] = []
    alone: list[Job] = []
    for (shared, _), members in groups.items():
        found, rest = _batches_of(members, [*shared, *overrides], batch_replicates)
        batches += found
        alone += rest
    alone.sort(key=lambda job: job.number)
    return batches, alone


def _design_cells(
    job: Job, swept: Collection[str], parser: OverridesParser
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """A job's overrides split into its design cells (swept config groups and numbers, by
    key) and the others, which the jobs of one design share."""
    shared: list[str] = []
    cells: dict[str, Any] = {}
    for line, override in zip(job.overrides, parser.parse_overrides(job.overrides), strict=True):
        if override.key_or_group in swept and _is_cell(override, job.config):
            cells[override.key_or_group] = override.value()
        else:
            shared.append(line)
    return tuple(shared), cells


def _is_cell(override: Override, config: BaseConfig) -> bool:
    """Whether a design can take ``override`` as a column: a config group's option
    (``doctrine/iran=revenge``) or a number of the configuration, set plainly (not added,
    deleted or placed in another package), other than the run's settings."""
    if override.type != OverrideType.CHANGE or override.package is not None:
        return False
    key, value = override.key_or_group, override.value()
    if "/" in key:
        return isinstance(value, str)
    if key in RUN_SETTINGS or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        numeric_leaf(config, key)
    except ConfigError:
        return False
    return True


def _batches_of(
    members: list[tuple[Job, dict[str, Any]]], overrides: list[str], batch_replicates: int
) -> tuple[list[JobBatch], list[Job]]:
    """The batches of jobs that share ``overrides`` and differ in the values of the same
    design cells, and those of the jobs to run alone."""
    jobs = [job for job, _ in members]
    if len(jobs) < 2 or not members[0][1]:  # one job, or no design cells
        return [], jobs
    try:
        plan = plan_design(pd.DataFrame([cells for _, cells in members]), *overrides)
    except (ConfigError, *COMPOSE_ERRORS):
        return [], jobs  # each job runs alone and meets its own error, if any
    size = max(1, batch_replicates // plan.replicates)
    batches: list[JobBatch] = []
    alone: list[Job] = []
    for batch in plan.batches:
        # the runs write the jobs' files: the output settings are the jobs' own
        first = jobs[batch.points[0]].config
        batch = dataclasses.replace(
            batch, config=dataclasses.replace(batch.config, output=first.output)
        )
        together = []
        for position, point in enumerate(batch.points):
            if runs_as(batch, position, jobs[point].config):
                together.append(position)
            else:
                alone.append(jobs[point])
        for start in range(0, len(together), size):
            positions = together[start : start + size]
            chosen = [jobs[batch.points[k]] for k in positions]
            if len(chosen) < 2:
                alone += chosen
            else:
                batches.append(JobBatch(chosen, batch, positions, plan.replicates))
    return batches, alone
