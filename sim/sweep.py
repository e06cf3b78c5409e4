"""Parameter sweeps: the plan of a multirun, one job's run, resume and failure bookkeeping.

Under ``escalation-sim -m ...`` every Hydra job runs :func:`run_job` in its own folder
``<sweep dir>/<job number>/``. A job ends by writing ``job.json`` (atomically, after its
data files), so a folder holds a finished job exactly when ``job.json`` says ``ok``:

- a job that raises is recorded as ``failed`` (``error.txt`` has the traceback) and the
  sweep goes on;
- a job whose folder already holds a finished result of the same resolved configuration
  (same hash, seed included) is skipped, which is how an interrupted sweep resumes;
- nothing depends on process-global state, so a job gives the same files under any
  launcher (batched, basic, joblib, submitit); under ``hydra/launcher=batched`` the job's
  results come computed, stepped together with other jobs (``sim.sweep_batches``), and
  are written here as the job's own.

The consolidated tables and figures are built from the job folders by ``sim.report``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError, to_config
from sim.engine import RunResult, run
from sim.errors import COMPOSE_ERRORS, one_line
from sim.io import write_json, write_run

#: written last in a job folder: the job's status, identity, parameters and headline
JOB_FILE = "job.json"
#: the traceback of a failed job
ERROR_FILE = "error.txt"
#: what Hydra writes at a sweep's root when the multirun starts
MULTIRUN_FILE = "multirun.yaml"
#: the plan in small form, written beside it at the start so that jobs need not parse it
PLAN_FILE = "sweep_plan.json"
#: the rung from which the headline counts an escalation (US strikes in Iraq, assaults)
HEADLINE_RUNG = 5
#: days per month, for attacks per month
DAYS_PER_MONTH = 365.25 / 12


class SweepError(ValueError):
    """A folder that is not a sweep, or a sweep that cannot be resumed (one-line message)."""


# --- the plan: which keys a multirun sweeps, over which values ----------------------------------


@dataclass(frozen=True)
class SweepPlan:
    """The swept override keys of a multirun, their values in order, and the job count."""

    values: dict[str, list[Any]]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def n_jobs(self) -> int:
        return math.prod(len(v) for v in self.values.values())

    @classmethod
    def from_hydra(cls, hydra_cfg: DictConfig) -> SweepPlan:
        """The plan of a multirun from its Hydra node: the experiment's ``sweeper.params``
        overridden by sweeps given on the command line (as Hydra's basic sweeper does)."""
        lines = {
            str(key): f"{key}={value}"
            for key, value in (OmegaConf.select(hydra_cfg, "sweeper.params") or {}).items()
        }
        parser = OverridesParser.create(config_loader=_current_config_loader())
        for override in parser.parse_overrides(list(hydra_cfg.overrides.task)):
            key = override.key_or_group
            if override.is_sweep_override():
                lines[key] = override.input_line
            else:
                lines.pop(key, None)  # a single value on the command line replaces a sweep
        values = {}
        for override in parser.parse_overrides(list(lines.values())):
            swept = override.is_sweep_override()  # else one value, given in an experiment
            values[override.key_or_group] = (
                list(override.sweep_iterator()) if swept else [override.value()]
            )
        return cls(values)

    @classmethod
    def read(cls, sweep_dir: Path) -> SweepPlan:
        """The plan of the sweep in ``sweep_dir``: from ``sweep_plan.json``, which the sweep
        writes as it starts (a job reads it in a millisecond), else from ``multirun.yaml``."""
        path = Path(sweep_dir) / MULTIRUN_FILE
        if not path.is_file():
            raise SweepError(f"{sweep_dir}: not a sweep folder (no {MULTIRUN_FILE})")
        plan = Path(sweep_dir) / PLAN_FILE
        try:
            if plan.is_file():
                values = json.loads(plan.read_text())
                if not isinstance(values, dict) or not all(
                    isinstance(v, list) for v in values.values()
                ):
                    raise ValueError("not a plan of swept values")
                return cls(values)
            return cls.from_hydra(OmegaConf.load(path).hydra)
        except SweepError:
            raise
        except Exception as exc:  # a damaged file: named in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            name = PLAN_FILE if plan.is_file() else MULTIRUN_FILE
            raise SweepError(f"{Path(sweep_dir) / name}: cannot be read ({first})") from None

    def write(self, sweep_dir: Path) -> None:
        """Save the plan as ``sweep_plan.json``."""
        write_json(self.values, Path(sweep_dir) / PLAN_FILE)

    def job_params(self, task_overrides: list[str]) -> dict[str, Any]:
        """The swept values of one job, from its own overrides (``.hydra/overrides.yaml``)."""
        parsed = OverridesParser.create().parse_overrides(list(task_overrides))
        return {o.key_or_group: o.value() for o in parsed if o.key_or_group in self.values}


def _current_config_loader():
    """The config loader of the Hydra run under way (it lists a group's options for a
    ``glob(...)`` sweep), or None outside one."""
    from hydra.core.global_hydra import GlobalHydra

    hydra = GlobalHydra.instance()
    return hydra.config_loader() if hydra.is_initialized() else None


def job_key(cfg: DictConfig) -> str:
    """SHA-256 of a job's resolved configuration (seed included): its identity on resume."""
    data = OmegaConf.to_container(cfg, resolve=True)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


# --- job records ----------------------------------------------------------------------------------


def read_job(job_dir: Path) -> dict[str, Any] | None:
    """A job folder's ``job.json`` (None when the job has not finished)."""
    path = Path(job_dir) / JOB_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def finished(record: dict[str, Any] | None) -> bool:
    """Whether a job record (:func:`read_job`) is that of a finished job, whose folder
    :func:`run_job` leaves as it is (skipped if it is the same job, left untouched if not)."""
    return record is not None and record.get("status") == "ok"


def job_dirs(sweep_dir: Path) -> list[Path]:
    """The job folders of a sweep (named by job number), in job order."""
    found = [p for p in Path(sweep_dir).iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(found, key=lambda p: int(p.name))


def headline(table, days: int) -> dict[str, float]:
    """What a progress line and the sweep figures lead with, from a replicate table."""
    return {
        "p_rung5": float((table["max_rung"] >= HEADLINE_RUNG).mean()),
        "attacks_per_month": float(table["attacks"].mean() * DAYS_PER_MONTH / max(days, 1)),
        "p_withdrawal": float((table["outcome"] == "withdrawal").mean()),
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_job(
    cfg: DictConfig,
    hydra_cfg: DictConfig,
    result: RunResult | None = None,
    batch_seconds: float = 0.0,
) -> dict[str, Any] | None:
    """Run one job of a multirun into its folder; never raise for the job's own failure.

    ``result`` is given when the job was run already, stepped together with others
    (``hydra/launcher=batched``): it is the job's own results and configuration, written as
    if the job had just run, and ``batch_seconds`` is its share of the batch's time.

    Returns the job record written (None when the job was skipped or refused).
    """
    out_dir = Path(hydra_cfg.runtime.output_dir)
    sweep_dir = Path(hydra_cfg.sweep.dir)
    plan = SweepPlan.read(sweep_dir)
    task = list(hydra_cfg.overrides.task)
    record: dict[str, Any] = {
        "job": int(hydra_cfg.job.num),
        "key": job_key(cfg),
        "params": plan.job_params(task),
        "overrides": task,
    }
    label = " ".join(f"{k}={v}" for k, v in record["params"].items()) or "(no swept values)"
    previous = read_job(out_dir)
    if finished(previous):
        if previous.get("key") == record["key"]:
            print(f"[job {record['job']}] {label}: finished before, skipped", flush=True)
            return None
        print(
            f"[job {record['job']}] {out_dir}: holds the results of a different configuration; "
            "left untouched (resume only with the command that started the sweep)",
            flush=True,
        )
        return None
    (out_dir / ERROR_FILE).unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        if result is None:
            result = run(to_config(cfg))
        config = result.config
        write_run(result, out_dir, figures=config.output.figures, ensemble=True)
        table = result.replicates
        record.update(
            status="ok", replicates=len(table), days=config.days, **headline(table, config.days)
        )
        outcome = (
            f"rung {HEADLINE_RUNG}+ {record['p_rung5']:.0%}, "
            f"{record['attacks_per_month']:.1f} attacks/month, "
            f"withdrawal {record['p_withdrawal']:.0%}"
        )
    except Exception as exc:  # the job fails, the sweep goes on
        (out_dir / ERROR_FILE).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / ERROR_FILE).write_text(traceback.format_exc())
        record.update(status="failed", error=_first_line(exc))
        outcome = f"FAILED ({record['error']}; see {ERROR_FILE})"
    record["seconds"] = round(time.perf_counter() - started + batch_seconds, 3)
    record["finished"] = _now()
    write_json(record, out_dir / JOB_FILE)
    print(f"{_progress(sweep_dir, plan)} {label}: {outcome}", flush=True)
    return record


def record_refused_job(
    sweep_dir: Path, job_dir: Path, number: int, overrides: list[str], exc: BaseException
) -> dict[str, Any]:
    """Record a job whose configuration could not be composed as failed (``job.json`` with
    its error in one line, the traceback in ``error.txt``), as :func:`run_job` records a
    job that raises: a launcher calls it and goes on with the other jobs."""
    plan = SweepPlan.read(sweep_dir)
    if isinstance(exc, ConfigError):
        error = str(exc)
    elif isinstance(exc, COMPOSE_ERRORS):
        error = one_line(exc)
    else:
        error = _first_line(exc)
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    (job_dir / ERROR_FILE).write_text(trace)
    record = {
        "job": number,
        "key": None,
        "params": plan.job_params(overrides),
        "overrides": list(overrides),
        "status": "failed",
        "error": error,
        "seconds": 0.0,
        "finished": _now(),
    }
    write_json(record, job_dir / JOB_FILE)
    label = " ".join(f"{k}={v}" for k, v in record["params"].items()) or "(no swept values)"
    print(f"{_progress(sweep_dir, plan)} {label}: FAILED ({error}; see {ERROR_FILE})", flush=True)
    return record


def _progress(sweep_dir: Path, plan: SweepPlan) -> str:
    """``[done/total, about N s left]`` from the job records on disk (works across processes)."""
    start_file = sweep_dir / MULTIRUN_FILE
    started = start_file.stat().st_mtime if start_file.exists() else time.time()
    done = now_done = 0
    for path in _job_files(sweep_dir):
        done += 1
        if path.stat().st_mtime >= started:
            now_done += 1
    total = max(plan.n_jobs, done)
    left = ""
    if now_done and total > done:
        seconds = (time.time() - started) / now_done * (total - done)
        left = f", about {_duration(seconds)} left"
    return f"[{done}/{total}{left}]"


def _job_files(sweep_dir: Path) -> Iterator[Path]:
    for job_dir in job_dirs(sweep_dir):
        path = job_dir / JOB_FILE
        if path.exists():
            yield path


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
