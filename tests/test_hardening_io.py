"""Output folders, resources and stops: no run loses or mixes another's results.

Each run or sweep claims a folder of its own (unique name, a lock for its life); a folder
that cannot be written, a run too large for memory, a changed setting on resume are
refused in one line before anything runs; a failed or stopped run leaves nothing
half-written; Ctrl-C and SIGTERM end every command in one line with 130 or 143; the
workers of ``hydra/launcher=joblib_batched`` end with the sweep's process; event records
load in a small multiple of their size. In-process where possible; a subprocess where a
signal or a second process is the point.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim import cli, stops
from sim.config import compose
from sim.engine import Simulation
from sim.folders import Claim, FolderError, FolderLock, check_writable, holder_of, unique_folder
from sim.memory import FORCE_ENV, InsufficientMemoryError, check_memory, peak_bytes
from sim.record import RecordError, load_events, seeds_record
from sim.stops import EXIT_SIGINT, EXIT_SIGTERM, clean_stops
from sim.sweep import JOB_FILE, MULTIRUN_FILE

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("HYDRA_FULL_ERROR", None)
SEEDS = str(seeds_record())


def run_main(main, argv: list[str], monkeypatch, capsys, prog: str = "escalation-sim"):
    """A command's ``main`` in this process: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", [prog, *argv])
    try:
        main(list(argv))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, prefix: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --- folders: unique, locked, checked -----------------------------------------------------------


def test_a_taken_folder_name_gets_the_next_free_suffix(tmp_path):
    first = unique_folder(tmp_path / "runs" / "02-52-45")
    second = unique_folder(tmp_path / "runs" / "02-52-45")
    third = unique_folder(tmp_path / "runs" / "02-52-45")
    assert [p.name for p in (first, second, third)] == ["02-52-45", "02-52-45-2", "02-52-45-3"]


def test_a_locked_folder_is_refused_naming_the_process_and_a_stale_lock_is_taken_over(tmp_path):
    lock = FolderLock(tmp_path).acquire("hydra.run.dir")
    assert holder_of(tmp_path) == os.getpid()
    with pytest.raises(FolderError, match=rf"in use by another run \(process {os.getpid()}\)"):
        FolderLock(tmp_path).acquire("hydra.run.dir")
    lock.release()
    assert not (tmp_path / ".lock").exists()
    (tmp_path / ".lock").write_text("999999999\n")  # left by a process that died
    again = FolderLock(tmp_path).acquire("hydra.run.dir")
    assert holder_of(tmp_path) == os.getpid()
    again.release()


def test_a_folder_inside_one_in_use_is_refused(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    lock = FolderLock(sweep).acquire("hydra.sweep.dir")
    try:
        with pytest.raises(FolderError, match=r"inside .*sweep, in use by another run"):
            Claim(sweep / "3", "hydra.run.dir")
    finally:
        lock.release()
    assert not (sweep / "3").exists()
    Claim(sweep / "3", "hydra.run.dir").release()  # free again


def test_an_unusable_output_path_is_refused_without_creating_anything(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FolderError, match="afile is a file, not a folder"):
        check_writable(tmp_path / "afile" / "out", "--out")
    with pytest.raises(FolderError, match="--out: empty"):
        check_writable("", "--out")
    check_writable(tmp_path / "new" / "deeper", "--out")
    assert not (tmp_path / "new").exists()
    if os.geteuid() != 0:  # the superuser may write anywhere
        (tmp_path / "ro").mkdir(mode=0o555)
        with pytest.raises(FolderError, match="cannot write in"):
            check_writable(tmp_path / "ro" / "out", "--out")


def test_a_claim_removes_what_a_failed_run_wrote_and_keeps_what_was_there(tmp_path):
    with pytest.raises(RuntimeError), Claim(tmp_path / "new" / "day" / "run", "--out") as claim:
        (claim.folder / "half.parquet").write_text("x")
        raise RuntimeError("the run failed")
    assert not (tmp_path / "new").exists()  # nor the parents it made
    old = tmp_path / "old"
    old.mkdir()
    (old / "earlier.json").write_text("{}")
    with pytest.raises(RuntimeError), Claim(old, "--out") as claim:
        (claim.folder / "half.parquet").write_text("x")
        raise RuntimeError("the run failed")
    assert sorted(p.name for p in old.iterdir()) == ["earlier.json"]
    with Claim(tmp_path / "kept", "--out") as claim:
        (claim.folder / "done.json").write_text("{}")
        claim.keep()
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["done.json"]


def test_two_runs_started_together_get_two_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv_a, claim_a = cli.claim_output(["seed=1"], multirun=False)
    argv_b, claim_b = cli.claim_output(["seed=2"], multirun=False)
    try:
        assert claim_a.folder != claim_b.folder
        assert claim_a.folder.parent.parent == Path("results/runs")
        assert argv_a[-1] == f"hydra.run.dir={claim_a.folder}"
        assert argv_b[-1] == f"hydra.run.dir={claim_b.folder}"
    finally:
        claim_a.release()
        claim_b.release()
    assert not list(Path("results/runs").glob("*/*"))  # neither was kept


def test_two_sweeps_started_together_get_two_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, claim_a = cli.claim_output(["-m", "seed=1,2"], multirun=True)
    _, claim_b = cli.claim_output(["-m", "seed=1,2"], multirun=True)
    try:
        assert claim_a.folder != claim_b.folder
        assert claim_a.folder.parent.parent == Path("results/sweeps")
    finally:
        claim_a.release()
        claim_b.release()


@pytest.mark.slow
def test_two_runs_started_in_the_same_second_keep_their_own_results(tmp_path):
    """The issue's case: both printed the same folder, one run's files beside the other's."""
    runs = [
        _start("from sim.cli import main; main()", "seed=1", "days=60", cwd=tmp_path),
        _start(
            "from sim.cli import main; main()",
            "seed=2",
            "days=60",
            "replicates=3",
            "output.figures=false",
            cwd=tmp_path,
        ),  # fmt: skip
    ]
    printed = []
    for proc in runs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        printed.append(out.splitlines()[0].removeprefix("Results: "))
    assert printed[0] != printed[1]
    for folder, seed, ensemble in zip(printed, (1, 2), (False, True), strict=True):
        folder = tmp_path / folder
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["provenance"]["seed"] == seed
        assert (folder / "ensemble.parquet").exists() == ensemble
        assert not (folder / ".lock").exists()


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["hydra.run.dir="], ["hydra.run.dir: empty"]),
        (["hydra.run.dir=afile/run"], ["hydra.run.dir = afile/run", "is a file, not a folder"]),
        (["-m", "seed=1,2", "hydra.sweep.dir=afile"], ["hydra.sweep.dir = afile", "is a file"]),
        (["replicates=1000000000", "days=1"], ["replicates=1000000000 x days=1", "GB", FORCE_ENV]),
    ],
)
def test_escalation_sim_refuses_before_any_folder_is_made(tmp_path, monkeypatch, capsys, argv,
                                                          needles):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    code, out, err = run_main(cli.main, argv, monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, "escalation-sim: error:", *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_run_into_a_folder_another_process_holds_is_refused(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "busy"
    folder.mkdir()
    lock = FolderLock(folder).acquire("hydra.run.dir")
    try:
        argv = ["days=5", f"hydra.run.dir={folder}", "output.figures=false"]
        code, out, err = run_main(cli.main, argv, monkeypatch, capsys)
    finally:
        lock.release()
    assert code == 2
    assert_one_line(err, "escalation-sim: error:", "in use by another run", str(os.getpid()))
    assert list(folder.iterdir()) == []


def test_a_run_into_an_earlier_runs_folder_leaves_no_file_of_the_earlier_run(tmp_path):
    from sim.cli import remove_stale_results

    (tmp_path / "figures").mkdir()
    for name in ("ensemble.parquet", "summary.json", "figures/map.png", "notes.txt"):
        (tmp_path / name).write_text("earlier")
    remove_stale_results(tmp_path, {"summary": tmp_path / "summary.json"})
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["notes.txt", "summary.json"]  # the user's own file stays


def test_a_run_that_fails_after_its_folder_was_made_leaves_nothing(tmp_path, monkeypatch, capsys):
    def write_then_fail(result, out_dir, figures=True):
        (Path(out_dir) / "events.parquet").write_text("half")
        raise NotImplementedError("strftime not yet supported\nsecond line")

    monkeypatch.setattr(cli, "write_run", write_then_fail)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(cli.main, ["days=5"], monkeypatch, capsys)
    assert code == 1
    assert_one_line(err, "escalation-sim: error:", "the run failed: NotImplementedError: strftime")
    assert list(tmp_path.iterdir()) == []


# --- memory -------------------------------------------------------------------------------------


def test_the_memory_estimate_grows_with_what_a_run_keeps(monkeypatch):
    small = peak_bytes(1000, 365)
    assert peak_bytes(2000, 365) > small
    assert peak_bytes(1000, 365, events="all") > small
    assert peak_bytes(1000, 365, daily="full") > peak_bytes(1000, 365, events="all")
    assert peak_bytes(1, 365) < 1024**3  # the default run fits anywhere
    with pytest.raises(InsufficientMemoryError, match=r"replicates=10\*\*9|replicates=1000000000"):
        check_memory(10**9, 1)
    monkeypatch.setenv(FORCE_ENV, "1")
    assert not check_memory(10**9, 1).fits  # forced: not refused


# --- every command: the output folder is checked before anything runs ---------------------------


def _commands():
    from sim import calibrate, compare, design, validate

    return {
        "escalation-validate": (validate.main, ["--events", SEEDS, "--out", "afile/out"]),
        "escalation-calibrate": (
            calibrate.main,
            ["--events", SEEDS, "--name", "t", "--out", "afile/out"],
        ),
        "escalation-compare": (
            compare.main,
            ["doctrine/us=red_line", "doctrine/us=syria_only", "--out", "afile/out"],
        ),
        "escalation-design": (
            design.main,
            ["--grid", "doctrine.us.kill_threshold=1,2", "--out", "afile/out"],
        ),
    }


@pytest.mark.parametrize("prog", list(_commands()))
def test_every_command_refuses_an_output_path_through_a_file_before_it_runs(
    tmp_path, monkeypatch, capsys, prog
):
    main, argv = _commands()[prog]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    started = time.perf_counter()
    code, out, err = run_main(main, argv, monkeypatch, capsys, prog)
    assert code == 2
    assert_one_line(err, f"{prog}: error:", "afile", "is a file, not a folder")
    assert time.perf_counter() - started < 30, "refused only after running"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_validate_and_compare_refuse_an_ensemble_too_large_for_memory(
    tmp_path, monkeypatch, capsys
):
    from sim import compare, validate

    monkeypatch.chdir(tmp_path)
    argv = ["--events", SEEDS, "--replicates", "2000000000"]
    code, _, err = run_main(validate.main, argv, monkeypatch, capsys, "escalation-validate")
    assert code == 2
    assert_one_line(err, "escalation-validate: error:", "--replicates 2000000000", "memory")
    argv = ["doctrine/us=red_line", "doctrine/us=syria_only", "--replicates", "2000000000"]
    code, _, err = run_main(compare.main, argv, monkeypatch, capsys, "escalation-compare")
    assert code == 2
    assert_one_line(err, "escalation-compare: error:", "--replicates 2000000000", "memory")
    assert list(tmp_path.iterdir()) == []


# --- stops --------------------------------------------------------------------------------------


def test_a_stop_ends_in_one_line_with_130_or_143(capsys):
    with pytest.raises(SystemExit) as exit_, clean_stops("escalation-x"):
        raise KeyboardInterrupt
    assert exit_.value.code == EXIT_SIGINT == 130
    assert_one_line(capsys.readouterr().err, "escalation-x: stopped; complete", "(Ctrl-C")
    with pytest.raises(SystemExit) as exit_, clean_stops("escalation-x"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert exit_.value.code == EXIT_SIGTERM == 143
    assert_one_line(capsys.readouterr().err, "escalation-x: stopped; complete", "(SIGTERM)")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the ignored one
def test_a_stop_that_python_ignored_where_it_landed_is_raised_at_the_next_day(capsys):
    """A signal whose handler runs in a finalizer (or a callback from compiled code, as when
    the kernels load early in a run) raises where Python prints the exception and goes on:
    the stop is raised again at the next simulated day, and once handled, never again."""

    class Finalized:
        def __del__(self):
            stops._raise_stopped(signal.SIGINT, None)  # as the signal's handler would

    config = compose("days=3", "replicates=1")
    with pytest.raises(SystemExit) as exit_, clean_stops("escalation-x"):
        Finalized()  # collected at once: its finalizer raises, and Python ignores it
        Simulation(config).run()
    assert exit_.value.code == EXIT_SIGINT
    assert_one_line(capsys.readouterr().err, "escalation-x: stopped; complete", "(Ctrl-C")
    assert Simulation(config).run().replicates.shape[0] == 1  # handled: not raised again


def _as_a_shell_starts_it() -> None:
    """In the child, before it starts: SIGINT and SIGTERM delivered and at their defaults,
    as a shell starts a command. A test process may hold either blocked or ignored (a
    library it ran in-process may leave them so), and a child inherits both."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(code: str, *argv: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_a_shell_starts_it,
    )


def _signals(pid: int) -> str:
    """The blocked, ignored and caught signals of process ``pid`` (masks, from /proc)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return " ".join(ln for ln in lines if ln.startswith(("SigBlk", "SigIgn", "SigCgt")))


def _stop_when(
    proc: subprocess.Popen, ready, signum: int, timeout: float = 120, settle: float = 0.5
) -> tuple:
    deadline = time.time() + timeout
    while not ready() and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(settle)
    masks = _signals(proc.pid)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err or f"(nothing on stderr; the child's signals: {masks})"


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_run_ends_in_one_line_and_leaves_no_folder(tmp_path, signum, status):
    run_dir = tmp_path / "run"
    proc = _start("from sim.cli import main; main()", "replicates=3000", "days=3000",
                  f"hydra.run.dir={run_dir}", cwd=tmp_path)  # fmt: skip
    code, out, err = _stop_when(proc, lambda: (run_dir / ".hydra").is_dir(), signum)
    assert code == status, err
    assert_one_line(err, "escalation-sim: stopped; complete files are kept")
    assert not run_dir.exists()


@pytest.mark.slow
def test_a_stopped_calibration_ends_in_one_line_and_keeps_its_generations(tmp_path):
    out_dir = tmp_path / "cal"
    argv = ["--events", SEEDS, "--name", "t", "--particles", "2000", "--generations", "1000"]
    proc = _start("from sim.calibrate import main; main()", *argv, "--out", str(out_dir),
                  cwd=tmp_path)  # fmt: skip
    # stopped in the middle of the generations (each takes seconds, the first is saved)
    first = out_dir / "generations" / "generation_000.parquet"
    code, out, err = _stop_when(proc, first.is_file, signal.SIGINT, settle=2)
    assert code == 130, err
    line = assert_one_line(err, "escalation-calibrate: stopped with", "(Ctrl-C, SIGINT)")
    assert "generation" in line and "run the same command again to resume" in line
    assert first.is_file() and (out_dir / "state.json").is_file()
    assert not (out_dir / ".lock").exists()


@pytest.mark.slow
def test_joblib_batched_workers_end_when_the_sweep_process_is_killed(tmp_path):
    folder = tmp_path / "sweep"
    proc = _start("from sim.cli import main; main()", "-m", "experiment=deterrence_threshold",
                  "replicates=50", "days=300", "hydra/launcher=joblib_batched",
                  "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={folder}", cwd=tmp_path)  # fmt: skip
    deadline = time.time() + 180
    while not list(folder.glob(f"*/{JOB_FILE}")) and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    workers = _children(proc.pid)
    assert workers, "the sweep has no workers"
    proc.kill()
    proc.communicate()
    deadline = time.time() + 30
    while any(_alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "workers outlived the sweep's process"
    # the stale lock is taken over: the sweep resumes
    assert (folder / ".lock").exists() and (folder / MULTIRUN_FILE).is_file()


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- sweeps: resume only with the same settings; a busy sweep is refused; a damaged job ---------

SWEEP = ["-m", "seed=1,2", "replicates=2", "days=5", "output.figures=false"]


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep") / "s"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", *SWEEP, f"hydra.sweep.dir={folder}"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (["days=6"], "days: the sweep was started with 5, now 6"),
        (["seed=1,3"], "seed: the sweep was started with 1,2, now 1,3"),
        (
            ["doctrine.iran.green_light=0.5"],
            "doctrine.iran.green_light: the sweep was started with (not given), now 0.5",
        ),  # fmt: skip
    ],
)
def test_resume_with_a_changed_setting_is_refused_naming_it(
    small_sweep, tmp_path, monkeypatch, capsys, change, needle
):
    keys = {c.split("=")[0] for c in change}
    argv = [a for a in SWEEP if a.split("=")[0] not in keys] + change
    before = (small_sweep / MULTIRUN_FILE).read_text()
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(cli.main, [*argv, f"+resume={small_sweep}"], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, "escalation-sim: error:", needle, "resume with the command")
    assert (small_sweep / MULTIRUN_FILE).read_text() == before


@pytest.mark.slow
def test_resume_refuses_a_job_whose_configuration_files_changed(
    small_sweep, tmp_path, monkeypatch, capsys
):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(small_sweep, folder)
    saved = folder / "0" / ".hydra" / "config.yaml"
    config = OmegaConf.load(saved)
    config.doctrine.iran.green_light = 0.123  # as if the doctrine file had been edited since
    OmegaConf.save(config, saved)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(cli.main, [*SWEEP, f"+resume={folder}"], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, "escalation-sim: error:", "doctrine.iran.green_light: job 0 was run "
                    "with 0.123")  # fmt: skip


@pytest.mark.slow
def test_resume_with_the_same_command_skips_and_a_busy_sweep_is_refused(
    small_sweep, tmp_path, monkeypatch, capsys
):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(small_sweep, folder)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(cli.main, [*SWEEP, f"+resume={folder}"], monkeypatch, capsys)
    assert code == 0, err
    assert out.count("finished before, skipped") == 2
    lock = FolderLock(folder).acquire("hydra.sweep.dir")  # another process runs the sweep
    try:
        code, out, err = run_main(cli.main, [*SWEEP, f"+resume={folder}"], monkeypatch, capsys)
    finally:
        lock.release()
    assert code == 2
    assert_one_line(err, "escalation-sim: error:", "in use by another run")


@pytest.mark.slow
def test_report_marks_a_damaged_job_folder_and_goes_on(small_sweep, tmp_path, monkeypatch,
                                                       capsys):  # fmt: skip
    import shutil

    from sim import report

    folder = tmp_path / "copy"
    shutil.copytree(small_sweep, folder)
    (folder / "0" / "ensemble.parquet").write_text("not parquet")
    code, out, err = run_main(report.main, [str(folder)], monkeypatch, capsys, "escalation-report")
    assert code == 0, err
    assert "1/2 jobs finished, 1 damaged" in out
    assert "job 0 damaged: cannot be read" in out
    (folder / "1" / JOB_FILE).write_text(json.dumps([1, 2]))  # valid JSON, not a record
    code, out, err = run_main(report.main, [str(folder)], monkeypatch, capsys, "escalation-report")
    assert code == 0 and "0/2 jobs finished" in out, err


# --- event records ------------------------------------------------------------------------------

HEADER = "date,actor,action,target,country,killed_us,wounded_us,notes,source\n"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("1492-10-12,militia,rocket,k1,iraq,,,,s", "date: 1492-10-12 is outside 1677-09-22"),
        ("9999-12-01,militia,rocket,k1,iraq,,,,s", "date: 9999-12-01 is outside"),
        ("2020-01-01,militia,rocket,k1,iraq,99999999999999999999,,,s", "killed_us: 9999"),
        ("2020-01-01,militia,rocket,k1,iraq,,10000001,,s", "wounded_us: 10000001 is too large"),
    ],
)
def test_a_record_out_of_what_pandas_and_the_model_hold_is_refused(tmp_path, row, needle):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(RecordError, match=re.escape(needle)):
        load_events(path)


@pytest.mark.slow
def test_a_large_record_loads_in_less_than_three_times_its_size(tmp_path):
    path = tmp_path / "large.csv"
    rows = ['2019-12-27,militia,rocket,k1,iraq,1,,"note {i}: rockets, on a base",seed_{j}.txt']
    with path.open("w") as handle:
        handle.write(HEADER)
        for i in range(120_000):  # out of date order, unique notes: the harder case
            day = 1 + (i * 7919) % 28
            handle.write(rows[0].replace("2019-12-27", f"2020-02-{day:02d}").format(i=i, j=i % 50))
            handle.write("\n")
    size = path.stat().st_size
    probe = (
        "import re, sys\n"
        "from sim.record import load_events, seeds_record\n"
        "def hwm():\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])\n"
        "load_events(seeds_record())\n"
        "before = hwm()\n"
        "frame = load_events(sys.argv[1])\n"
        "print(len(frame), (hwm() - before) * 1024)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, str(path)], env=ENV, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows_read, grown = map(int, proc.stdout.split())
    assert rows_read == 120_000
    assert grown < 3 * size, f"peak grew by {grown / size:.1f}x the file's size"
