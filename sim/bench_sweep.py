"""``escalation-bench --sweep N``: how long a sweep of N jobs takes, end to end.

It runs ``escalation-sim -m experiment=interdiction_supply seed=range(0,K)`` (20 jobs per
seed, 100 replicates x 365 days each) in a subprocess under the chosen launcher, exactly as
a user would, into a temporary folder, and records the wall time from the command's start
to its end (Hydra start-up, every job, the consolidated report), with the per-job seconds
from the job records: the time of the ensemble and its files, without Hydra's composition of
each job's configuration. One record is appended to ``benchmarks/sweeps.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sim.io import machine, source_tree
from sim.sweep import JOB_FILE

EXPERIMENT = "interdiction_supply"
JOBS_PER_SEED = 20  # the experiment's 5 x 4 grid
#: the issue's goal for 1,000 jobs of 100 replicates x 365 days on a 2-core machine
TARGET_SECONDS_PER_1000_JOBS = 600.0
#: the records' file, beside the benchmark's ``results.json``
RESULTS_FILE = "sweeps.json"
QUICK = ("replicates=10", "days=30")


def sweep_benchmark(
    jobs: int, launcher: str = "joblib_batched", quick: bool = False
) -> dict[str, Any]:
    """Run the sweep and return its record (nothing is written but a temporary folder)."""
    seeds = max(1, math.ceil(jobs / JOBS_PER_SEED))
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as tmp:
        folder = Path(tmp) / "sweep"
        args = [
            "-m", f"experiment={EXPERIMENT}", f"seed=range(0,{seeds})",
            f"hydra/launcher={launcher}", *(QUICK if quick else ()),
        ]  # fmt: skip
        command = [sys.executable, "-m", "sim.cli", *args, f"hydra.sweep.dir={folder}"]
        started = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - started
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"the sweep failed (exit {out.returncode}): {last}")
        records = [json.loads(p.read_text()) for p in folder.glob(f"*/{JOB_FILE}")]
        first = json.loads((folder / "0" / JOB_FILE).read_text())
    seconds = [r["seconds"] for r in records]
    n = len(records)
    per_1000 = wall / n * 1000
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        **source_tree(),
        "command": "escalation-sim " + " ".join(args),
        "quick": quick,
        "launcher": launcher,
        "jobs": n,
        "replicates": first["replicates"],
        "days": first["days"],
        "wall_seconds": round(wall, 1),
        "job_seconds_median": round(statistics.median(seconds), 3),
        "job_seconds_total": round(sum(seconds), 1),
        "wall_per_1000_jobs": round(per_1000, 1),
        "target_per_1000_jobs": TARGET_SECONDS_PER_1000_JOBS,
        "target_met": (not quick) and per_1000 <= TARGET_SECONDS_PER_1000_JOBS,
        "cpu_count": os.cpu_count(),
    }


def describe(record: dict[str, Any]) -> str:
    """The lines the command prints."""
    n, wall = record["jobs"], record["wall_seconds"]
    other = wall * (record["cpu_count"] or 1) - record["job_seconds_total"]
    verdict = "quick run, no target" if record["quick"] else (
        f"target <= {record['target_per_1000_jobs'] / 60:.0f} min per 1,000 jobs: "
        + ("met" if record["target_met"] else "NOT met")
    )  # fmt: skip
    return "\n".join(
        [
            f"sweep of {n:,} jobs x {record['replicates']} replicates x {record['days']} days "
            f"({record['launcher']} launcher, {record['cpu_count']} CPUs): {wall:,.1f} s wall",
            f"  per job: {record['job_seconds_median']:.2f} s median for the ensemble and its "
            f"files; about {other / n:.2f} core-seconds more per job for Hydra (composing the "
            "job's configuration, its .hydra/ files), start-up and the report",
            f"  per 1,000 jobs: {record['wall_per_1000_jobs'] / 60:.1f} min ({verdict})",
        ]
    )
