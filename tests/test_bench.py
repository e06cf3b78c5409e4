"""The benchmark command: it measures every path, prints every figure and appends one record.

Wall-clock figures are never asserted: only that they are there and make sense.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from sim import bench

BENCH = Path(sys.executable).with_name("escalation-bench")
PATHS = ("Mesa model", "batched ensemble", "floor (")


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    """One quick benchmark, recorded into a results file that already holds a record."""
    path = tmp_path_factory.mktemp("bench") / "results.json"
    earlier = {"date": "2000-01-01T00:00:00+00:00", "note": "an earlier record"}
    path.write_text(json.dumps([earlier]) + "\n")
    bench.main(["--quick", "--results", str(path)])
    return path, earlier


def test_quick_run_without_recording_prints_every_figure(tmp_path, capsys):
    results = tmp_path / "results.json"
    bench.main(["--quick", "--no-record", "--results", str(results)])
    out = capsys.readouterr().out
    assert not results.exists()
    rows = [line for line in out.splitlines() if line.startswith(PATHS)]
    sizes = len(bench.QUICK_SIZES)
    assert [row.split()[0] for row in rows] == ["Mesa"] + ["batched"] * sizes + ["floor"]
    for row in rows:
        *_, replicates, days, seconds, rate, peak = row.split()
        assert int(replicates.replace(",", "")) >= 1 and int(days) == bench.QUICK_DAYS
        assert float(seconds) > 0 and float(rate.replace(",", "")) > 0 and float(peak) >= 0
    for needle in ("rep-days/s", "/ Mesa:", "floor / ensemble", "uniforms per replicate-day"):
        assert needle in out, needle
    assert "Recorded in" not in out


def test_recording_appends_exactly_one_record(quick_record):
    path, earlier = quick_record
    records = json.loads(path.read_text())
    assert len(records) == 2 and records[0] == earlier
    record = records[1]
    assert record["quick"] is True and record["days"] == bench.QUICK_DAYS
    for key in ("date", "python", "numpy", "git_commit", "process_max_rss_mb"):
        assert key in record, key
    assert {"node", "processor", "cpu_count"} <= set(record["machine"])
    assert record["mesa"]["replicates"] == 1 and record["mesa"]["rep_days_per_s"] > 0
    assert [e["replicates"] for e in record["ensemble"]] == list(bench.QUICK_SIZES)
    for figure in (record["mesa"], *record["ensemble"], record["floor"]):
        assert figure["rep_days_per_s"] > 0 and figure["peak_mb"] >= 0 and figure["runs"]
    assert record["floor"]["replicates"] == bench.QUICK_SIZES[-1]
    ratios = record["ratios"]
    top = record["ensemble"][-1]["rep_days_per_s"]
    assert ratios["ensemble_over_mesa"] == pytest.approx(
        top / record["mesa"]["rep_days_per_s"], rel=1e-2
    )
    # the floor and the largest ensemble take turns; the ratio is the median turn's
    turns = zip(record["ensemble"][-1]["runs"], record["floor"]["runs"], strict=True)
    assert ratios["floor_over_ensemble"] == pytest.approx(
        statistics.median(e / f for e, f in turns), rel=1e-2
    )
    assert set(record["targets_met"]) == set(bench.TARGETS)


def test_a_second_record_appends_again_and_leaves_no_temporary_file(quick_record, tmp_path):
    path, _ = quick_record
    copy = tmp_path / "results.json"
    copy.write_text(path.read_text())
    bench.append_record(copy, {"note": "third"})
    assert [r.get("note") for r in json.loads(copy.read_text())][-1] == "third"
    assert len(json.loads(copy.read_text())) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_results_file_must_hold_a_list(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="JSON list"):
        bench.append_record(path, {})


@pytest.mark.slow
def test_console_script_runs(tmp_path):
    proc = subprocess.run(
        [str(BENCH), "--quick", "--no-record", "--repeats", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "batched ensemble" in proc.stdout and "floor" in proc.stdout
    bad = subprocess.run(
        [str(BENCH), "--repeats", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "--repeats" in bad.stderr


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
