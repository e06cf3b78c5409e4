"""``python -m sim.bench_analysis`` (``make bench-analysis``): how long the analyses take,
end to end, at the sizes of the issue's targets.

Each analysis runs as a user runs it, in a subprocess (start-up, composing, planning, the
design, the indices or scores, the files), into a temporary folder; the record holds each
one's wall seconds, peak resident memory, size and target, the machine and its load
average at the start (the benchmark machine is often shared). One record is appended to
``benchmarks/analysis.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sim.errors import fail
from sim.files import atomic_write
from sim.io import machine, source_tree

PROG = "bench-analysis"
#: the records' file, beside the benchmark's ``results.json``
RESULTS_FILE = "analysis.json"

#: name -> (module, arguments, points, replicates, target seconds); the targets are the
#: issue's for a 2-core machine. Sobol computes second-order indices too, so N = 1,024
#: base samples of 10 parameters make 1,024 x (2 x 10 + 2) = 22,528 points, the issue's
#: count.
RUNS = {
    "morris_assumptions": (
        "sim.analysis.sensitivity",
        ["--method", "morris", "--parameters", "configs/analysis/assumptions.yaml",
         "--n", "20", "--replicates", "100"],
        20 * 16, 100, 120.0,
    ),
    "sobol_deep_uncertainties": (
        "sim.analysis.sensitivity",
        ["--parameters", "configs/analysis/deep_uncertainties.yaml", "--n", "1024",
         "--replicates", "20", "--second-order"],
        1024 * 22, 20, 600.0,
    ),
    "tournament_6x4": (
        "sim.analysis.tournament",
        ["--worlds", "500", "--replicates", "50"],
        24 * 500, 50, 600.0,
    ),
}  # fmt: skip
#: what --quick adds (later options win): a smoke test of the same paths
QUICK = {
    "morris_assumptions": ["--n", "2", "--replicates", "2", "days=30"],
    "sobol_deep_uncertainties": ["--n", "2", "--replicates", "2", "days=30"],
    "tournament_6x4": [
        "--worlds", "2", "--replicates", "2", "days=30", "--us", "restraint", "--iran",
        "calibrated",
    ],
}  # fmt: skip


def run_command(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``argv`` in ``cwd``; its wall seconds and the peak resident memory of its process
    in MB, measured as ``escalation-bench`` measures its command-line runs (no module imports
    a command's module, hence this copy). RuntimeError with its last line of errors if it
    fails."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            last = (errors.read().strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"{' '.join(argv[1:3])} failed: {last}")
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS
    return wall, usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)


def append_record(path: Path, record: dict[str, Any]) -> int:
    """Append ``record`` to the JSON list in ``path`` (atomically); the list's length."""
    records = json.loads(path.read_text()) if path.is_file() and path.stat().st_size else []
    records.append(record)
    text = json.dumps(records, indent=2) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return len(records)


def analysis_benchmark(quick: bool = False) -> dict[str, Any]:
    """Run each analysis and return the record (nothing is written but temporary folders)."""
    root = Path(__file__).resolve().parent.parent
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    runs = {}
    for name, (module, args, points, replicates, target) in RUNS.items():
        extra = QUICK[name] if quick else []
        with tempfile.TemporaryDirectory(prefix="escalation-bench-") as tmp:
            argv = [sys.executable, "-m", module, *args, *extra, "--quiet", "--out", f"{tmp}/out"]
            wall, rss_mb = run_command(argv, cwd=root)
        runs[name] = {
            "command": " ".join(["python -m", module, *args, *extra]),
            "points": None if quick else points,
            "replicates": None if quick else replicates,
            "days": 30 if quick else 365,
            "wall_seconds": round(wall, 1),
            "peak_rss_mb": round(rss_mb),
            "target_seconds": target,
            "target_met": (not quick) and wall <= target,
        }
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        **source_tree(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": None if load is None else round(load, 2),
        "quick": quick,
        "runs": runs,
    }


def describe(record: dict[str, Any]) -> str:
    """The lines the benchmark prints."""
    lines = [
        f"analyses on {record['cpu_count']} CPUs (load average {record['load_average_at_start']} "
        "at the start)"
    ]
    for name, run in record["runs"].items():
        verdict = "quick run, no target" if record["quick"] else (
            f"target {run['target_seconds']:.0f} s: " + ("met" if run["target_met"] else "NOT met")
        )  # fmt: skip
        size = "" if record["quick"] else f"{run['points']:,} points x {run['replicates']} reps, "
        lines.append(
            f"  {name}: {size}{run['wall_seconds']:,.1f} s, {run['peak_rss_mb']:,} MB ({verdict})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the analysis benchmark and append its record."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test at tiny sizes")
    parser.add_argument("--no-record", action="store_true", help="do not append the record")
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help=f"results file (default benchmarks/{RESULTS_FILE})",
    )
    args = parser.parse_args(argv)
    try:
        record = analysis_benchmark(quick=args.quick)
    except RuntimeError as exc:
        fail(PROG, str(exc))
    print(describe(record))
    if not args.no_record:
        root = Path(__file__).resolve().parent.parent
        path = args.results or root / "benchmarks" / RESULTS_FILE
        count = append_record(path, record)
        print(f"Recorded in {path} ({count} record{'s' if count != 1 else ''})")


if __name__ == "__main__":
    main()
