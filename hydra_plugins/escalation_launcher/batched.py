"""``hydra/launcher=batched``: escalation-sim's launcher for sweeps, stepping jobs together.

The default launcher of ``escalation-sim -m``. Every job is composed and run by Hydra as
under the basic launcher (its own configuration, its ``.hydra/`` files, Hydra's job
callbacks, one after another in this process), except that the jobs that differ only in
swept numbers and config groups are first stepped together in parameter-batched ensembles
(``sim.sweep_batches``, through ``sim.design.plan_design``): each batch is one simulation
holding one run per job, and each job then writes the results it would get alone.

- A job whose folder holds a finished job is not stepped, and is skipped (or left
  untouched) as under any launcher (``sim.sweep.run_job``).
- Jobs that cannot join a batch (another seed, number of days or replicates, scenario,
  or any value that is not a number), jobs whose configuration fails, and the jobs of a
  batch that raises (those it has not written yet) run alone, each recording its own
  failure.
- A batch's jobs are written when the batch ends, in job order; the other jobs after them.

``hydra.launcher.batch_replicates`` (default 2,000) bounds the replicates stepped
together, and so the memory a batch holds.
"""

# No ``from __future__ import annotations``: Hydra's plugin scan imports this module without
# registering it in sys.modules first, where dataclasses look up string annotations.
import copy
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Optional

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job
from hydra.errors import CompactHydraException
from hydra.initialize import get_gh_backup, restore_gh_from_backup
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict, read_write

from hydra_plugins.escalation_launcher._launch import start_launch
from sim.config import ConfigError, to_config
from sim.engine import RunResult
from sim.parsed_configs import parse_once
from sim.sweep import SweepPlan, finished, read_job, record_refused_job
from sim.sweep import run_job as write_job_results
from sim.sweep_batches import BATCH_REPLICATES, Job, JobBatch, check_batch_replicates, plan_batches

log = logging.getLogger(__name__)


@dataclass
class BatchedLauncherConf:
    """``hydra/launcher=batched``: how many replicates are stepped together at most."""

    _target_: str = "hydra_plugins.escalation_launcher.batched.BatchedLauncher"
    # replicates stepped together at most (jobs x replicates per job); the memory of a
    # batch grows with it: 2,000 replicates of 365 days add about 330 MB
    batch_replicates: int = BATCH_REPLICATES


ConfigStore.instance().store(
    group="hydra/launcher",
    name="batched",
    node=BatchedLauncherConf,
    provider="escalation-sim",
)


class BatchedLauncher(Launcher):
    """Hydra's basic launcher, stepping together the jobs that can be (see the module)."""

    def __init__(self, batch_replicates: int = BATCH_REPLICATES) -> None:
        try:  # escalation-sim checks it before Hydra starts; this is for other callers
            self.batch_replicates = check_batch_replicates(batch_replicates)
        except ConfigError as exc:  # Hydra prints a compact error as its message alone
            raise CompactHydraException(str(exc)) from None
        self.config: Optional[DictConfig] = None  # noqa: UP045 (as Hydra's own launchers)
        self.task_function: Optional[TaskFunction] = None  # noqa: UP045
        self.hydra_context: Optional[HydraContext] = None  # noqa: UP045

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        sweep_dir = start_launch(self)
        log.info(f"Launching {len(job_overrides)} jobs locally, stepping together those that can")
        # each config file parsed once in this launch, not once per job (files edited since
        # an earlier launch are read again)
        parse_once(self.hydra_context.config_loader, uuid.uuid4().hex)
        configs = {}
        returns: dict[int, JobReturn] = {}
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            try:
                configs[idx] = self._compose(idx, list(overrides))
            except Exception as exc:  # recorded as failed; the other jobs run
                job_dir = sweep_dir / str(self._subdir(idx))
                record_refused_job(sweep_dir, job_dir, idx, list(overrides), exc)
                returns[idx] = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
        batches = self._plan(configs, SweepPlan.read(sweep_dir).keys)
        for number, batch in enumerate(batches, start=1):
            started = time.perf_counter()
            share = None  # of the batch's time, for each job's record
            try:
                for job, result in batch.run():
                    if share is None:
                        seconds = time.perf_counter() - started
                        share = seconds / len(batch.jobs)
                        log.info(
                            f"Batch {number} of {len(batches)}: {len(batch.jobs)} jobs x "
                            f"{batch.replicates} replicates stepped together in {seconds:.1f} s"
                        )
                    task = partial(_write_job, result=result, batch_seconds=share)
                    returns[job.number] = self._run(configs[job.number], task)
            except Exception as exc:  # the jobs not written run alone, each on its own
                log.warning(f"Batch {number} of {len(batches)} failed ({exc}); its jobs run alone")
        for idx, config in configs.items():
            if idx not in returns:
                returns[idx] = self._run(config, self.task_function)
        return [returns[idx] for idx in sorted(returns)]

    def _subdir(self, idx: int) -> str:
        """A job's folder under the sweep's (``hydra.sweep.subdir``, the job's number)."""
        assert self.config is not None
        config = copy.deepcopy(self.config)
        with open_dict(config):
            config.hydra.job.num = idx
            config.hydra.job.id = idx
        return str(config.hydra.sweep.subdir)

    def _compose(self, idx: int, overrides: list[str]) -> DictConfig:
        """A job's configuration, with its Hydra node, as the basic launcher composes it."""
        assert self.hydra_context is not None and self.config is not None
        config = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(config):
            config.hydra.job.id = idx
            config.hydra.job.num = idx
        return config

    def _plan(self, configs: dict[int, DictConfig], swept: Sequence[str]) -> list[JobBatch]:
        """The batches of jobs to step together (``sim.sweep_batches.plan_batches``)."""
        jobs = [job for idx, config in configs.items() if (job := _job(idx, config)) is not None]
        if len(jobs) < 2:
            return []
        searchpath = [
            line
            for line in next(iter(configs.values())).hydra.overrides.hydra
            if line.startswith("hydra.searchpath=")
        ]
        backup = get_gh_backup()  # a design composes with Hydra's compose API, which resets it
        try:
            batches, _ = plan_batches(jobs, swept, searchpath, self.batch_replicates)
        finally:
            restore_gh_from_backup(backup)
        return batches

    def _run(self, config: DictConfig, task_function: TaskFunction) -> JobReturn:
        """Run one job as Hydra runs it: its folder, ``.hydra/``, callbacks, the task."""
        assert self.hydra_context is not None and self.config is not None
        ret = run_job(
            hydra_context=self.hydra_context,
            task_function=task_function,
            config=config,
            job_dir_key="hydra.sweep.dir",
            job_subdir_key="hydra.sweep.subdir",
        )
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return ret


def _job(idx: int, config: DictConfig) -> Optional[Job]:  # noqa: UP045
    """A job that may be stepped with others, or None: its folder holds a finished job, or
    its configuration fails (it then runs alone, and records its failure)."""
    job_dir = Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)
    if finished(read_job(job_dir)):
        return None
    task_cfg = copy.deepcopy(config)
    with read_write(task_cfg), open_dict(task_cfg):
        del task_cfg["hydra"]  # what the job's task receives, as Hydra's run_job gives it
    try:
        return Job(idx, list(config.hydra.overrides.task), to_config(task_cfg))
    except Exception:
        return None


def _write_job(cfg: DictConfig, result: RunResult, batch_seconds: float) -> None:
    """The task of a job stepped in a batch: write its results into its folder, as
    escalation-sim's task does after running a job (``sim.sweep.run_job``)."""
    write_job_results(cfg, HydraConfig.get(), result=result, batch_seconds=batch_seconds)
