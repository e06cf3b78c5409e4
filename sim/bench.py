"""The ``escalation-bench`` command: how fast the model runs, against the Mesa path and a floor.

In one process, on the default scenario, it measures replicate-days per second of

- the Mesa model (``sim.model.EscalationModel``, one replicate), the median of a few runs;
- the batched ensemble (``sim.engine.Simulation``) at R = 100, 1,000 and 10,000;
- a floor at the largest R: the least work a replicate-day needs, drawing about as many
  uniforms as the core draws for every replicate each day (``sim.rng.RandomStreams``)
  and one elementwise pass over every state array, and nothing else;

each timed from the configuration to the end of the horizon (building the model and
stepping it; no result tables, no files), with the peak memory of one more run under
``tracemalloc``. The largest ensemble and the floor take turns, and their ratio is the
median of the turns' ratios (the machine's speed drifts over minutes). It prints a table
and appends one record to ``benchmarks/results.json`` (see ``benchmarks/README.md`` for
the targets).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import json
import platform
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim import bench_sweep
from sim.config import compose
from sim.engine import Simulation
from sim.errors import fail
from sim.io import atomic_write, machine, source_tree
from sim.model import EscalationModel
from sim.params import compile_params
from sim.rng import RandomStreams, Stream
from sim.state import initial_state

PROG = "escalation-bench"
SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (10, 100)
QUICK_DAYS = 30
#: the goals the batched core is measured against (benchmarks/README.md)
TARGETS = {
    "ensemble_rep_days_per_s": 250_000,  # at the largest R, at least
    "ensemble_over_mesa": 300.0,  # at least
    "floor_over_ensemble": 3.0,  # at most
}
#: streams the core draws for every replicate on every day, with their slots (M: militias)
FLOOR_STREAMS = (
    ("ATTACK_OCCURS", "M"),
    ("US_RESPONSE", "M"),
    ("IRAQ_RELEASE", "M"),
    ("DECAPITATION", 1),
    ("SHOW_OF_FORCE", 1),
    ("IRAN_RETALIATION", 1),
    ("TALKS_COLLAPSE", 1),
    ("ISRAEL_STRIKE", 1),
    ("IRAQ_RAID", 1),
    ("EXPULSION_VOTE", 1),
    ("TRUCE", 1),
)


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
    return measure_alternating([(name, replicates, days, work)], repeats)[0]


def measure_alternating(paths: list[tuple], repeats: int) -> list[Measure]:
    """Time each ``(name, replicates, days, work)`` ``repeats`` times, taking turns (run 1
    of each, then run 2 of each...), so that paths compared with each other meet the
    machine in the same state; then each once more under tracemalloc for its peak."""
    runs: list[list[float]] = [[] for _ in paths]
    for _ in range(repeats):
        for i, (*_, work) in enumerate(paths):
            start = time.perf_counter()
            work()
            runs[i].append(time.perf_counter() - start)
    measures = []
    for (name, replicates, days, work), times in zip(paths, runs, strict=True):
        tracemalloc.start()
        try:
            work()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        measures.append(Measure(name, replicates, days, times, peak / 2**20))
    return measures


def paired_ratio(slow: Measure, fast: Measure) -> float:
    """The median over turns of ``slow``'s time over ``fast``'s in the same turn."""
    return statistics.median(s / f for s, f in zip(slow.runs, fast.runs, strict=True))


# --- the paths ---------------------------------------------------------------------------


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


def floor_streams(n_militias: int) -> list[tuple[Any, int]]:
    """The (stream, slots) pairs of the floor, for the streams this version defines."""
    return [
        (Stream[name], n_militias if slots == "M" else slots)
        for name, slots in FLOOR_STREAMS
        if name in Stream.__members__
    ]


def floor_work(config, replicates: int) -> Callable[[], None]:
    """The least work of a replicate-day: the day's uniforms and one pass over the state."""

    def work() -> None:
        params = compile_params(config)
        ids = np.arange(replicates)
        streams = RandomStreams(config.seed, ids)
        state = initial_state(params, replicates)
        arrays = [getattr(state, f.name) for f in dataclasses.fields(state)]
        draws = floor_streams(params.n_militias)
        for day in range(config.days):
            for stream, slots in draws:
                streams.uniform(day, stream, slots)
            for a in arrays:
                if a.dtype == bool:
                    np.logical_or(a, False, out=a)
                else:
                    np.multiply(a, 1, out=a)

    return work


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
    """Measure every path and return the record (nothing is written)."""
    sizes = QUICK_SIZES if quick else SIZES
    repeats = repeats or (1 if quick else 3)
    config = compose(f"days={QUICK_DAYS}") if quick else compose()
    days = config.days
    largest = sizes[-1]

    echo(f"{PROG}: {config.scenario.name} scenario, {days} days, median of {repeats} run(s)")
    mesa = measure("mesa", 1, days, mesa_work(config), repeats)
    ensembles = [
        measure("ensemble", R, days, ensemble_work(config, R), repeats) for R in sizes[:-1]
    ]
    # the largest ensemble and the floor take turns: their ratio is the median of each
    # turn's ratio, so that the machine's drift over the minutes of a run cancels out
    top, floor = measure_alternating(
        [
            ("ensemble", largest, days, ensemble_work(config, largest)),
            ("floor", largest, days, floor_work(config, largest)),
        ],
        repeats,
    )
    ensembles.append(top)
    ratios = {
        "at_replicates": largest,
        "ensemble_over_mesa": round(top.rep_days_per_s / mesa.rep_days_per_s, 2),
        "floor_over_ensemble": round(paired_ratio(top, floor), 2),
        "floor_over_ensemble_method": "median of the ratios of alternating runs",
    }
    met = {
        "ensemble_rep_days_per_s": top.rep_days_per_s >= TARGETS["ensemble_rep_days_per_s"],
        "ensemble_over_mesa": ratios["ensemble_over_mesa"] >= TARGETS["ensemble_over_mesa"],
        "floor_over_ensemble": ratios["floor_over_ensemble"] <= TARGETS["floor_over_ensemble"],
    }
    militias = len(config.actors.militias)
    uniforms = sum(slots for _, slots in floor_streams(militias))
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
        "floor": {**floor.record(), "uniforms_per_replicate_day": uniforms},
        "ratios": ratios,
        "targets": TARGETS,
        "targets_met": met,
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def table(record: dict[str, Any]) -> str:
    """The record as the table the command prints."""
    rows = [
        ("Mesa model", record["mesa"]),
        *(("batched ensemble", e) for e in record["ensemble"]),
        ("floor (draws + one pass)", record["floor"]),
    ]
    lines = [
        f"{'path':<26}{'replicates':>11}{'days':>6}{'seconds':>10}{'rep-days/s':>13}{'peak MB':>10}"
    ]
    for name, m in rows:
        lines.append(
            f"{name:<26}{m['replicates']:>11,}{m['days']:>6}{m['seconds']:>10.3f}"
            f"{m['rep_days_per_s']:>13,.0f}{m['peak_mb']:>10.1f}"
        )
    r, t, met = record["ratios"], record["targets"], record["targets_met"]
    R = f"{r['at_replicates']:,}"

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    top = record["ensemble"][-1]["rep_days_per_s"]
    lines += [
        "",
        f"ensemble at R = {R}: {top:,.0f} rep-days/s "
        f"(target >= {t['ensemble_rep_days_per_s']:,}: {verdict(met['ensemble_rep_days_per_s'])})",
        f"ensemble at R = {R} / Mesa: {r['ensemble_over_mesa']:,.1f}x "
        f"(target >= {t['ensemble_over_mesa']:g}x: {verdict(met['ensemble_over_mesa'])})",
        f"floor / ensemble at R = {R}: {r['floor_over_ensemble']:.2f}x "
        f"(target <= {t['floor_over_ensemble']:g}x: {verdict(met['floor_over_ensemble'])})",
        f"floor: {record['floor']['uniforms_per_replicate_day']} uniforms per replicate-day "
        "and one pass over the state arrays",
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
        description="Replicate-days per second of the Mesa path, the batched ensemble "
        "and a floor, with peak memory; appends a record to benchmarks/results.json.",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"small sizes (R = 10, 100; {QUICK_DAYS} days)"
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

    record = benchmark(quick=args.quick, repeats=args.repeats)
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
