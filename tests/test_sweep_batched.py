"""Sweeps under ``hydra/launcher=batched`` (the default of ``escalation-sim -m``): jobs
stepped together write what each job writes alone under the basic launcher; which jobs
share a batch; resume and a batch that fails."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim import cli
from sim.engine import Simulation, run
from sim.sweep import JOB_FILE
from sim.sweep_batches import Job, JobBatch, plan_batches

BIN = Path(sys.executable).parent
#: files a job writes whose every byte is the same under any launcher
SAME_TEXT = ("summary.json", ".hydra/config.yaml", ".hydra/overrides.yaml")
#: what differs from one launch to the next in job.json
TIMINGS = ("seconds", "finished")


def escalation_sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [str(BIN / "escalation-sim"), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def job_files(job_dir: Path) -> list[str]:
    return sorted(p.relative_to(job_dir).as_posix() for p in job_dir.rglob("*") if p.is_file())


def record(job_dir: Path) -> dict:
    data = json.loads((job_dir / JOB_FILE).read_text())
    return {key: value for key, value in data.items() if key not in TIMINGS}


def assert_same_jobs(batched: Path, basic: Path, jobs: int) -> None:
    """Each job folder holds the same files with the same data under both launchers."""
    for job in map(str, range(jobs)):
        assert job_files(batched / job) == job_files(basic / job)
        for name in job_files(basic / job):
            if name.endswith(".parquet"):
                pd.testing.assert_frame_equal(
                    pd.read_parquet(batched / job / name),
                    pd.read_parquet(basic / job / name),
                    check_exact=True,
                )
        for name in SAME_TEXT:
            assert (batched / job / name).read_text() == (basic / job / name).read_text(), name
        assert record(batched / job) == record(basic / job)
    pd.testing.assert_frame_equal(
        pd.read_parquet(batched / "sweep.parquet"), pd.read_parquet(basic / "sweep.parquet")
    )
    summaries = [pd.read_csv(folder / "sweep_summary.csv").drop(columns="seconds")
                 for folder in (batched, basic)]  # fmt: skip
    pd.testing.assert_frame_equal(*summaries)


# --- stepped together, each job as alone ---------------------------------------------------

#: small sweeps of 2 x 2 jobs: two numbers, and a config group with a number; 6 replicates of
#: which the first 4 keep their events and daily series (each job its own 4)
SWEEPS = {
    "numbers": ["doctrine.us.response_lag_days=0,4", "doctrine.iran.green_light=0.2,0.6"],
    "group and number": ["doctrine/iran=calibrated,revenge", "doctrine.us.kill_threshold=1,3"],
}
COMMON = ["replicates=6", "output.event_sample=4", "days=60", "output.figures=false"]


@dataclass
class Launched:
    """One sweep under the default launcher (batched) and under the basic launcher."""

    args: list[str]
    batched: Path
    basic: Path
    out: subprocess.CompletedProcess  # the batched sweep's


def in_process(argv: list[str], cwd: Path) -> str:
    """What ``escalation-sim ARGV`` prints, run by its ``main`` in this process from ``cwd``."""
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.chdir(cwd)
        patch.setattr(sys, "argv", ["escalation-sim", *argv])  # main sets it for Hydra
        cli.main(argv)
    return printed.getvalue()


@pytest.fixture(scope="module", params=list(SWEEPS))
def launched(request, tmp_path_factory) -> Launched:
    """The batched sweep as a user starts it; the basic launcher's, to compare with, by the
    command's main in this process (tests/test_sweep.py starts it in a process)."""
    cwd = tmp_path_factory.mktemp("batched")
    args = ["-m", *SWEEPS[request.param], *COMMON]
    out = escalation_sim(*args, f"hydra.sweep.dir={cwd / 'batched'}", cwd=cwd)
    in_process([*args, "hydra/launcher=basic", f"hydra.sweep.dir={cwd / 'basic'}"], cwd)
    return Launched(args, cwd / "batched", cwd / "basic", out)


@pytest.mark.slow
def test_jobs_stepped_together_write_what_the_basic_launcher_writes(launched):
    batched, basic, out = launched.batched, launched.basic, launched.out
    assert "Batch 1 of 1: 4 jobs x 6 replicates stepped together" in out.stdout
    assert_same_jobs(batched, basic, jobs=4)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("[") and "[HYDRA]" not in ln]
    assert len(lines) == 4 and lines[-1].startswith("[4/4]") and "4/4 jobs finished" in out.stdout
    hydra = (batched / "0" / ".hydra" / "hydra.yaml").read_text()
    assert "hydra/launcher: batched" in hydra  # the default


@pytest.mark.slow
def test_resume_skips_finished_jobs_and_steps_the_others_together(launched, tmp_path):
    folder = tmp_path / "resumed"
    shutil.copytree(launched.batched, folder)
    finished = {job: (folder / job / JOB_FILE).read_text() for job in ("0", "3")}
    (folder / "1" / JOB_FILE).unlink()  # killed before it finished
    failed = {**json.loads((folder / "2" / JOB_FILE).read_text()), "status": "failed"}
    (folder / "2" / JOB_FILE).write_text(json.dumps(failed))
    for job in ("1", "2"):
        (folder / job / "ensemble.parquet").unlink()
    printed = in_process([*launched.args, f"+resume={folder}"], tmp_path)
    assert printed.count("finished before, skipped") == 2
    assert "Batch 1 of 1: 2 jobs x 6 replicates stepped together" in printed
    for job, text in finished.items():
        assert (folder / job / JOB_FILE).read_text() == text, "a finished job is left as it is"
    assert_same_jobs(folder, launched.basic, jobs=4)


@pytest.mark.slow
def test_a_batch_that_raises_runs_its_jobs_alone(tmp_path, monkeypatch):
    """In-process: the batch fails after its first job is written; that job stays written,
    and each of the others runs alone and writes its own results."""
    calls = []
    run_batch = JobBatch.run

    def fail_after_one(batch):
        calls.append(len(batch.jobs))
        for given, (job, result) in enumerate(run_batch(batch)):
            if given == 1:
                raise RuntimeError("out of memory")
            yield job, result

    monkeypatch.setattr(JobBatch, "run", fail_after_one)
    monkeypatch.chdir(tmp_path)
    argv = ["-m", "doctrine.us.kill_threshold=1,2,3", "days=20", "replicates=2",
            "output.figures=false", f"hydra.sweep.dir={tmp_path / 'sweep'}"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["escalation-sim", *argv])
    cli.main(argv)
    assert calls == [3]
    for job, threshold in enumerate((1, 2, 3)):
        assert json.loads((tmp_path / "sweep" / str(job) / JOB_FILE).read_text())["status"] == "ok"
        alone = run(config("days=20", "replicates=2", f"doctrine.us.kill_threshold={threshold}"))
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "sweep" / str(job) / "ensemble.parquet"), alone.replicates
        )


# --- which jobs share a batch --------------------------------------------------------------


def _job(number: int, *overrides: str) -> Job:
    overrides = ("days=10", "replicates=3", *overrides)
    return Job(number, list(overrides), config(*overrides))


@pytest.mark.slow
def test_jobs_share_a_batch_only_with_the_same_seed_and_other_settings():
    lags = [f"doctrine.us.response_lag_days={lag}" for lag in (0, 5)]
    jobs = [
        _job(0, "seed=1", lags[0]),
        _job(1, "seed=1", lags[1]),
        _job(2, "seed=2", lags[0]),
        _job(3, "seed=2", lags[1]),
        _job(4, "seed=2", "doctrine/iran=revenge"),  # another swept key: a design of its own
        _job(5, "seed=1", "actors.militias.0.reach_km=300"),  # one batch per reach
        _job(6, "seed=1", "actors.militias.0.reach_km=400"),
    ]
    swept = {"seed", "doctrine.us.response_lag_days", "doctrine/iran", "actors.militias.0.reach_km"}
    batches, alone = plan_batches(jobs, swept)
    assert [[job.number for job in batch.jobs] for batch in batches] == [[0, 1], [2, 3]]
    assert [job.number for job in alone] == [4, 5, 6]
    assert all(batch.replicates == 3 for batch in batches)
    # at most so many replicates at a time: a batch of one job is no batch
    batches, alone = plan_batches(jobs[:4], swept, batch_replicates=5)
    assert batches == [] and [job.number for job in alone] == [0, 1, 2, 3]


def test_a_batch_whose_configuration_is_not_the_jobs_own_is_not_made():
    """Jobs whose overrides say one thing and whose configurations another (composed from
    other config files, say) run alone: a batch runs only the configurations it was given."""
    swept = {"doctrine.us.response_lag_days"}
    jobs = [_job(0, "doctrine.us.response_lag_days=0"), _job(1, "doctrine.us.response_lag_days=5")]
    jobs[1].config = config("days=11", "replicates=3", "doctrine.us.response_lag_days=5")
    assert plan_batches(jobs[:1] + [_job(1, "doctrine.us.response_lag_days=5")], swept)[0]
    batches, alone = plan_batches(jobs, swept)
    assert batches == [] and [job.number for job in alone] == [0, 1]


# --- several runs in one simulation ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings",
    [
        ("replicates=5", "output.event_sample=3"),  # quantiles; a sample of each run's first 3
        ("replicates=1",),  # the full daily series
        ("replicates=4", "output.events=all", "output.daily=full"),
    ],
)
def test_each_run_gets_what_it_gets_alone(settings):
    base = config("days=40", *settings)
    R, lags = base.replicates, [0, 3, 9]
    simulation = Simulation(
        base,
        np.tile(np.arange(R), len(lags)),
        per_replicate={"doctrine.us.response_lag_days": np.repeat(lags, R)},
        runs=len(lags),
    )
    while not simulation.done:
        simulation.step()
    results = simulation.results()
    for lag, mine in zip(lags, results, strict=True):
        alone = run(config("days=40", *settings, f"doctrine.us.response_lag_days={lag}"))
        for name in ("replicates", "events", "daily", "daily_quantiles"):
            if getattr(alone, name) is None:
                assert getattr(mine, name) is None
            else:
                pd.testing.assert_frame_equal(
                    getattr(mine, name), getattr(alone, name), check_exact=True
                )
    with pytest.raises(ValueError, match="3 runs stepped together"):
        simulation.result()
    with pytest.raises(ValueError, match="cannot be split into 2 equal runs"):
        Simulation(base, range(3), runs=2)


@pytest.mark.parametrize("value", ["0", "-5", "2.5", "many"])
def test_a_bad_batch_size_stops_the_sweep_before_anything_is_written(
    value, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    argv = ["-m", "seed=1,2", f"hydra.launcher.batch_replicates={value}",
            f"hydra.sweep.dir={tmp_path / 'sweep'}"]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"escalation-sim: error: hydra.launcher.batch_replicates = {value}: "
        "must be a whole number >= 1"
    )
    assert not (tmp_path / "sweep").exists()
