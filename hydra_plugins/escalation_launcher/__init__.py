"""escalation-sim's local launcher: Hydra's joblib launcher, handing jobs over in batches.

``hydra/launcher=joblib_batched`` takes every option of ``hydra/launcher=joblib`` (``n_jobs``
and the rest) and runs each job exactly as that launcher does (its configuration composed
from the config files with the job's overrides, ``.hydra/`` saved, Hydra's job callbacks),
with two differences that remove most of Hydra's work around a short job:

- a worker receives a batch of jobs (``jobs_per_task``) at a time, so the launch context
  (the config loader, the sweep's configuration, Hydra's global state) is pickled, sent
  and restored once per batch instead of once per job;
- within one launch, a worker reads and parses each config file once and composes every
  later job from the parsed copy. The files are read afresh at every launch, so an edit
  between two sweeps is seen, but an edit in the middle of a sweep is not.

The batches are as even as possible and their number a multiple of the worker count, so
that the workers finish together.

The package's other launcher, ``hydra/launcher=batched`` (``batched.py``), is the default of
``escalation-sim -m``: it steps jobs together in one process instead.
"""

# No ``from __future__ import annotations``: Hydra's plugin scan imports this module without
# registering it in sys.modules, where dataclasses look up string annotations.
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, filter_overrides
from hydra.errors import CompactHydraException
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from joblib import Parallel, delayed, effective_n_jobs

from hydra_plugins.escalation_launcher._launch import start_launch

log = logging.getLogger(__name__)

#: at most this many jobs per batch when ``jobs_per_task`` is left to the launcher: enough to
#: pay the hand-over once for many jobs, few enough that the last batches end together
MAX_AUTO_JOBS_PER_TASK = 8
#: joblib options given as text that joblib wants as numbers (as the joblib launcher does)
_INT_OPTIONS = ("pre_dispatch", "batch_size", "max_nbytes")


@dataclass
class BatchedJoblibLauncherConf(JobLibLauncherConf):
    """``hydra/launcher=joblib_batched``: the joblib launcher's options, and the batch size."""

    _target_: str = "hydra_plugins.escalation_launcher.BatchedJoblibLauncher"
    # jobs handed to a worker at a time; null: at most MAX_AUTO_JOBS_PER_TASK (8), in as
    # many batches for each worker
    jobs_per_task: Optional[int] = None  # noqa: UP045 (OmegaConf reads Optional)


ConfigStore.instance().store(
    group="hydra/launcher",
    name="joblib_batched",
    node=BatchedJoblibLauncherConf,
    provider="escalation-sim",
)


def batches(n_jobs: int, workers: int, jobs_per_task: int | None = None) -> list[range]:
    """Consecutive job indices split into batches whose sizes differ by at most one.

    With ``jobs_per_task`` the batches hold that many jobs (fewer, evened out, for the
    last ones); without it, the number of batches is a multiple of ``workers`` and a
    batch holds at most ``MAX_AUTO_JOBS_PER_TASK`` jobs.
    """
    if n_jobs <= 0:
        return []
    if jobs_per_task is not None:
        if jobs_per_task < 1:
            raise ValueError(f"hydra.launcher.jobs_per_task = {jobs_per_task}: must be >= 1")
        count = math.ceil(n_jobs / jobs_per_task)
    else:
        workers = max(1, workers)
        count = workers * math.ceil(n_jobs / (workers * MAX_AUTO_JOBS_PER_TASK))
        count = min(count, n_jobs)
    size, extra = divmod(n_jobs, count)
    bounds = [0]
    for i in range(count):
        bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    return [range(lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False)]


class BatchedJoblibLauncher(JoblibLauncher):
    """The joblib launcher, sending jobs to its workers in batches (see the module)."""

    def __init__(self, jobs_per_task: int | None = None, **joblib_options: Any) -> None:
        super().__init__(**joblib_options)
        self.jobs_per_task = jobs_per_task

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        sweep_dir = start_launch(self)

        # loky, as in the joblib launcher: Hydra's global state rules out threads
        options = {**self.joblib, "backend": "loky"}
        for key in _INT_OPTIONS:
            value = options.get(key)
            if isinstance(value, str) and value.isdigit():
                options[key] = int(value)
        workers = effective_n_jobs(options.get("n_jobs", -1))
        jobs = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
        try:
            parts = batches(len(jobs), workers, self.jobs_per_task)
        except ValueError as exc:  # Hydra prints a compact error as its message alone
            raise CompactHydraException(str(exc)) from None
        tasks = [[jobs[i] for i in part] for part in parts]
        log.info(
            f"Joblib.Parallel({','.join(f'{k}={v}' for k, v in options.items())}) is launching "
            f"{len(jobs)} jobs in {len(tasks)} batches"
        )
        log.info(f"Launching jobs, sweep output dir : {sweep_dir}")
        for idx, overrides in jobs:
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")

        # Hydra's plugin scan runs this module again in every worker; what must last for the
        # whole launch in a worker lives in _worker, which the scan skips
        from . import _worker

        launch_id = uuid.uuid4().hex  # the scope of the workers' parsed config files
        state = Singleton.get_state()
        returns = Parallel(**options)(
            delayed(_worker.run_batch)(
                task, self.hydra_context, self.config, self.task_function, state, launch_id
            )
            for task in tasks
        )
        return [ret for batch in returns for ret in batch]
