"""Designs: tables of parameter points run as parameter-batched ensembles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.config import ConfigError, compose
from sim.design import grid, main, plan_design, run_design
from sim.engine import run

COMMON = ("days=150", "output.events=none", "scenario=dec2019_crisis")
DESIGN = pd.DataFrame(
    {
        "doctrine/us": ["red_line", "decapitation", "syria_only", "red_line"],
        "doctrine.us.response_lag_days": [2, 5, 1, 0],
        "actors.militias.0.obedience": [0.3, 0.9, 0.5, 0.5],
        "actors.militias.0.reach_km": [120.0, 120.0, 120.0, 300.0],  # its own batch
    }
)


def _alone(row, replicates):
    overrides = [f"{name}={value}" for name, value in row.items()]
    return run(compose(*COMMON, f"replicates={replicates}", *overrides)).replicates


@pytest.mark.slow
def test_each_point_gets_what_it_gets_alone():
    """The design run whole, and in batches of every point together or of a point each,
    gives the same rows; and each point's rows are what it gives alone (the whole design and
    the points alone run once, for both cuts)."""
    result = run_design(DESIGN, *COMMON, replicates=30).replicates
    for batch_replicates in (10_000, 30):  # all in one batch, or a point each
        plan = plan_design(DESIGN, *COMMON, replicates=30)
        chunked = plan.run(batch_replicates=batch_replicates)
        pd.testing.assert_frame_equal(chunked.replicates, result, check_exact=True)
    for point, row in DESIGN.iterrows():
        mine = result[result["point"] == point].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, _alone(row, 30), check_exact=True)


@pytest.mark.slow
def test_doctrines_that_differ_in_numbers_share_a_batch():
    plan = plan_design(DESIGN, *COMMON, replicates=5)
    sizes = sorted(len(batch.points) for batch in plan.batches)
    assert sizes == [1, 3]  # the three US doctrines together; the other reach alone
    shared = next(b for b in plan.batches if len(b.points) == 3)
    assert shared.per_point["doctrine.us.decapitation_probability"] == [0.0, 0.3, 0.0]


@pytest.mark.slow
def test_the_summary_has_a_row_per_point_with_outcome_shares():
    result = run_design(DESIGN.iloc[:2], *COMMON, replicates=20)
    summary = result.summary()
    assert list(summary["point"]) == [0, 1]
    shares = summary.filter(like="share_").sum(axis=1)
    assert shares.round(12).eq(1.0).all()
    assert (result.replicates.groupby("point").size() == 20).all()


def test_grid_is_the_full_factorial():
    table = grid(["doctrine.us.kill_threshold=1,2,3", "doctrine/us=red_line,syria_only"])
    assert len(table) == 6
    assert table.iloc[1].tolist() == [1, "syria_only"]
    assert table["doctrine.us.kill_threshold"].tolist() == [1, 1, 2, 2, 3, 3]


BAD = [
    ("doctrine.us.response_lagdays\n2\n", "column doctrine.us.response_lagdays: not a parameter"),
    (
        "doctrine.us.respond_if_us_killed\n0.5\n1.5\n",
        "point 1, doctrine.us.respond_if_us_killed = 1.5: must be a probability in [0, 1]",
    ),
    ("doctrine.us.response_lag_days\n2.5\n", "response_lag_days = 2.5: must be a whole number"),
    ("doctrine.us.response_lag_days\nnan\n", "response_lag_days = nan: must be a whole number"),
    ("doctrine.us.strike_fighter_loss\ninf\n", "strike_fighter_loss = inf: must be a fraction"),
    ("a,b\n1,2,3\n", "line 2: 3 values, the header has 2"),
    ("doctrine/us,doctrine.us.kill_threshold\nred_line,\n", "line 2, doctrine.us.kill_threshold"),
    ("doctrine/us\nnope\n", "doctrine/us: no option 'nope'"),
    ("doctrine/us\n3\n", "doctrine/us = 3: must be the name of an option"),
    ("seed\n3\n", "column 'seed': every point runs the same seed"),
    ("doctrine.us.response_lag_days\n", "no points"),
    ("doctrine.us.name\nx\n", "doctrine.us.name: not a numeric parameter"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_design_is_refused_in_one_line_and_nothing_is_written(
    text, message, tmp_path, capsys
):
    design = tmp_path / "design.csv"
    design.write_text(text)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main([str(design), "--replicates", "2", "--out", str(out), "--quiet", "days=5"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert err.startswith("escalation-design: error:") and "\n" not in err
    assert not out.exists()


def test_bad_command_lines_are_refused(tmp_path, capsys):
    for argv in (["--grid", "doctrine.us.kill_threshold"], ["--replicates", "0", "--grid", "x=1"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--out", str(tmp_path / "o")])
        assert exit_.value.code == 2
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit):
        main(["--grid", "doctrine.us.kill_threshold=1", "--out", str(tmp_path / "file" / "o")])
    assert "is a file" in capsys.readouterr().err


def test_the_command_writes_the_results_and_the_design(tmp_path, capsys):
    out = tmp_path / "out"
    main(["--grid", "doctrine.us.kill_threshold=1,2", "--replicates", "4", "--out", str(out),
          "days=30"])  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == [
        "chunks", "design.csv", "design.json", "design_results.parquet", "design_summary.csv",
    ]  # fmt: skip
    assert sorted(p.name for p in (out / "chunks").iterdir()) == ["0.parquet", "plan.json"]
    results = pd.read_parquet(out / "design_results.parquet")
    assert len(results) == 8 and set(results["point"]) == {0, 1}
    assert "Results:" in capsys.readouterr().out


def test_a_python_design_is_checked_too():
    with pytest.raises(ConfigError, match="point 0, doctrine.iraq.raid_rate = -1"):
        run_design(pd.DataFrame({"doctrine.iraq.raid_rate": [-1.0]}), "days=5")


@pytest.mark.slow
def test_a_named_study_runs_as_one_batched_design(tmp_path):
    """``--experiment`` runs the study's swept values with its settings: each point is the
    job ``escalation-sim -m experiment=NAME`` would run for those values."""
    out = tmp_path / "out"
    main(["--experiment", "deterrence_threshold", "--replicates", "6", "--out", str(out),
          "--quiet", "days=60"])  # fmt: skip
    points = pd.read_csv(out / "design.csv")
    assert len(points) == 15  # 3 thresholds x 5 lags
    results = pd.read_parquet(out / "design_results.parquet")
    row = points[(points["doctrine.us.kill_threshold"] == 2)].iloc[2]
    job = compose(
        "experiment=deterrence_threshold", "days=60", "replicates=6", "output.events=none",
        f"doctrine.us.kill_threshold={row['doctrine.us.kill_threshold']}",
        f"doctrine.us.response_lag_days={row['doctrine.us.response_lag_days']}",
    )  # fmt: skip
    assert job.doctrine.us.name == "red_line"  # the study's own doctrine
    mine = results[results["point"] == row["point"]].drop(columns="point")
    pd.testing.assert_frame_equal(
        mine.reset_index(drop=True), run(job).replicates, check_exact=True
    )


def test_an_unknown_study_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--experiment", "nope", "--out", str(tmp_path / "o")])
    assert exit_.value.code == 2
    assert "--experiment nope: no such study (choose from:" in capsys.readouterr().err


README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _readme_design_commands() -> list[list[str]]:
    """The commands of the code blocks of the README's section on designs (comments, such
    as the cluster example, left out)."""
    section = README.split("## Designs", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```")[1::2]
    lines = [line.split("#")[0].split() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


@pytest.mark.slow
@pytest.mark.parametrize("command", _readme_design_commands(), ids=lambda c: " ".join(c[1:5]))
def test_the_readme_design_commands_run(command, tmp_path, monkeypatch):
    """Each design command of the README runs (at a small size), a table read from the
    folder it runs in."""
    assert command[0] == "escalation-design"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.csv").write_text(
        "doctrine/us,doctrine.us.response_lag_days\nred_line,2\ndecapitation,5\n"
    )
    args = [a for a in command[1:] if not a.startswith("days=")]
    if "--replicates" in args:
        i = args.index("--replicates")
        del args[i : i + 2]
    main([*args, "--replicates", "3", "--quiet", "--out", str(tmp_path / "out"), "days=20"])
    assert (tmp_path / "out" / "design_results.parquet").is_file()


# --- chunks: processes, cluster tasks, resume ----------------------------------------------------

#: six points (two lags x three doctrines); the last two items are "--quiet" and the days
CHUNKED = [
    "--grid", "doctrine.us.response_lag_days=1,4",
    "--grid", "doctrine/us=red_line,restraint,syria_only",
    "--replicates", "6", "--quiet", "days=40",
]  # fmt: skip


def _results(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "design_results.parquet")


@pytest.mark.slow
def test_a_design_gives_the_same_tables_however_it_is_cut(tmp_path):
    """In one piece, in 4 chunks over 2 processes, or as 3 tasks of an array job run in any
    order: the same rows, bit for bit (common random numbers)."""
    main([*CHUNKED, "--out", str(tmp_path / "whole")])
    main([*CHUNKED, "--out", str(tmp_path / "processes"), "--chunks", "4", "--workers", "2"])
    for i in (2, 0, 1):
        main([*CHUNKED, "--out", str(tmp_path / "tasks"), "--chunks", "3", "--chunk", str(i)])
    whole = _results(tmp_path / "whole")
    assert len(whole) == 6 * 6
    for cut in ("processes", "tasks"):
        pd.testing.assert_frame_equal(_results(tmp_path / cut), whole, check_exact=True)
        summary = pd.read_csv(tmp_path / cut / "design_summary.csv")
        pd.testing.assert_frame_equal(
            summary, pd.read_csv(tmp_path / "whole" / "design_summary.csv")
        )


def test_a_stopped_design_resumes_running_each_chunk_once(tmp_path, monkeypatch, capsys):
    """Chunks 0 and 2 of 4 done (as a killed run leaves them), the same command runs only
    1 and 3, and writes the tables; a task of an unfinished array job writes none."""
    import sim.design_chunks as chunks

    out = tmp_path / "out"
    main([*CHUNKED[:-2], "days=40", "--out", str(out), "--chunks", "4", "--chunk", "0"])
    assert "Chunk 0 of 4 done; 3 to go" in capsys.readouterr().out
    main([*CHUNKED, "--out", str(out), "--chunks", "4", "--chunk", "2"])
    assert not (out / "design_results.parquet").exists()
    ran = []
    real = chunks.run_chunk
    monkeypatch.setattr(chunks, "run_chunk", lambda *a: ran.append(a[-1]) or real(*a))
    main([*CHUNKED, "--out", str(out), "--chunks", "4"])
    assert sorted(ran) == [1, 3]
    main([*CHUNKED, "--out", str(tmp_path / "whole")])
    pd.testing.assert_frame_equal(_results(out), _results(tmp_path / "whole"), check_exact=True)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--chunks", "4", "days=41"], "holds chunks of another plan (overrides differ)"),
        (["--chunks", "3"], "holds chunks of another plan (chunks differ)"),
        (["--chunks", "4", "--chunk", "4"], "--chunk = 4: must be in 0 .. 3"),
        (["--chunks", "0"], "--chunks = 0: must be a whole number >= 1"),
        (["--chunks", "7"], "--chunks = 7: the design has only 6 points"),
        (["--workers", "0"], "--workers = 0: must be a whole number >= 1"),
    ],
)
def test_a_chunked_run_that_does_not_fit_is_refused_in_one_line(extra, message, tmp_path, capsys):
    out = tmp_path / "out"
    main([*CHUNKED, "--out", str(out), "--chunks", "4", "--chunk", "1"])
    capsys.readouterr()
    before = sorted(p.name for p in (out / "chunks").iterdir())
    with pytest.raises(SystemExit) as exit_:
        main([*CHUNKED, "--out", str(out), *extra])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert sorted(p.name for p in (out / "chunks").iterdir()) == before


def test_a_task_needs_the_folder_and_the_number_of_chunks(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*CHUNKED, "--chunk", "1", "--chunks", "4"])
    assert exit_.value.code == 2
    assert "--chunk: give --chunks and --out too" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_design_resumes_where_it_stopped(tmp_path):
    """SIGKILL a design after some of its chunks are written: the same command finishes it,
    leaves the chunks done before the kill as they were, and gives the tables of a run in
    one piece."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    args = [*CHUNKED, "--out", str(out), "--chunks", "6"]
    code = "import sys; from sim.design import main; main(sys.argv[1:])"
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (out / "chunks" / "1.parquet").exists() and proc.poll() is None:
        assert time.monotonic() < deadline, "no chunk written in two minutes"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in (out / "chunks").glob("*.parquet")}
    assert 2 <= len(done) < 6 or proc.returncode == 0  # killed part way (unless too late)
    main(args)
    after = {p.name: p.stat().st_mtime_ns for p in (out / "chunks").glob("*.parquet")}
    assert len(after) == 6
    assert all(after[name] == mtime for name, mtime in done.items())  # not run again
    main([*CHUNKED, "--out", str(tmp_path / "whole")])
    pd.testing.assert_frame_equal(_results(out), _results(tmp_path / "whole"), check_exact=True)


@pytest.mark.slow
def test_a_design_sent_to_a_cluster_array_gives_the_same_tables(tmp_path):
    """The chunks as the tasks of one submitit job array (on the local cluster, processes of
    this machine, the path a SLURM array takes): the tables of a run in one piece."""
    out = tmp_path / "array"
    main([*CHUNKED, "--out", str(out), "--chunks", "3", "--cluster", "local"])
    assert sorted(p.name for p in (out / "chunks").glob("*.parquet")) == [
        "0.parquet", "1.parquet", "2.parquet",
    ]  # fmt: skip
    assert (out / "chunks" / "submitit").is_dir()  # the tasks' logs
    main([*CHUNKED, "--out", str(tmp_path / "whole")])
    pd.testing.assert_frame_equal(_results(out), _results(tmp_path / "whole"), check_exact=True)


def test_the_slurm_array_takes_the_sweeps_launcher_settings_and_the_command_lines():
    from sim.design import _launcher_settings
    from sim.design_chunks import slurm_settings

    launcher = _launcher_settings("slurm")
    assert launcher["timeout_min"] == 30 and launcher["mem_gb"] == 2
    chosen = slurm_settings(launcher, ["partition=short", "mem_gb=4"])
    assert chosen["slurm_partition"] == "short" and chosen["mem_gb"] == 4
    assert chosen["slurm_array_parallelism"] == 256 and "slurm_account" not in chosen
    with pytest.raises(ConfigError, match=r"--slurm 'gpus=1': must be KEY=VALUE with KEY one of"):
        slurm_settings(launcher, ["gpus=1"])
