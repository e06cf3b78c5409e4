"""The benchmark command: it measures every path, prints every figure and appends one record.

Wall-clock figures are never asserted: only that they are there and make sense.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim import bench
from sim.design import grid, plan_design

BENCH = Path(sys.executable).with_name("escalation-bench")
PATHS = ("Mesa model", "batched ensemble", "design", "command line run")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick benchmark, recorded into a results file that already holds a record; its
    printed output."""
    path = tmp_path_factory.mktemp("bench") / "results.json"
    earlier = {"date": "2000-01-01T00:00:00+00:00", "note": "an earlier record"}
    path.write_text(json.dumps([earlier]) + "\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bench.main(["--quick", "--results", str(path)])
    return path, earlier, out.getvalue()


def canned_record(quick: bool) -> dict:
    """A record of the shape ``benchmark`` returns, with made-up figures."""
    figure = {"days": 365, "seconds": 1.0, "runs": [1.0], "peak_mb": 10.0}
    return {
        "quick": quick,
        "mesa": {**figure, "replicates": 1, "rep_days_per_s": 1_000.0},
        "ensemble": [{**figure, "replicates": R, "rep_days_per_s": R * 200.0} for R in bench.SIZES],
        "design": {
            "command": "escalation-design ...",
            "parameters": bench.design_grid(bench.DESIGN[0]),
            "points": 1_000,
            "replicates": 100,
            "days": 365,
            "rows": 100_000,
            "seconds": 70.0,
            "rep_days_per_s": 521_428.6,
            "peak_rss_mb": 1_500.0,
        },
        "command_line": {
            "command": "escalation-sim replicates=10000 hydra.run.dir=OUT",
            "replicates": 10_000,
            "days": 365,
            "seconds": 8.0,
            "peak_rss_mb": 450.0,
            "warm_up_seconds": 12.0,
            "warm_up_peak_rss_mb": 450.0,
        },
        "ratios": {"at_replicates": 10_000, "ensemble_over_mesa": 2_000.0},
        "targets": bench.TARGETS,
        "targets_met": {name: name != "design_seconds" and not quick for name in bench.TARGETS},
        "process_max_rss_mb": 400.0,
    }


def figure_rows(out: str) -> list[str]:
    """The table's rows (the notes and verdicts below it have a colon)."""
    return [line for line in out.splitlines() if line.startswith(PATHS) and ":" not in line]


@pytest.mark.slow
def test_quick_run_prints_every_figure(quick_run):
    *_, out = quick_run
    rows = figure_rows(out)
    sizes = len(bench.QUICK_SIZES)
    names = ["Mesa", *["batched"] * sizes, "design", "command"]
    assert [row.split()[0] for row in rows] == names
    for row in rows[:-2]:  # the paths timed in the benchmark's process
        *_, replicates, days, seconds, rate, peak = row.split()
        assert int(replicates.replace(",", "")) >= 1 and int(days) == bench.QUICK_DAYS
        assert float(seconds) > 0 and float(rate.replace(",", "")) > 0 and float(peak) >= 0
    counts, replicates, days = bench.QUICK_DESIGN
    design = rows[-2].split()
    assert design[1:4] == [f"{counts[0] * counts[1] * counts[2]:,}", "x", str(replicates)]
    assert int(design[4]) == days and float(design[5]) > 0 and float(design[7]) > 0
    assert float(design[6].replace(",", "")) > 0
    cli = rows[-1].split()
    assert int(cli[3].replace(",", "")) == bench.QUICK_COMMAND_LINE[0]
    assert float(cli[5]) > 0 and cli[6] == "-" and float(cli[7]) > 0
    for needle in ("rep-days/s", "/ Mesa:", "design peak RSS", "command line run peak RSS"):
        assert needle in out, needle
    # one verdict per target, none counted on a quick run
    assert out.count("quick run, not counted") == len(bench.TARGETS)
    assert "floor" not in out
    assert "Recorded in" in out


@pytest.mark.slow
def test_recording_appends_exactly_one_record_with_the_new_fields(quick_run):
    path, earlier, _ = quick_run
    records = json.loads(path.read_text())
    assert len(records) == 2 and records[0] == earlier
    record = records[1]
    assert record["quick"] is True and record["days"] == bench.QUICK_DAYS
    for key in ("date", "python", "numpy", "git_commit", "process_max_rss_mb"):
        assert key in record, key
    assert "floor" not in record and "floor_over_ensemble" not in record["ratios"]
    assert {"node", "processor", "cpu_count"} <= set(record["machine"])
    assert record["mesa"]["replicates"] == 1 and record["mesa"]["rep_days_per_s"] > 0
    assert [e["replicates"] for e in record["ensemble"]] == list(bench.QUICK_SIZES)
    for figure in (record["mesa"], *record["ensemble"]):
        assert figure["rep_days_per_s"] > 0 and figure["peak_mb"] >= 0 and figure["runs"]
    top = record["ensemble"][-1]["rep_days_per_s"]
    assert record["ratios"]["ensemble_over_mesa"] == pytest.approx(
        top / record["mesa"]["rep_days_per_s"], rel=1e-2
    )
    counts, replicates, days = bench.QUICK_DESIGN
    design = record["design"]
    points = counts[0] * counts[1] * counts[2]
    assert (design["points"], design["replicates"], design["days"]) == (points, replicates, days)
    assert design["rows"] == points * replicates
    assert design["parameters"] == bench.design_grid(counts)
    assert design["command"].startswith("escalation-design --grid ")
    assert design["command"].endswith(f"--out OUT --quiet days={days}")
    assert design["seconds"] > 0 and design["peak_rss_mb"] > 0
    assert design["rep_days_per_s"] == pytest.approx(
        points * replicates * days / design["seconds"], rel=1e-3
    )
    cli = record["command_line"]
    assert cli["command"] == (
        f"escalation-sim replicates={bench.QUICK_COMMAND_LINE[0]} "
        f"days={bench.QUICK_DAYS} hydra.run.dir=OUT"
    )
    assert (cli["replicates"], cli["days"]) == (bench.QUICK_COMMAND_LINE[0], bench.QUICK_DAYS)
    for key in ("seconds", "peak_rss_mb", "warm_up_seconds", "warm_up_peak_rss_mb"):
        assert cli[key] > 0, key
    assert record["targets"] == bench.TARGETS
    # a quick run's sizes are not the targets': it never counts against them
    assert record["targets_met"] == {name: False for name in bench.TARGETS}


def test_a_full_record_prints_a_verdict_for_each_target():
    out = bench.table(canned_record(quick=False))
    assert [row.split()[0] for row in figure_rows(out)] == (
        ["Mesa"] + ["batched"] * len(bench.SIZES) + ["design", "command"]
    )
    verdicts = [line for line in out.splitlines() if "(target " in line]
    assert len(verdicts) == len(bench.TARGETS)
    assert [line.endswith("NOT met)") for line in verdicts] == [
        False, False, True, False, False, False,
    ]  # fmt: skip
    assert "design of 1,000 points x 100 replicates x 365 days: 70.0 s" in out
    assert "ensemble at R = 10,000: 2,000,000 rep-days/s (target >= 1,000,000: met)" in out


def test_no_record_appends_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "benchmark", lambda **_: canned_record(quick=True))
    results = tmp_path / "results.json"
    bench.main(["--quick", "--no-record", "--results", str(results)])
    out = capsys.readouterr().out
    assert not results.exists() and "Recorded in" not in out
    assert out.count("quick run, not counted") == len(bench.TARGETS)


def test_a_failed_command_stops_the_benchmark_with_one_line(monkeypatch, capsys):
    def failing(**_):
        raise RuntimeError("escalation-design failed (exit 2): bad value")

    monkeypatch.setattr(bench, "benchmark", failing)
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--quick", "--no-record"])
    assert exit_.value.code == 2
    assert "escalation-bench: error: escalation-design failed" in capsys.readouterr().err


@pytest.mark.slow
def test_run_command_times_a_child_and_reads_its_peak_resident_memory(tmp_path):
    seconds, rss_mb = bench.run_command(
        [sys.executable, "-c", "data = b'x' * (120 * 2**20)"], tmp_path
    )
    assert seconds > 0 and rss_mb >= 120
    with pytest.raises(RuntimeError, match=r"failed \(exit 1\): the last line"):
        bench.run_command(
            [sys.executable, "-c", "import sys; sys.exit('first line\\nthe last line')"],
            tmp_path,
        )


@pytest.mark.parametrize(
    "design",
    [
        pytest.param(bench.QUICK_DESIGN, id="quick"),
        pytest.param(bench.DESIGN, id="full", marks=pytest.mark.slow),
    ],
)
def test_the_design_is_one_batch_of_allowed_values_over_each_range(design):
    counts, replicates, days = design
    values = bench.design_grid(counts)
    for (path, low, high, _), n in zip(bench.DESIGN_AXES, counts, strict=True):
        assert len(set(values[path])) == n
        assert (min(values[path]), max(values[path])) == pytest.approx((low, high))
    # the arguments the command is given: its grid, as escalation-design reads it
    argv = bench.design_arguments(values, replicates, days, "OUT")
    specs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--grid"]
    assert argv[-6:] == ["--replicates", str(replicates), "--out", "OUT", "--quiet", f"days={days}"]
    table = grid(specs)
    assert len(table) == counts[0] * counts[1] * counts[2]
    # every value is allowed, and the points are stepped together in one batch
    plan = plan_design(table, f"days={days}", replicates=replicates)
    (batch,) = plan.batches
    assert len(batch.points) == len(table)


def test_results_file_gains_a_record_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps([{"note": "first"}]) + "\n")
    assert bench.append_record(path, {"note": "second"}) == 2
    assert [r["note"] for r in json.loads(path.read_text())] == ["first", "second"]
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_results_file_must_hold_a_list(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="JSON list"):
        bench.append_record(path, {})


@pytest.mark.slow
def test_console_script_is_installed_and_checks_its_arguments(tmp_path):
    bad = subprocess.run(
        [str(BENCH), "--repeats", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "--repeats" in bad.stderr


def test_help_names_the_quick_run(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--help"])
    assert exit_.value.code == 0 and "--quick" in capsys.readouterr().out


@pytest.mark.slow
def test_sweep_timing_runs_a_real_sweep_and_records_it(tmp_path, capsys):
    """--sweep times the command a user runs; its per-job seconds come from the job records."""
    results = tmp_path / "sweeps.json"
    bench.main(["--sweep", "20", "--quick", "--launcher", "basic", "--results", str(results)])
    out = capsys.readouterr().out
    (record,) = json.loads(results.read_text())
    assert record["jobs"] == 20 and record["launcher"] == "basic"
    assert (record["replicates"], record["days"]) == (10, 30)
    assert record["command"].startswith("escalation-sim -m experiment=interdiction_supply")
    assert 0 < record["job_seconds_median"] <= record["job_seconds_total"]
    assert record["job_seconds_total"] < record["wall_seconds"] * record["cpu_count"]
    assert record["target_met"] is False  # a quick run is never counted against the target
    assert "sweep of 20 jobs" in out and "Recorded in" in out


def test_sweep_timing_refuses_bad_counts(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--sweep", "0"])
    assert exit_.value.code == 2
    assert "--sweep: must be at least 1" in capsys.readouterr().err
