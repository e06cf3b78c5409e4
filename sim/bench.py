"""The ``escalation-bench`` command: how fast the model runs, as a library and as commands.

On the default scenario it measures

- in its own process, replicate-days per second of the Mesa model
  (``sim.model.EscalationModel``, one replicate) and of the batched ensemble
  (``sim.engine.Simulation``) at R = 100, 1,000 and 10,000, each timed from the
  configuration to the end of the horizon (building the model and stepping it; no result
  tables, no files), the median of a few runs, with the peak memory of one more run under
  ``tracemalloc``;
- in subprocesses, as a user runs them, from start-up to the last file written, with the
  child's peak resident memory (``os.wait4``): a design of 1,000 parameter points x 100
  replicates x 365 days (``escalation-design --grid ... --grid ... --grid ...``), and the
  command-line run ``escalation-sim replicates=10000``, once to warm the compiled-code
  cache and once timed.

It prints a table and a verdict for each target, and appends one record to
``benchmarks/results.json`` (see ``benchmarks/README.md`` for the targets).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from sim import bench_sweep
from sim.config import compose
from sim.engine import Simulation
from sim.errors import fail
from sim.io import atomic_write, machine, source_tree
from sim.model import EscalationModel

PROG = "escalation-bench"
SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (10, 100)
QUICK_DAYS = 30
#: the goals the model is measured against (benchmarks/README.md)
TARGETS = {
    "ensemble_rep_days_per_s": 1_000_000,  # at the largest R, at least
    "ensemble_over_mesa": 300.0,  # at the largest R, at least
    "design_seconds": 60.0,  # the design, end to end, at most
    "design_peak_rss_mb": 4096.0,  # the design's process, under
    "command_line_seconds": 10.0,  # escalation-sim replicates=10000, warm, under
    "command_line_peak_rss_mb": 2048.0,  # its process, under
}
#: the design timed: three numeric parameters that act, each over its plausible range
#: (path, low, high, spacing); every point runs the same replicates
DESIGN_AXES = (
    ("doctrine.us.respond_if_us_wounded", 0.0, 1.0, "linear"),  # the doctrines span 0-1
    ("doctrine.iran.green_light", 0.1, 1.0, "linear"),  # the doctrines span 0.3-0.95
    ("actors.dynamics.learning_rate", 0.02, 0.4, "log"),  # its calibration range
)
#: values per axis, replicates per point, days
DESIGN = ((10, 10, 10), 100, 365)
QUICK_DESIGN = ((5, 2, 2), 10, QUICK_DAYS)
#: the command-line run timed: replicates, days (None: the scenario's horizon)
COMMAND_LINE = (10_000, None)
QUICK_COMMAND_LINE = (100, QUICK_DAYS)


@dataclasses.dataclass
class Measure:
    """One benchmarked path at one size: wall times of the runs and peak traced memory."""

    name: str
    replicates: int
    days: int
    runs: list[float]
    peak_mb: float

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs)

    @property
    def rep_days_per_s(self) -> float:
        return self.replicates * self.days / self.seconds

    def record(self) -> dict[str, Any]:
        return {
            "replicates": self.replicates,
            "days": self.days,
            # six significant digits: a quick run's few milliseconds keep the precision
            # the ratios computed from them have
            "seconds": _significant(self.seconds),
            "runs": [_significant(t) for t in self.runs],
            "rep_days_per_s": round(self.rep_days_per_s, 1),
            "peak_mb": round(self.peak_mb, 2),
        }


def measure(name: str, replicates: int, days: int, work: Callable[[], None], repeats: int):
    """Time ``work`` ``repeats`` times, then run it once more under tracemalloc for its peak."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    tracemalloc.start()
    try:
        work()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Measure(name, replicates, days, runs, peak / 2**20)


# --- the paths in this process -------------------------------------------------------------


def mesa_work(config) -> Callable[[], None]:
    """Build the Mesa model and step it to the horizon."""

    def work() -> None:
        model = EscalationModel(config)
        while model.running:
            model.step()

    return work


def ensemble_work(config, replicates: int) -> Callable[[], None]:
    """Build a batched simulation of ``replicates`` replicates and step it to the horizon."""

    def work() -> None:
        simulation = Simulation(config, replicates=range(replicates))
        while not simulation.done:
            simulation.step()

    return work


def _significant(seconds: float) -> float:
    """``seconds`` to six significant digits."""
    return float(f"{seconds:.6g}")


# --- the commands, in subprocesses ---------------------------------------------------------


def command(name: str) -> list[str]:
    """How to start the console script ``name`` (``escalation-design``...): the script
    installed beside this interpreter, else its ``main`` through this interpreter."""
    script = Path(sys.executable).with_name(name)
    if script.is_file():
        return [str(script)]
    module = {"escalation-design": "sim.design", "escalation-sim": "sim.cli"}[name]
    return [sys.executable, "-c", f"from {module} import main; main()"]


def run_command(argv: Sequence[str], cwd: Path) -> tuple[float, float]:
    """Run ``argv`` in ``cwd``; return its wall seconds (start to exit) and the peak resident
    memory of its process in MB (the child's own resource usage from ``os.wait4``).

    Raises:
        RuntimeError: the command failed; the message ends with its last line of errors.
    """
    with tempfile.TemporaryFile(mode="w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            last = (errors.read().strip().splitlines() or ["no message"])[-1]
            name = Path(argv[0]).name
            raise RuntimeError(f"{name} failed (exit {child.returncode}): {last}")
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS
    rss_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    return wall, rss_mb


def design_values(low: float, high: float, spacing: str, count: int) -> list[float]:
    """``count`` values from ``low`` to ``high``, evenly or geometrically spaced, to four
    significant digits."""
    if count == 1:
        return [float(f"{low:.4g}")]
    spaced = np.geomspace if spacing == "log" else np.linspace
    return [float(f"{v:.4g}") for v in spaced(low, high, count)]


def design_grid(counts: Sequence[int]) -> dict[str, list[float]]:
    """The design's values of each parameter, ``counts`` values each."""
    return {
        path: design_values(low, high, spacing, n)
        for (path, low, high, spacing), n in zip(DESIGN_AXES, counts, strict=True)
    }


def design_arguments(grid: dict[str, list[float]], replicates: int, days: int, out: str):
    """The arguments of ``escalation-design`` that run ``grid`` into ``out``."""
    specs = [f"{path}={','.join(f'{v:g}' for v in values)}" for path, values in grid.items()]
    return [
        *(arg for spec in specs for arg in ("--grid", spec)),
        "--replicates", str(replicates), "--out", out, "--quiet", f"days={days}",
    ]  # fmt: skip


def design_benchmark(counts: Sequence[int], replicates: int, days: int) -> dict[str, Any]:
    """Run the design as a user does, in a subprocess; its record."""
    grid = design_grid(counts)
    points = int(np.prod([len(v) for v in grid.values()]))
    with tempfile.TemporaryDirectory(prefix=f"{PROG}-") as tmp:
        out = Path(tmp) / "design"
        argv = design_arguments(grid, replicates, days, str(out))
        seconds, rss_mb = run_command([*command("escalation-design"), *argv], Path(tmp))
        rows = pq.read_metadata(out / "design_results.parquet").num_rows
    if rows != points * replicates:
        raise RuntimeError(
            f"design_results.parquet holds {rows:,} rows, not {points:,} x {replicates:,}"
        )
    return {
        "command": " ".join(
            ["escalation-design", *design_arguments(grid, replicates, days, "OUT")]
        ),
        "parameters": grid,
        "points": points,
        "replicates": replicates,
        "days": days,
        "rows": rows,
        "seconds": _significant(seconds),
        "rep_days_per_s": round(points * replicates * days / seconds, 1),
        "peak_rss_mb": round(rss_mb, 1),
    }


def command_line_benchmark(replicates: int, days: int | None, horizon: int) -> dict[str, Any]:
    """Run ``escalation-sim replicates=R`` as a user does, in a subprocess, once to warm the
    compiled-code cache and once timed; its record (``horizon``: the days it runs)."""
    settings = [f"replicates={replicates}", *([f"days={days}"] if days is not None else [])]
    runs = []
    with tempfile.TemporaryDirectory(prefix=f"{PROG}-") as tmp:
        for name in ("warm-up", "timed"):
            run_dir = Path(tmp) / name
            argv = [*command("escalation-sim"), *settings, f"hydra.run.dir={run_dir}"]
            runs.append(run_command(argv, Path(tmp)))
            rows = pq.read_metadata(run_dir / "ensemble.parquet").num_rows
            if rows != replicates:
                raise RuntimeError(f"ensemble.parquet holds {rows:,} rows, not {replicates:,}")
    (warm_seconds, warm_rss), (seconds, rss_mb) = runs
    return {
        "command": " ".join(["escalation-sim", *settings, "hydra.run.dir=OUT"]),
        "replicates": replicates,
        "days": horizon,
        "seconds": _significant(seconds),
        "peak_rss_mb": round(rss_mb, 1),
        "warm_up_seconds": _significant(warm_seconds),
        "warm_up_peak_rss_mb": round(warm_rss, 1),
    }


# --- the record ------------------------------------------------------------------------


def default_results() -> Path:
    """``benchmarks/results.json`` of the source tree (or of the working directory)."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "benchmarks").is_dir():
        return root / "benchmarks" / "results.json"
    return Path("benchmarks") / "results.json"


def append_record(path: Path, record: dict[str, Any]) -> int:
    """Append ``record`` to the JSON list in ``path`` (atomically); return the list's length."""
    path = Path(path)
    records = json.loads(path.read_text()) if path.is_file() and path.stat().st_size else []
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON list of records")
    records.append(record)
    text = json.dumps(records, indent=2) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return len(records)


# --- the run -----------------------------------------------------------------------------


def benchmark(
    quick: bool = False, repeats: int | None = None, echo: Callable[[str], None] = print
) -> dict[str, Any]:
    """Measure every path and return the record (nothing is written).

    Raises:
        RuntimeError: the design or the command-line run failed or wrote too few rows.
    """
    sizes = QUICK_SIZES if quick else SIZES
    repeats = repeats or (1 if quick else 3)
    config = compose(f"days={QUICK_DAYS}") if quick else compose()
    days = config.days
    largest = sizes[-1]

    echo(f"{PROG}: {config.scenario.name} scenario, {days} days, median of {repeats} run(s)")
    mesa = measure("mesa", 1, days, mesa_work(config), repeats)
    ensembles = [measure("ensemble", R, days, ensemble_work(config, R), repeats) for R in sizes]
    top = ensembles[-1]
    # the command line first: its warm-up run leaves the compiled-code cache warm for both
    cli_replicates, cli_days = QUICK_COMMAND_LINE if quick else COMMAND_LINE
    command_line = command_line_benchmark(cli_replicates, cli_days, cli_days or days)
    counts, design_replicates, design_days = QUICK_DESIGN if quick else DESIGN
    design = design_benchmark(counts, design_replicates, design_days)
    ratios = {
        "at_replicates": largest,
        "ensemble_over_mesa": round(top.rep_days_per_s / mesa.rep_days_per_s, 2),
    }
    figures = {
        "ensemble_rep_days_per_s": top.rep_days_per_s >= TARGETS["ensemble_rep_days_per_s"],
        "ensemble_over_mesa": ratios["ensemble_over_mesa"] >= TARGETS["ensemble_over_mesa"],
        "design_seconds": design["seconds"] <= TARGETS["design_seconds"],
        "design_peak_rss_mb": design["peak_rss_mb"] < TARGETS["design_peak_rss_mb"],
        "command_line_seconds": command_line["seconds"] < TARGETS["command_line_seconds"],
        "command_line_peak_rss_mb": (
            command_line["peak_rss_mb"] < TARGETS["command_line_peak_rss_mb"]
        ),
    }
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        **source_tree(),
        "quick": quick,
        "scenario": config.scenario.name,
        "days": days,
        "repeats": repeats,
        "mesa": mesa.record(),
        "ensemble": [m.record() for m in ensembles],
        "design": design,
        "command_line": command_line,
        "ratios": ratios,
        "targets": TARGETS,
        # a quick run's sizes are not the targets': it never counts against them
        "targets_met": {name: ok and not quick for name, ok in figures.items()},
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def table(record: dict[str, Any]) -> str:
    """The record as the table the command prints, with a verdict for each target."""
    design, cli = record["design"], record["command_line"]
    lines = [
        f"{'path':<20}{'replicates':>14}{'days':>6}{'seconds':>10}{'rep-days/s':>13}{'peak MB':>10}"
    ]
    rows = [("Mesa model", record["mesa"]), *(("batched ensemble", e) for e in record["ensemble"])]
    for name, m in rows:
        lines.append(
            f"{name:<20}{m['replicates']:>14,}{m['days']:>6}{m['seconds']:>10.3f}"
            f"{m['rep_days_per_s']:>13,.0f}{m['peak_mb']:>10.1f}"
        )
    size = f"{design['points']:,} x {design['replicates']:,}"
    lines += [
        f"{'design':<20}{size:>14}{design['days']:>6}{design['seconds']:>10.3f}"
        f"{design['rep_days_per_s']:>13,.0f}{design['peak_rss_mb']:>10.1f}",
        f"{'command line run':<20}{cli['replicates']:>14,}{cli['days']:>6}{cli['seconds']:>10.3f}"
        f"{'-':>13}{cli['peak_rss_mb']:>10.1f}",
        "peak MB: traced by tracemalloc (Mesa model, ensembles); the process's peak resident "
        "memory (design, command line run)",
        "design: points x replicates per point, from start-up to its result table; "
        f"{', '.join(design['parameters'])}",
        f"command line run: {cli['command']}, timed after one run to warm up "
        f"({cli['warm_up_seconds']:.1f} s)",
    ]
    r, t, met = record["ratios"], record["targets"], record["targets_met"]
    R = f"{r['at_replicates']:,}"
    quick = record.get("quick", False)

    def verdict(name: str) -> str:
        if quick:
            return "quick run, not counted"
        return "met" if met[name] else "NOT met"

    top = record["ensemble"][-1]["rep_days_per_s"]
    what = (
        f"{design['points']:,} points x {design['replicates']:,} replicates x {design['days']} days"
    )
    lines += [
        "",
        f"ensemble at R = {R}: {top:,.0f} rep-days/s "
        f"(target >= {t['ensemble_rep_days_per_s']:,}: {verdict('ensemble_rep_days_per_s')})",
        f"ensemble at R = {R} / Mesa: {r['ensemble_over_mesa']:,.1f}x "
        f"(target >= {t['ensemble_over_mesa']:g}x: {verdict('ensemble_over_mesa')})",
        f"design of {what}: {design['seconds']:,.1f} s "
        f"(target <= {t['design_seconds']:g} s: {verdict('design_seconds')})",
        f"design peak RSS: {design['peak_rss_mb']:,.0f} MB "
        f"(target < {t['design_peak_rss_mb']:,g} MB: {verdict('design_peak_rss_mb')})",
        f"command line run of {cli['replicates']:,} replicates: {cli['seconds']:,.1f} s "
        f"(target < {t['command_line_seconds']:g} s: {verdict('command_line_seconds')})",
        f"command line run peak RSS: {cli['peak_rss_mb']:,.0f} MB "
        f"(target < {t['command_line_peak_rss_mb']:,g} MB: {verdict('command_line_peak_rss_mb')})",
        f"process peak RSS: {record['process_max_rss_mb']:,.0f} MB",
    ]
    return "\n".join(lines)


def profile(quick: bool = False, top: int = 15) -> str:
    """Where the largest ensemble spends its time: the functions with the most own time."""
    config = compose(f"days={QUICK_DAYS}") if quick else compose()
    work = ensemble_work(config, (QUICK_SIZES if quick else SIZES)[-1])
    profiler = cProfile.Profile()
    profiler.runcall(work)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Replicate-days per second of the Mesa path and the batched ensemble, "
        "with peak memory, and the wall time and peak memory of a 1,000-point design and of "
        "a 10,000-replicate command-line run; appends a record to benchmarks/results.json.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small sizes (R = 10, 100; {QUICK_DAYS} days; a design of 20 points x 10 "
        "replicates; a command-line run of 100 replicates)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append the record")
    parser.add_argument(
        "--results", type=Path, default=None, help="results file (default benchmarks/results.json)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per path (median)")
    parser.add_argument(
        "--profile", action="store_true", help="also print where the largest ensemble spends time"
    )
    parser.add_argument(
        "--sweep",
        type=int,
        metavar="JOBS",
        help="instead, time a sweep of about JOBS jobs of 100 replicates x 365 days end to end "
        "(appends to benchmarks/sweeps.json)",
    )
    parser.add_argument(
        "--launcher",
        default="joblib_batched",
        help="with --sweep: the Hydra launcher (default joblib_batched)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats: must be at least 1")
    if args.sweep is not None:
        if args.sweep < 1:
            parser.error("--sweep: must be at least 1")
        return _sweep(args)

    try:
        record = benchmark(quick=args.quick, repeats=args.repeats)
    except RuntimeError as exc:
        fail(PROG, str(exc))
    print(table(record))
    if args.profile:
        print()
        print(profile(quick=args.quick))
    if not args.no_record:
        path = args.results or default_results()
        count = append_record(path, record)
        print(f"Recorded in {path} ({count} record{'s' if count != 1 else ''})")


def _sweep(args: argparse.Namespace) -> None:
    try:
        record = bench_sweep.sweep_benchmark(args.sweep, args.launcher, quick=args.quick)
    except RuntimeError as exc:
        fail(PROG, str(exc))
    print(bench_sweep.describe(record))
    if not args.no_record:
        path = args.results or default_results().with_name(bench_sweep.RESULTS_FILE)
        count = append_record(path, record)
        print(f"Recorded in {path} ({count} record{'s' if count != 1 else ''})")


if __name__ == "__main__":
    main()
