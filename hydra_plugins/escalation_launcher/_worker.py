"""The worker's side of ``hydra/launcher=joblib_batched``: a batch of jobs, with the config
files parsed once per launch (:mod:`sim.parsed_configs`).

Hydra's plugin scan skips modules whose name starts with an underscore, so this one is
imported once in a worker (the scan, which Hydra runs again whenever a worker restores its
global state, would run a plugin module anew).
"""

import _thread
import copy
import os
import threading
import time
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, run_job, setup_globals
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

from sim.parsed_configs import parse_once


def run_batch(
    jobs: list[tuple[int, list[str]]],
    hydra_context: HydraContext,
    config: DictConfig,
    task_function: TaskFunction,
    singleton_state: dict[Any, Any],
    launch_id: str,
) -> list[JobReturn]:
    """Run a batch of jobs in a worker, each as the joblib launcher runs one job."""
    watch_parent()
    setup_globals()
    Singleton.set_state(singleton_state)
    loader = hydra_context.config_loader
    parse_once(loader, launch_id)
    returns = []
    for idx, overrides in jobs:
        try:
            sweep_config = loader.load_sweep_config(config, overrides)
        except Exception as exc:  # recorded as failed; the batch's other jobs run
            returns.append(_refused(config, idx, list(overrides), exc))
            continue
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
            sweep_config.hydra.job.num = idx
        HydraConfig.instance().set_config(sweep_config)
        returns.append(
            run_job(
                hydra_context=hydra_context,
                config=sweep_config,
                task_function=task_function,
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
            )
        )
    return returns


def _refused(config: DictConfig, idx: int, overrides: list[str], exc: Exception) -> JobReturn:
    """A job whose configuration could not be composed, recorded as failed (sim.sweep)."""
    from pathlib import Path

    from sim.sweep import record_refused_job

    job_config = copy.deepcopy(config)
    with open_dict(job_config):
        job_config.hydra.job.num = idx
        job_config.hydra.job.id = idx
    sweep_dir = Path(str(job_config.hydra.sweep.dir))
    job_dir = sweep_dir / str(job_config.hydra.sweep.subdir)
    record_refused_job(sweep_dir, job_dir, idx, overrides, exc)
    return JobReturn(overrides=overrides, status=JobStatus.COMPLETED)


#: seconds between two looks at whether the process that started the workers still lives
PARENT_POLL_SECONDS = 1.0
#: seconds a worker whose parent died has to stop its job cleanly before it exits
STOP_GRACE_SECONDS = 2.0
_watching = {"parent": None}


def watch_parent() -> None:
    """End this worker when the sweep's process dies (killed, even with SIGKILL).

    A thread polls the parent's process id: when the worker has been handed over to
    another parent, it interrupts the running job as Ctrl-C would (its temporary files
    are removed on the way out), then exits the worker. Started once per worker.
    """
    if _watching["parent"] is not None:
        return
    _watching["parent"] = parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        _thread.interrupt_main()
        time.sleep(STOP_GRACE_SECONDS)
        os._exit(143)

    threading.Thread(target=watch, name="escalation-parent-watch", daemon=True).start()
