"""escalation-sim's Hydra sweeper (Hydra finds plugins only in the ``hydra_plugins`` namespace).

``hydra/sweeper=jobs_checked_once`` (the project's default) is Hydra's basic sweeper without
the serial composition of every job before the launch: the launcher composes each job
anyway (in parallel under joblib, on the nodes of a cluster), ``escalation-sim`` checks
every job of a sweep before it starts (``sim.sweep_check``), and a job whose configuration
fails is recorded as failed (``sim.sweep.run_job``, ``sim.sweep.record_refused_job``).
For 1,000 jobs this saves minutes of serial work.

Under Hydra's basic launcher, which runs one job after another anyway, the jobs are handed
to it one at a time, so that a job whose configuration cannot be composed is recorded as
failed and the others run (this package's launchers do the same themselves), and each
config file is parsed once in the sweep, not once per job (:mod:`sim.parsed_configs`).
"""

import copy
import uuid
from pathlib import Path

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import open_dict

from sim.parsed_configs import parse_once


class Sweeper(BasicSweeper):
    """Hydra's basic sweeper, composing each job once (in the launcher)."""

    def validate_batch_is_legal(self, batch) -> None:
        return None

    def setup(self, *, hydra_context, task_function, config) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        if type(self.launcher) is BasicLauncher:
            self.launcher = OneJobAtATime(self.launcher)
            parse_once(hydra_context.config_loader, uuid.uuid4().hex)


class OneJobAtATime:
    """Hydra's basic launcher, given one job at a time: a job whose configuration cannot be
    composed is recorded as failed, and the sweep goes on."""

    def __init__(self, launcher: BasicLauncher) -> None:
        self.launcher = launcher

    def launch(self, job_overrides, initial_job_idx: int) -> list[JobReturn]:
        from sim.sweep import record_refused_job

        returns = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            try:
                returns += self.launcher.launch([overrides], initial_job_idx=idx)
            except Exception as exc:
                config = copy.deepcopy(self.launcher.config)
                with open_dict(config):
                    config.hydra.job.num = idx
                    config.hydra.job.id = idx
                sweep_dir = Path(str(config.hydra.sweep.dir))
                job_dir = sweep_dir / str(config.hydra.sweep.subdir)
                record_refused_job(sweep_dir, job_dir, idx, list(overrides), exc)
                returns.append(JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED))
        return returns
