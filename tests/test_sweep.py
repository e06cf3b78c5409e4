"""Sweeps: the named experiments, real multiruns under each launcher, the consolidated
report, resume after a kill, and failed jobs."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import replace
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra._internal.config_repository import ConfigRepository
from hydra._internal.utils import create_config_search_path
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from hydra_plugins.escalation_launcher import MAX_AUTO_JOBS_PER_TASK, batches
from sim import cli, report
from sim.config import compose, config_dir, register_schemas, validate
from sim.engine import run
from sim.parsed_configs import ParsedOnce
from sim.plots.sweep import wilson_interval
from sim.report import consolidate
from sim.sweep import JOB_FILE, SweepPlan

BIN = Path(sys.executable).parent
EXPERIMENTS = sorted(p.stem for p in (Path(config_dir()) / "experiment").glob("*.yaml"))
#: a small sweep of 2 x 4 = 8 jobs that every launcher test runs
SMALL = ["experiment=decapitation_iran", "replicates=4", "days=40"]


def escalation_sim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "escalation-sim"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def sweep_in_process(argv: list[str], monkeypatch) -> int:
    """``escalation-sim ARGV`` by its ``main`` in this process; its exit status. Each launcher
    also has a sweep here (or in tests/test_sweep_batched.py) started as a user starts it."""
    monkeypatch.setattr(sys, "argv", ["escalation-sim", *argv])  # main sets it for Hydra
    try:
        cli.main(argv)
    except SystemExit as exit_:
        return exit_.code
    return 0


def hydra_config(*overrides: str):
    """The composed config with its Hydra node, as a multirun sees it."""
    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return hydra_compose("config", overrides=list(overrides), return_hydra_config=True)


# --- the experiments ------------------------------------------------------------------------


def test_there_are_the_four_studies_of_the_issue():
    assert {
        "deterrence_threshold",
        "interdiction_supply",
        "decapitation_iran",
        "crackdown_politics",
    } <= set(EXPERIMENTS)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_at_every_swept_value(name):
    text = (Path(config_dir()) / "experiment" / f"{name}.yaml").read_text()
    lines = text.splitlines()
    assert lines[0] == "# @package _global_"
    header = " ".join(line for line in lines[1:] if line.startswith("#"))
    assert lines[1].startswith("# Question: ") and "?" in header, "each study states its question"
    cfg = hydra_config(f"experiment={name}")
    plan = SweepPlan.from_hydra(cfg.hydra)
    assert len(plan.keys) == 2, "each study crosses two factors"
    assert all(len(v) >= 2 for v in plan.values.values())
    assert cfg.replicates == 100
    base = compose(f"experiment={name}")
    for key, values in plan.values.items():
        for value in values:
            if "/" in key:  # a config group: the option composed is the one swept
                config = compose(f"experiment={name}", f"{key}={value}")
                chosen = OmegaConf.select(OmegaConf.structured(config), key.replace("/", "."))
                assert chosen.name == value, (key, value)
            else:  # a number: an allowed value at its place in the experiment's configuration
                validate(replace(base, key, value))


def test_plan_merges_the_experiment_with_command_line_sweeps():
    cfg = hydra_config("experiment=deterrence_threshold", "doctrine.us.kill_threshold=5", "seed=1")
    plan = SweepPlan.from_hydra(cfg.hydra)
    # a single value on the command line replaces that sweep
    assert plan.keys == ("doctrine.us.response_lag_days",)
    assert plan.n_jobs == 5
    # a sweep on the command line (the Compose API refuses sweeps: set the task as Hydra does)
    node = OmegaConf.create(
        OmegaConf.to_container(hydra_config("experiment=deterrence_threshold").hydra)
    )
    node.overrides.task = ["experiment=deterrence_threshold", "seed=1,2,3"]
    plan = SweepPlan.from_hydra(node)
    assert plan.values["seed"] == [1, 2, 3]
    assert plan.n_jobs == 3 * 5 * 3


def test_wilson_interval_matches_its_formula():
    lo, hi = wilson_interval(np.array([0.5, 0.0]), np.array([100, 20]))
    # z = 1.6449 at 90%: 0.5 +- z/(1 + z^2/n) sqrt(0.25/n + z^2/(4 n^2)) around the centre
    assert lo[0] == pytest.approx(0.4189, abs=1e-3) and hi[0] == pytest.approx(0.5811, abs=1e-3)
    assert lo[1] == pytest.approx(0.0, abs=1e-12) and 0.1 < hi[1] < 0.13


# --- real multiruns -------------------------------------------------------------------------


def run_sweep(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    out = escalation_sim("-m", *SMALL, f"hydra.sweep.dir={folder}", *extra, cwd=folder.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Hydra's basic launcher, one job after another (the default, batched, launcher runs
    the same sweeps in tests/test_sweep_batched.py)."""
    folder = tmp_path_factory.mktemp("sweeps") / "basic"
    return folder, run_sweep(folder, "hydra/launcher=basic")


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweeps") / "joblib"
    run_sweep(folder, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    return folder


@pytest.fixture(scope="module")
def batched_sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The joblib launcher handing jobs over in batches (3 batches of 3, 3 and 2 jobs)."""
    folder = tmp_path_factory.mktemp("sweeps") / "batched"
    extra = ("hydra/launcher=joblib_batched", "hydra.launcher.n_jobs=2")
    return folder, run_sweep(folder, *extra, "hydra.launcher.jobs_per_task=3")


@pytest.mark.slow
def test_sweep_table_has_a_row_per_job_and_replicate(basic_sweep):
    folder, out = basic_sweep
    table = pd.read_parquet(folder / "sweep.parquet")
    assert len(table) == 8 * 4
    assert table.groupby("job").size().to_dict() == dict.fromkeys(range(8), 4)
    keys = ["doctrine.us.decapitation_probability", "doctrine/iran"]
    assert list(table.columns[:4]) == ["job", *keys, "replicate"]
    for metric in ("outcome", "max_rung", "attacks", "killed_us", "us_strikes", "us_troops_end"):
        assert metric in table.columns
    assert table["doctrine.us.decapitation_probability"].dtype == np.float64
    plan = json.loads((folder / "sweep_plan.json").read_text())  # what each job reads
    assert list(plan) == keys and len(plan["doctrine/iran"]) == 4
    assert set(table["doctrine/iran"]) == {
        "restrain_proxies",
        "calibrated",
        "revenge",
        "talks_first",
    }
    # the swept values are those each job ran with
    for job, rows in table.groupby("job"):
        record = json.loads((folder / str(job) / JOB_FILE).read_text())
        assert rows["doctrine/iran"].iloc[0] == record["params"]["doctrine/iran"]
        summary = json.loads((folder / str(job) / "summary.json").read_text())
        assert summary["doctrines"]["iran"] == record["params"]["doctrine/iran"]
    # the printed progress: one line per job with its headline, and the end of sweep report
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("[") and "[HYDRA]" not in ln]
    assert len(lines) == 8 and lines[-1].startswith("[8/8]") and "attacks/month" in lines[0]
    assert "Sweep of 8 jobs" in out.stdout and "8/8 jobs finished" in out.stdout


@pytest.mark.slow
def test_sweep_summary_and_figure(basic_sweep):
    folder, _ = basic_sweep
    summary = pd.read_csv(folder / "sweep_summary.csv")
    table = pd.read_parquet(folder / "sweep.parquet")
    assert len(summary) == 8 and (summary["status"] == "ok").all()
    for job, rows in table.groupby("job"):
        row = summary.set_index("job").loc[job]
        assert row["attacks_mean"] == pytest.approx(rows["attacks"].mean())
        assert row["attacks_q05"] <= row["attacks_mean"] <= row["attacks_q95"]
        assert row["p_rung5"] == pytest.approx((rows["max_rung"] >= 5).mean())
    png = folder / "figures" / "sweep_heatmaps.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.slow
def test_a_job_gives_the_same_results_alone_in_a_sweep_or_under_joblib(basic_sweep, joblib_sweep):
    folder, _ = basic_sweep
    for job in range(8):
        basic = pd.read_parquet(folder / str(job) / "ensemble.parquet")
        pd.testing.assert_frame_equal(
            basic, pd.read_parquet(joblib_sweep / str(job) / "ensemble.parquet")
        )
    record = json.loads((folder / "5" / JOB_FILE).read_text())
    alone = run(compose(*record["overrides"]))
    pd.testing.assert_frame_equal(
        replicate_table_of(alone), pd.read_parquet(folder / "5" / "ensemble.parquet")
    )
    basic_table = pd.read_parquet(folder / "sweep.parquet")
    joblib_table = pd.read_parquet(joblib_sweep / "sweep.parquet")
    pd.testing.assert_frame_equal(basic_table, joblib_table)


@pytest.mark.slow
def test_batched_launcher_gives_the_same_jobs_and_tables(basic_sweep, batched_sweep):
    folder, _ = basic_sweep
    batched, out = batched_sweep
    assert "launching 8 jobs in 3 batches" in out.stdout
    for job in range(8):
        pd.testing.assert_frame_equal(
            pd.read_parquet(folder / str(job) / "ensemble.parquet"),
            pd.read_parquet(batched / str(job) / "ensemble.parquet"),
        )
        # composed from the parsed files, each job's configuration is the one Hydra composes
        for name in ("config.yaml", "overrides.yaml"):
            assert (batched / str(job) / ".hydra" / name).read_text() == (
                folder / str(job) / ".hydra" / name
            ).read_text()
        basic_record = json.loads((folder / str(job) / JOB_FILE).read_text())
        record = json.loads((batched / str(job) / JOB_FILE).read_text())
        assert (record["key"], record["params"]) == (basic_record["key"], basic_record["params"])
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "sweep.parquet"), pd.read_parquet(batched / "sweep.parquet")
    )
    summary = pd.read_csv(batched / "sweep_summary.csv")
    assert len(summary) == 8 and (summary["status"] == "ok").all()
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("[") and "[HYDRA]" not in ln]
    assert len(lines) == 8 and "8/8 jobs finished" in out.stdout


def test_batches_are_even_and_cover_every_job_once():
    assert batches(0, 2) == []
    for n_jobs in (1, 2, 7, 8, 20, 100, 1000):
        for workers in (1, 2, 3, 8):
            parts = batches(n_jobs, workers)
            assert [i for part in parts for i in part] == list(range(n_jobs))
            sizes = [len(part) for part in parts]
            assert max(sizes) - min(sizes) <= 1 and max(sizes) <= MAX_AUTO_JOBS_PER_TASK
            if n_jobs >= workers:  # every worker has as many batches as the others
                assert len(parts) % workers == 0
    assert [len(p) for p in batches(100, 2)] == [8] * 2 + [7] * 12
    assert [len(p) for p in batches(8, 2, jobs_per_task=3)] == [3, 3, 2]
    assert [len(p) for p in batches(5, 2, jobs_per_task=10)] == [5]
    with pytest.raises(ValueError, match="jobs_per_task = 0: must be >= 1"):
        batches(5, 2, jobs_per_task=0)


def test_parsed_config_files_are_shared_within_a_launch_only(tmp_path):
    (tmp_path / "config.yaml").write_text("size: 1\nnames: [a]\n")
    repository = ConfigRepository(create_config_search_path(str(tmp_path)))
    first = ParsedOnce(repository, launch_id="first")
    loaded = first.load_config("config")
    loaded.config.names.append("b")  # composing may change what it loaded
    again = copy.deepcopy(first).load_config("config")  # Hydra composes from a copy
    assert again.config == {"size": 1, "names": ["a"]}
    (tmp_path / "config.yaml").write_text("size: 2\nnames: []\n")
    assert first.load_config("config").config.size == 1, "parsed once per launch"
    assert ParsedOnce(repository, launch_id="second").load_config("config").config.size == 2


def replicate_table_of(result) -> pd.DataFrame:
    return result.replicates.reset_index(drop=True)


@pytest.mark.slow
def test_submitit_local_gives_the_same_job_results(basic_sweep, tmp_path):
    folder, _ = basic_sweep
    sub = tmp_path / "submitit"
    out = escalation_sim(
        "-m", *SMALL, "doctrine/iran=revenge", "hydra/launcher=submitit_local",
        f"hydra.sweep.dir={sub}", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    # revenge is the third Iranian doctrine: jobs 2 and 6 of the full sweep
    for job, full_job in ((0, 2), (1, 6)):
        pd.testing.assert_frame_equal(
            pd.read_parquet(sub / str(job) / "ensemble.parquet"),
            pd.read_parquet(folder / str(full_job) / "ensemble.parquet"),
        )


# --- faults: killed, resumed, failing -------------------------------------------------------


#: the launchers whose faults the tests check: one after another, stepped together (the
#: default) and handed to workers in batches. Whether a job's folder holds its finished
#: results (skip), another configuration's (refuse) or none (run) is decided in the job
#: itself (sim.sweep.run_job) under any launcher: the killed sweep is resumed by workers,
#: where jobs are also handed out afresh, and the refusal under the default; a failing job
#: under all three
FAULT_LAUNCHERS = {
    "basic": ["hydra/launcher=basic"],
    "batched": [],
    "joblib_batched": ["hydra/launcher=joblib_batched", "hydra.launcher.n_jobs=2"],
}


@pytest.mark.slow
def test_killed_sweep_resumes_with_every_job_exactly_once(tmp_path):
    folder = tmp_path / "killed"
    args = ["-m", "experiment=deterrence_threshold", "replicates=20", "days=200"]
    args += FAULT_LAUNCHERS["joblib_batched"]
    proc = subprocess.Popen(
        [str(BIN / "escalation-sim"), *args, f"hydra.sweep.dir={folder}"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 240
    while len(list(folder.glob(f"*/{JOB_FILE}"))) < 3 and time.time() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.parent.name: p.read_text() for p in folder.glob(f"*/{JOB_FILE}")}
    assert 3 <= len(before) < 15, "the kill should land part-way"
    assert not (folder / "sweep.parquet").exists()

    out = escalation_sim(*args, f"+resume={folder}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    skipped = [line for line in out.stdout.splitlines() if "finished before, skipped" in line]
    assert len(skipped) == len(before)
    for name, text in before.items():  # finished jobs were not run again
        assert (folder / name / JOB_FILE).read_text() == text
    table = pd.read_parquet(folder / "sweep.parquet")
    assert table.groupby("job").size().to_dict() == dict.fromkeys(range(15), 20)
    summary = pd.read_csv(folder / "sweep_summary.csv")
    assert sorted(summary["job"]) == list(range(15)) and (summary["status"] == "ok").all()


@pytest.mark.slow
def test_resume_with_another_setting_is_refused_and_leaves_the_results_alone(
    basic_sweep, tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "copy"
    shutil.copytree(basic_sweep[0], folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)
    status = sweep_in_process(["-m", *SMALL[:-1], "days=41", f"+resume={folder}"], monkeypatch)
    out = capsys.readouterr()
    assert status == 2
    assert "days: the sweep was started with 40, now 41" in out.err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


@pytest.mark.slow
@pytest.mark.parametrize("launcher", FAULT_LAUNCHERS)
def test_a_failing_job_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, capfd, launcher):
    """A job that fails (here its validation, and another its composition) is recorded and
    the others run. escalation-sim checks every job before the sweep starts, so the check
    is switched off here, as when a config file is edited while a sweep runs."""
    monkeypatch.setattr(cli, "precheck", lambda argv: None)
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "bad.yaml").write_text(
        "# @package _global_\nreplicates: 3\noutput: {figures: false, events: none}\n"
        "hydra:\n  sweeper:\n    params:\n      doctrine.us.kill_threshold: 1,0,2.5,2\n"
    )
    folder = tmp_path / "sweep"
    args = ["-m", "experiment=bad", "days=30", f"hydra.searchpath=[file://{tmp_path}]",
            f"hydra.sweep.dir={folder}", *FAULT_LAUNCHERS[launcher]]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    status = sweep_in_process(args, monkeypatch)
    errors = capfd.readouterr().err
    assert status == 1, "a sweep with a failed job exits with status 1"
    assert "Traceback" not in errors
    summary = pd.read_csv(folder / "sweep_summary.csv").set_index("job")
    assert list(summary["status"]) == ["ok", "failed", "failed", "ok"]
    assert "kill_threshold = 0: must be a whole number >= 1" in summary.loc[1, "error"]
    assert "'2.5' of type 'float' could not be converted" in summary.loc[2, "error"]
    assert "Traceback" in (folder / "1" / "error.txt").read_text()
    table = pd.read_parquet(folder / "sweep.parquet")
    assert sorted(set(table["job"])) == [0, 3] and len(table) == 6


@pytest.mark.slow
def test_report_rebuilds_a_partial_sweep(basic_sweep, tmp_path):
    folder = tmp_path / "partial"
    shutil.copytree(basic_sweep[0], folder)
    for name in ("sweep.parquet", "sweep_summary.csv", "figures"):
        shutil.rmtree(folder / name) if name == "figures" else (folder / name).unlink()
    (folder / "3" / JOB_FILE).unlink()  # a job killed before it finished
    shutil.rmtree(folder / "7")  # a job that never started
    out = subprocess.run(
        [str(BIN / "escalation-report"), str(folder)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "6/8 jobs finished, 1 incomplete, 1 missing" in out.stdout
    summary = pd.read_csv(folder / "sweep_summary.csv").set_index("job")
    assert summary.loc[3, "status"] == "incomplete" and summary.loc[7, "status"] == "missing"
    assert summary.loc[7, "doctrine/iran"] != summary.loc[7, "doctrine/iran"]  # unknown: NaN
    table = pd.read_parquet(folder / "sweep.parquet")
    assert sorted(set(table["job"])) == [0, 1, 2, 4, 5, 6]
    assert (folder / "figures" / "sweep_heatmaps.png").exists()
    # the same tables as the sweep's own, for the jobs they share
    full = pd.read_parquet(basic_sweep[0] / "sweep.parquet")
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), full[full["job"].isin(table["job"])].reset_index(drop=True)
    )


def test_report_in_process_matches_its_inputs(tmp_path):
    """consolidate() on hand-made job folders: streams each job and types the swept columns."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    cfg = hydra_config("experiment=deterrence_threshold")
    OmegaConf.save(cfg, folder / "multirun.yaml")
    result = run(compose("days=20", "replicates=3"))
    for job in (0, 1):
        job_dir = folder / str(job)
        job_dir.mkdir()
        result.replicates.to_parquet(job_dir / "ensemble.parquet", index=False)
        params = {"doctrine.us.kill_threshold": 1, "doctrine.us.response_lag_days": [0, 30][job]}
        record = {"job": job, "status": "ok", "params": params, "days": 20, "seconds": 0.1}
        (job_dir / JOB_FILE).write_text(json.dumps(record))
    report = consolidate(folder, figures=False)
    assert report.counts == {"ok": 2, "missing": 13}
    table = pd.read_parquet(folder / "sweep.parquet")
    assert table["doctrine.us.response_lag_days"].tolist() == [0] * 3 + [30] * 3
    assert table["doctrine.us.kill_threshold"].dtype == np.int64
    expected = replicate_table_of(result)["attacks"] * (365.25 / 12) / 20
    np.testing.assert_allclose(table["attacks_per_month"][:3], expected)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "experiment=nope"], "experiment: no option 'nope' (choose from: crackdown"),
        (["-m", "doctrine.us.kill_threshold=3,0"], "kill_threshold = 0: must be a whole number"),
        (["-m", "doctrine/iran=calibrated,nope"], "doctrine/iran: no option 'nope'"),
        (["-m", "seed=1,2", "+resume=nowhere"], "resume: nowhere is not a sweep folder"),
        (["seed=1", "+resume=nowhere"], "resume: only a sweep (-m) can be resumed"),
    ],
)
def test_bad_sweeps_stop_before_any_job(tmp_path, monkeypatch, capsys, args, message):
    """In-process: the checks run before Hydra starts (test_cli.py shows one from a process)."""
    monkeypatch.chdir(tmp_path)
    argv = [*args, f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    monkeypatch.setattr(sys, "argv", ["escalation-sim", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and message in err
    assert not (tmp_path / "sweep").exists() and not (tmp_path / "results").exists()


@pytest.mark.slow
def test_batched_launcher_refuses_a_bad_batch_size(tmp_path):
    out = escalation_sim(
        "-m", "seed=1,2", "days=2", "hydra/launcher=joblib_batched",
        "hydra.launcher.jobs_per_task=0", f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 1
    # the message on one line, then Hydra's usual hint about HYDRA_FULL_ERROR
    assert out.stderr.splitlines()[0] == "hydra.launcher.jobs_per_task = 0: must be >= 1"
    assert "Traceback" not in out.stderr
    assert not list((tmp_path / "sweep").glob(f"*/{JOB_FILE}"))


def test_report_refuses_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        report.main([str(tmp_path)])
    assert exit_.value.code == 2
    assert (
        capsys.readouterr().err.strip()
        == f"escalation-report: error: {tmp_path}: not a sweep folder (no multirun.yaml)"
    )


# --- the README's sweep section -------------------------------------------------------------

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SECTION = README.split("## Sweeps", 1)[1].split("\n## ", 1)[0]


@pytest.mark.slow
def test_readme_lists_every_experiment_with_its_swept_keys():
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in SECTION.splitlines()
        if line.startswith("| `")
    }
    assert sorted(rows) == EXPERIMENTS
    for name, row in rows.items():
        plan = SweepPlan.from_hydra(hydra_config(f"experiment={name}").hydra)
        for key in plan.keys:
            assert f"`{key}`" in row, (name, key)


@pytest.mark.slow
def test_readme_progress_line_has_the_printed_form(basic_sweep):
    shown = SECTION.split("```")[3].strip()
    printed = [ln for ln in basic_sweep[1].stdout.splitlines() if ln.startswith("[")]
    form = re.compile(r"^\[\d+/\d+(, about \d+ (s|min) left)?\] (\S+=\S+ )+\S+=\S+: rung 5\+ "
                      r"\d+%, \d+\.\d attacks/month, withdrawal \d+%$")  # fmt: skip
    assert form.match(shown), shown
    assert any(form.match(line) for line in printed)


README_SWEEPS = [
    (line.split("#")[0].split(), line.partition("#")[2])
    for line in SECTION.split("```")[1].strip().splitlines()
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "comment"), README_SWEEPS, ids=[" ".join(c[2:4]) for c, _ in README_SWEEPS]
)
def test_readme_sweep_commands_plan_the_jobs_they_say(command, comment):
    """Each command of the section passes the command's checks and composes, with its
    launcher, into the jobs its comment counts. In-process: the launchers run real sweeps
    above (basic, joblib, joblib_batched, submitit_local)."""
    assert command[:2] == ["escalation-sim", "-m"]
    overrides = command[2:]
    cli.precheck(["-m", *overrides])  # a bad value exits 2 with its one-line error
    first = [
        f"{o.get_key_element()}={next(iter(o.sweep_iterator()))}"
        if o.is_sweep_override()
        else o.input_line
        for o in OverridesParser.create().parse_overrides(overrides)
    ]
    node = OmegaConf.create(OmegaConf.to_container(hydra_config(*first).hydra))
    node.overrides.task = [o for o in overrides if not o.startswith(("hydra.", "hydra/"))]
    plan = SweepPlan.from_hydra(node)
    said = re.search(r"(\d+) jobs", comment)
    if said:
        assert plan.n_jobs == int(said.group(1)), comment
    else:
        assert plan.n_jobs >= 8


def test_experiments_folder_readme_names_every_study():
    text = (Path(__file__).resolve().parents[1] / "experiments" / "README.md").read_text()
    named = re.findall(r"escalation-sim -m experiment=(\w+)", text)
    assert sorted(set(named)) == EXPERIMENTS
