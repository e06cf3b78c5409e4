"""``escalation-calibrate``: simulation-based inference of the free parameters, kept as a
posterior.

The free parameters (``configs/calibration/``) are fitted jointly to several patterns of
an event record at once (:mod:`sim.fitstats`: monthly attack counts, burstiness and the
weekly dispersion of attack days, the weapon mix by quarter, the US-casualty share of
attacks, the US response probability, and the press tallies of attacks) by approximate
Bayesian computation with adaptive population Monte Carlo (:mod:`sim.apmc`). Each
generation of parameter points is one batched simulation: every replicate runs at its
own point (``Simulation(per_replicate=...)``). The result is a posterior, a weighted
sample of parameter points (``posterior.parquet``, read with :func:`load_posterior` and
drawn from with :func:`posterior_draws`), and, from its weighted medians, the scenario
preset ``scenario=calibrated_<name>``. Each generation is saved as it ends: the same
command run again continues; a changed configuration refuses to resume, naming the key.
By default the fit uses the events before 2020-07-01 only (docs/validation.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.ticker import NullFormatter

from sim import apmc, fitstats
from sim.config import BaseConfig, ConfigError, apply_change, config_dir, parse_date
from sim.config import validate as validate_config
from sim.engine import Simulation
from sim.errors import OneLineArgumentParser, fail
from sim.folders import check_writable_or_fail, claim_or_fail
from sim.io import atomic_write, write_json
from sim.params import varies_by_replicate
from sim.plots.style import BLUE, FONT, _new_figure
from sim.posterior import OBSERVATION_PREFIX, POSTERIOR_FILE
from sim.record import (
    RecordError,
    event_counts,
    file_problem,
    load_counts,
    load_records,
    public_record,
    seeds_record,
)
from sim.resume import first_difference
from sim.scorecard import Window, events_to_record
from sim.stops import command, exit_status, stop_message
from sim.validate import check_memory_or_fail, check_overrides, compose_or_fail, file_hash

PROG = "escalation-calibrate"
NAME = re.compile(r"[a-z0-9_]+")
#: the fitted window by default: from the default scenario's first day (the press tallies
#: count "since October 2019") to the last day before July 2020; the record's later part
#: is kept out of the fit, for the forecast's test
FIT_FROM = "2019-10-01"
FIT_TO = "2020-06-30"
#: the default budget (docs/validation.md, "The budget"): points kept per generation, the
#: most generations, and the acceptance below which the population has stopped moving
PARTICLES = 2000
GENERATIONS = 12
MIN_ACCEPTANCE = 0.05
#: the fewest points a population may keep: the kernel's covariance needs several per
#: parameter
MIN_PARTICLES = 20
#: replicates stepped together in one simulation (memory: a few hundred MB with every event)
CHUNK = 2500
#: the observation model's parameters (not settings of the model) and their allowed range
OBSERVATION = {"observation.listed_share": (0.0, 1.0)}
#: a generation's replicate numbers start at generation x this (no two points share draws)
REPLICATES_PER_GENERATION = 1_000_000
STATE_FILE = "state.json"
GENERATIONS_DIR = "generations"


@dataclass(frozen=True)
class FreeParameter:
    """One calibrated setting: its dotted config path and prior range."""

    path: str
    low: float
    high: float
    log: bool
    why: str


def load_parameters(path: Path) -> list[FreeParameter]:
    """The free parameters of a calibration file; ConfigError names the bad entry."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({str(exc).splitlines()[0]})") from None
    entries = data.get("parameters") if isinstance(data, dict) else None
    if not entries or not isinstance(entries, list):
        raise ConfigError(f"{path}: parameters: a list of {{path, low, high, log, why}} is needed")
    out: list[FreeParameter] = []
    for i, entry in enumerate(entries):
        where = f"{path}: parameters[{i}]"
        try:
            p = FreeParameter(
                str(entry["path"]),
                float(entry["low"]),
                float(entry["high"]),
                bool(entry.get("log", False)),
                str(entry.get("why", "")),
            )
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{where}: needs path, low, high (numbers), log, why") from None
        if not (np.isfinite(p.low) and np.isfinite(p.high)) or not p.low < p.high \
                or (p.log and p.low <= 0):  # fmt: skip
            raise ConfigError(f"{where} ({p.path}): needs low < high, and low > 0 on a log scale")
        if any(q.path == p.path for q in out):
            raise ConfigError(f"{where} ({p.path}): listed twice")
        if p.path.startswith(OBSERVATION_PREFIX):
            if p.path not in OBSERVATION:
                raise ConfigError(f"{where}: {p.path} is not a parameter of the observation "
                                  f"model (choose from: {', '.join(OBSERVATION)})")  # fmt: skip
            lo, hi = OBSERVATION[p.path]
            if not lo < p.low < p.high <= hi:
                raise ConfigError(
                    f"{where} ({p.path}): a share: needs {lo:g} < low < high <= {hi:g}"
                )
        out.append(p)
    return out


def model_parameters(free: list[FreeParameter]) -> list[FreeParameter]:
    """The free parameters that are settings of the model (not of the observation model)."""
    return [p for p in free if not p.path.startswith(OBSERVATION_PREFIX)]


def with_values(config: BaseConfig, values: dict[str, float]) -> BaseConfig:
    """A copy of ``config`` with the free parameters set (and validated)."""
    for path, value in values.items():
        if path.startswith(OBSERVATION_PREFIX):
            continue
        config = apply_change(config, path, value, "calibration")
    validate_config(config)
    return config


def check_parameters(base: BaseConfig, free: list[FreeParameter], source: Path) -> None:
    """ConfigError for a free parameter that is no setting, cannot take its range's ends,
    or cannot take one value per replicate in one batch."""
    for p in model_parameters(free):
        with_values(base, {p.path: p.low})
        with_values(base, {p.path: p.high})
        if not varies_by_replicate(p.path):
            raise ConfigError(f"{p.path}: cannot take one value per replicate in one batch "
                              "(a calibration runs each generation as one batch)")  # fmt: skip


def _nested(values: dict[str, float]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, value in values.items():
        *parents, leaf = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = float(f"{value:.4g}")
    return tree


def _shown(path: Path) -> str:
    """A path as the preset's header shows it: relative to the project when inside it."""
    root = Path(config_dir()).parent
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


# --- the fit ------------------------------------------------------------------------------


@dataclass
class Problem:
    """What a calibration compares: the window, the observed statistics, the base
    configuration, the free parameters and the prior's box."""

    window: Window
    base: BaseConfig
    free: list[FreeParameter]
    tallies: pd.DataFrame | None
    names: list[tuple[str, str]]
    observed: np.ndarray
    seed: int

    @property
    def box(self) -> apmc.Box:
        return apmc.Box(
            np.array([p.low for p in self.free]),
            np.array([p.high for p in self.free]),
            np.array([p.log for p in self.free]),
        )


def observed_statistics(record: pd.DataFrame, window: Window, tallies) -> np.ndarray:
    """The observed record's statistics (its dated list is what it is; the tallies are
    the sources' counts)."""
    events = fitstats.from_record(record.drop(columns="replicate", errors="ignore"), window)
    listed = fitstats.statistics(events, window)[0]
    return np.concatenate([listed, fitstats.observed_tallies(tallies, window)])


def simulate_points(problem: Problem, values: np.ndarray, generation: int,
                    progress=None) -> np.ndarray:  # fmt: skip
    """(n, K) statistics of n parameter points (rows of ``values``), one replicate each,
    in batches of CHUNK replicates."""
    out = []
    paths = [p.path for p in problem.free]
    first = generation * REPLICATES_PER_GENERATION
    for start in range(0, len(values), CHUNK):
        block = values[start : start + CHUNK]
        ids = np.arange(first + start, first + start + len(block))
        per = {path: block[:, k] for k, path in enumerate(paths)
               if not path.startswith(OBSERVATION_PREFIX)}  # fmt: skip
        sim = Simulation(problem.base, replicates=ids, per_replicate=per, daily=False)
        frame = sim.run().events
        record = events_to_record(frame, problem.base.theatre)
        record["replicate"] = record["replicate"].to_numpy() - ids[0]
        events = fitstats.from_record(record, problem.window, replicates=len(block))
        share = np.ones(len(block))
        if "observation.listed_share" in paths:
            share = block[:, paths.index("observation.listed_share")]
        rng = np.random.default_rng([problem.seed, generation, start])
        keep = fitstats.listed(events, share, rng)
        out.append(fitstats.statistics(events, problem.window, keep, problem.tallies))
        if progress is not None:
            progress(len(block))
    return np.vstack(out)


def _save_generation(folder: Path, t: int, problem: Problem, pop: apmc.Population,
                     acceptance: float, scale: np.ndarray) -> None:  # fmt: skip
    frame = _frame(problem, pop, t)
    atomic_write(folder / GENERATIONS_DIR / f"generation_{t:03d}.parquet",
                 lambda tmp: frame.to_parquet(tmp, index=False))  # fmt: skip
    state = json.loads((folder / STATE_FILE).read_text())
    state["generations"].append({"generation": t, "tolerance": pop.tolerance,
                                 "acceptance": acceptance, "scales": scale.tolist()})  # fmt: skip
    write_json(state, folder / STATE_FILE)


def _frame(problem: Problem, pop: apmc.Population, t: int, full: bool = True) -> pd.DataFrame:
    """A population as a table: parameter values, ``weight`` (normalised), ``generation``,
    ``distance``; with ``full``, what a resumed run needs too (the raw importance weights,
    the points in the unit cube, their statistics)."""
    values = problem.box.to_values(pop.unit)
    frame = pd.DataFrame({p.path: values[:, k] for k, p in enumerate(problem.free)})
    frame["weight"] = pop.normalised
    frame["generation"] = t
    frame["distance"] = pop.distance
    if full:
        frame["importance"] = pop.weight
        for k, p in enumerate(problem.free):
            frame[f"unit:{p.path}"] = pop.unit[:, k]
        for k, (name, _) in enumerate(problem.names):
            frame[f"statistic:{name}"] = pop.stats[:, k]
    return frame


def _load_generation(folder: Path, t: int, problem: Problem) -> apmc.Population:
    frame = pd.read_parquet(folder / GENERATIONS_DIR / f"generation_{t:03d}.parquet")
    unit = frame[[f"unit:{p.path}" for p in problem.free]].to_numpy(dtype=float)
    stats = frame[[f"statistic:{name}" for name, _ in problem.names]].to_numpy(dtype=float)
    # C order, as the arrays of an unbroken run: BLAS may round otherwise in the last bit
    return apmc.Population(np.ascontiguousarray(unit), frame["importance"].to_numpy(),
                           frame["distance"].to_numpy(), np.ascontiguousarray(stats))  # fmt: skip


def identity(args, problem: Problem, scale: np.ndarray | None = None) -> dict[str, Any]:
    """What a calibration's generations depend on: a resumed one must match it, key by key."""
    return {
        "records": {Path(p).name: file_hash(p) for p in args.events},
        "counts": None
        if args.counts is None
        else {Path(args.counts).name: file_hash(args.counts)},  # fmt: skip
        "window": [problem.window.start.date().isoformat(), problem.window.end.date().isoformat()],
        "parameters": {p.path: [p.low, p.high, p.log] for p in problem.free},
        "overrides": list(args.overrides),
        "seed": args.seed,
        "particles": args.particles,
        "statistics": [name for name, _ in problem.names],
        "observed": [None if np.isnan(v) else round(float(v), 9) for v in problem.observed],
    }


def _open_state(folder: Path, ident: dict[str, Any]) -> dict[str, Any]:
    """The saved state of a calibration in ``folder`` (a new one if none); ConfigError naming
    the first key of a saved one that differs."""
    path = folder / STATE_FILE
    if not path.is_file():
        state = {"identity": ident, "generations": []}
        write_json(state, path)
        return state
    state = json.loads(path.read_text())
    saved, now_ = state.get("identity", {}), json.loads(json.dumps(ident))
    # the keys in the identity's order: the inputs first, what they imply (the statistics
    # and their observed values) last
    for top in now_:
        diff = first_difference({top: saved.get(top)}, {top: now_[top]})
        if diff is None:
            continue
        key, was, now = diff
        raise ConfigError(f"--out {folder}: the calibration there was run with another {key} "
                          f"({was!r}, now {now!r}); run it as it was, or choose another --out "
                          "or --name")  # fmt: skip
    return state


def run_generations(args, problem: Problem, folder: Path, claim) -> apmc.Population:
    """Run (or continue) the generations; each is saved as it ends."""
    from tqdm import tqdm  # a progress bar on a terminal, nothing elsewhere

    state = _open_state(folder, identity(args, problem))
    n, dims = args.particles, len(problem.free)
    done = len(state["generations"])
    points_total = 2 * n + n * (args.generations - 1)
    points_done = 2 * n + n * (done - 1) if done else 0
    bar = tqdm(total=points_total, initial=min(points_done, points_total), unit="point",
               desc=PROG, disable=None, file=sys.stderr)  # fmt: skip
    kinds = [kind for _, kind in problem.names]
    try:
        if done == 0:
            unit = apmc.first_points(n, dims, args.seed)
            stats = simulate_points(problem, problem.box.to_values(unit), 0, bar.update)
            scale = fitstats.scales(stats, kinds)
            dist = fitstats.distances(stats, problem.observed, scale)
            pop = apmc.first_population(unit, stats, dist, n)
            _save_generation(folder, 0, problem, pop, 1.0, scale)
            claim.keep()  # a saved generation is kept, to be resumed
            done, acceptance = 1, 1.0
        else:
            claim.keep()
            pop = _load_generation(folder, done - 1, problem)
            acceptance = state["generations"][-1]["acceptance"]
        while done < args.generations and acceptance >= args.min_acceptance:
            bar.set_postfix(tolerance=f"{pop.tolerance:.3g}", acceptance=f"{acceptance:.2f}")
            new = apmc.propose(pop, n, args.seed, done)
            stats = simulate_points(problem, problem.box.to_values(new), done, bar.update)
            # the scales adapt to the generation's own simulations (Prangle 2017), and
            # the kept points' distances are measured again with them
            scale = fitstats.scales(stats, kinds)

            def distance(table, scale=scale):
                return fitstats.distances(table, problem.observed, scale)

            pop, acceptance = apmc.next_population(pop, new, stats, distance)
            _save_generation(folder, done, problem, pop, acceptance, scale)
            done += 1
    except KeyboardInterrupt as stop:
        bar.close()
        saved = len(json.loads((folder / STATE_FILE).read_text())["generations"])
        kept = (f" with {saved} generation{'s' if saved != 1 else ''} saved in {folder}; run the "
                "same command again to resume")  # fmt: skip
        print(stop_message(PROG, stop, kept), file=sys.stderr)
        raise SystemExit(exit_status(stop)) from None
    bar.close()
    return pop


# --- the command -----------------------------------------------------------------------------


def summary(frame: pd.DataFrame, free: list[FreeParameter]) -> dict[str, dict[str, float]]:
    """Each parameter's weighted median and 90% interval, and its prior range."""
    w = frame["weight"].to_numpy()
    out = {}
    for p in free:
        v = frame[p.path].to_numpy()
        out[p.path] = {
            "median": apmc.weighted_quantile(v, w, 0.5),
            "q05": apmc.weighted_quantile(v, w, 0.05),
            "q95": apmc.weighted_quantile(v, w, 0.95),
            "low": p.low,
            "high": p.high,
        }
    return out


def preset_text(name: str, values: dict[str, float], meta: dict[str, Any]) -> str:
    """The scenario preset: a ``# @package _global_`` delta with its provenance."""
    header = [
        "# @package _global_",
        f"# Calibrated by escalation-calibrate on {meta['date']} (docs/validation.md).",
        f"# Records: {', '.join(f'{k} (sha256 {v[:12]})' for k, v in meta['records'].items())}"
        + (f"; tallies {', '.join(meta['counts'])}." if meta["counts"] else "; no tallies."),
        f"# Fitted on {meta['fit_start']} to {meta['fit_end']}; later events are left out.",
        f"# ABC, adaptive population Monte Carlo: {meta['generations']} generations of "
        f"{meta['particles']} points (seed {meta['seed']});",
        f"# the values are the posterior's weighted medians (posterior.parquet holds the "
        f"sample), over {len(meta['statistics_used'])} statistics.",
        f"# Free parameters and their prior ranges: {meta['parameters_file']}; all other",
        "# values as in the default scenario"
        + (f", with the overrides {' '.join(meta['overrides'])}." if meta["overrides"] else "."),
    ]
    body = {
        "days": meta["fit_days"],
        "scenario": {
            "name": f"calibrated_{name}",
            "description": f"The default scenario with its free parameters fitted to "
            f"{', '.join(meta['records'])} ({meta['fit_start']} to {meta['fit_end']}).",
            "start_date": meta["fit_start"],
        },
        **_nested(values),
    }
    return "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False)


def posterior_figure(frame: pd.DataFrame, free: list[FreeParameter], title: str):
    """One panel per parameter: the posterior's weighted histogram over its prior range."""
    cols = min(4, len(free))
    rows = -(-len(free) // cols)
    fig = _new_figure((3.6 * cols, 2.6 * rows + 0.6))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    w = frame["weight"].to_numpy()
    for ax, p in zip(axes, free, strict=False):
        edges = np.geomspace(p.low, p.high, 21) if p.log else np.linspace(p.low, p.high, 21)
        ax.hist(frame[p.path], bins=edges, weights=w, color=BLUE, alpha=0.8)
        if p.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ticks = [p.low, float(np.sqrt(p.low * p.high)) if p.log else (p.low + p.high) / 2, p.high]
        ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks], fontsize=FONT - 1)
        ax.set_xlim(p.low, p.high)
        ax.set_title(p.path.split(".")[-1], fontsize=FONT)
        ax.set_yticks([])
    for ax in axes[len(free) :]:
        ax.set_axis_off()
    fig.suptitle(f"{title}: posterior over the prior's range (x axis)", fontsize=FONT + 1)
    return fig


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """Console entry point of ``escalation-calibrate``."""
    argv = sys.argv[1:] if argv is None else argv
    parser = OneLineArgumentParser(
        prog=PROG,
        description="Fit the free parameters to an event record by approximate Bayesian "
        "computation, keep the posterior (posterior.parquet) and write its medians as a "
        "scenario preset, scenario=calibrated_<name>.",
    )
    parser.add_argument("--events", type=Path, action="append", default=None,
                        help="event record (CSV, docs/data.md); repeat for several "
                        "(default data/events_seeds.csv and data/events_public.csv)")  # fmt: skip
    parser.add_argument("--counts", default=None,
                        help="tallies (CSV, docs/data.md; default data/event_counts.csv; "
                        "none: no tallies)")  # fmt: skip
    parser.add_argument("--name", required=True, help="calibration and preset name (a-z, 0-9, _)")
    parser.add_argument("--from", dest="start", default=FIT_FROM,
                        help=f"first fitted day (default {FIT_FROM})")  # fmt: skip
    parser.add_argument(
        "--to",
        dest="end",
        default=FIT_TO,
        help=f"last fitted day (default {FIT_TO}); later events left out",
    )
    parser.add_argument("--particles", type=int, default=PARTICLES,
                        help=f"points kept per generation (default {PARTICLES})")  # fmt: skip
    parser.add_argument("--generations", type=int, default=GENERATIONS,
                        help=f"most generations (default {GENERATIONS})")  # fmt: skip
    parser.add_argument("--min-acceptance", type=float, default=MIN_ACCEPTANCE,
                        help="stop when fewer new points than this share are kept "
                        f"(default {MIN_ACCEPTANCE})")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default results/calibration/<name>)")  # fmt: skip
    parser.add_argument(
        "--parameters",
        type=Path,
        default=Path(config_dir()) / "calibration" / "default.yaml",
        help="free parameters and their prior ranges (default configs/calibration/default.yaml)",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="OVERRIDE",
        help="Hydra overrides, e.g. doctrine/us=restraint",
    )
    args = parser.parse_args(argv)
    run_calibration(parser, args)


def _records_or_fail(paths: list[Path]) -> pd.DataFrame:
    for path in paths:
        problem = file_problem("--events", path)
        if problem:
            fail(PROG, problem)
    try:
        return load_records(*paths)
    except RecordError as exc:
        fail(PROG, str(exc))
    raise AssertionError("unreachable")


def _counts_or_fail(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    problem = file_problem("--counts", path, "a file of tallies")
    if problem:
        fail(PROG, f"{problem} (or none for no tallies)")
    try:
        return load_counts(path)
    except RecordError as exc:
        fail(PROG, str(exc))
    raise AssertionError("unreachable")


def run_calibration(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for option, value in (("--particles", args.particles), ("--generations", args.generations)):
        if value < 1:
            fail(PROG, f"{option} = {value}: must be a whole number >= 1")
    if args.particles < MIN_PARTICLES:
        fail(PROG, f"--particles = {args.particles}: must be at least {MIN_PARTICLES} "
             "(the kernel's covariance needs several points per parameter)")  # fmt: skip
    if not 0 < args.min_acceptance < 1:
        fail(PROG, f"--min-acceptance = {args.min_acceptance}: must be between 0 and 1")
    check_overrides(PROG, args.overrides)
    if not NAME.fullmatch(args.name):
        fail(PROG, f"--name {args.name!r}: use lower-case letters, digits and _")
    try:
        free = load_parameters(args.parameters)
        start = parse_date("--from", args.start)
        end = parse_date("--to", args.end)
    except ConfigError as exc:
        fail(PROG, str(exc))
    if (end - start).days + 1 < 28:
        fail(PROG, f"--to {end}: the window must cover at least 28 days from --from {start}")
    args.events = args.events or [seeds_record(), public_record()]
    if args.counts is None:
        args.counts = event_counts()
    elif str(args.counts) == "none":
        args.counts = None
    else:
        args.counts = Path(args.counts)
    record = _records_or_fail(args.events)
    tallies = _counts_or_fail(args.counts)
    window = Window(pd.Timestamp(start), pd.Timestamp(end))
    run = [f"scenario.start_date={start.isoformat()}", f"days={window.days}",
           f"replicates={min(CHUNK, 2 * args.particles)}", f"seed={args.seed}",
           "output.events=all"]  # fmt: skip
    base = compose_or_fail(PROG, [*args.overrides, *run])
    try:
        check_parameters(base, free, args.parameters)
    except ConfigError as exc:
        fail(PROG, f"{args.parameters}: {exc}")
    check_memory_or_fail(PROG, base, "a generation's batch of")
    names = fitstats.names(window, tallies)
    problem = Problem(window, base, free, tallies, names,
                      observed_statistics(record, window, tallies), args.seed)  # fmt: skip
    out = args.out or Path("results/calibration") / args.name
    check_writable_or_fail(PROG, args.out or Path(config_dir()) / "scenario", "preset folder")
    with claim_or_fail(PROG, out, "--out") as claim:
        started = time.perf_counter()
        try:
            pop = run_generations(args, problem, claim.folder, claim)
        except ConfigError as exc:
            fail(PROG, str(exc))
        finish(args, problem, pop, record, claim.folder, started)


def finish(args, problem: Problem, pop: apmc.Population, record: pd.DataFrame, out: Path,
           started: float) -> None:  # fmt: skip
    """Write the posterior, the preset, the figure and calibration.json."""
    state = json.loads((out / STATE_FILE).read_text())
    t = len(state["generations"]) - 1
    frame = _frame(problem, pop, t, full=False)
    atomic_write(out / POSTERIOR_FILE, lambda tmp: frame.to_parquet(tmp, index=False))
    last = state["generations"][-1]
    stats = summary(frame, problem.free)
    values = {p.path: stats[p.path]["median"] for p in model_parameters(problem.free)}
    later = record[record["date"] > problem.window.end]
    used = [name for (name, _), v in zip(problem.names, problem.observed, strict=True)
            if not np.isnan(v)]  # fmt: skip
    meta = {
        "date": dt.date.today().isoformat(),
        "records": {Path(p).name: file_hash(p) for p in args.events},
        "counts": [] if args.counts is None else [Path(args.counts).name],
        "fit_start": problem.window.start.date().isoformat(),
        "fit_end": problem.window.end.date().isoformat(),
        "fit_days": problem.window.days,
        "events_left_out": int(len(later)),
        "method": "ABC, adaptive population Monte Carlo (Lenormand, Jabot & Deffuant 2013)",
        "particles": args.particles,
        "generations": t + 1,
        "history": state["generations"],
        "seed": args.seed,
        "overrides": list(args.overrides),
        "statistics_used": used,
        "statistics_not_supported": [n for n, _ in problem.names if n not in used],
        "observed": {
            n: (None if np.isnan(v) else float(v))
            for (n, _), v in zip(problem.names, problem.observed, strict=True)
        },  # fmt: skip
        "scales": dict(zip([n for n, _ in problem.names], last["scales"], strict=True)),
        "posterior": stats,
        "preset": values,
        "parameters_file": _shown(args.parameters),
        "seconds_this_session": round(time.perf_counter() - started, 1),
    }
    preset_dir = args.out or Path(config_dir()) / "scenario"
    preset = preset_dir / f"calibrated_{args.name}.yaml"
    text = preset_text(args.name, values, meta)
    atomic_write(preset, lambda tmp: tmp.write_text(text))
    write_json(meta, out / "calibration.json")
    fig = posterior_figure(frame, problem.free, f"calibrated_{args.name}")
    atomic_write(out / "calibration.png", lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    last = state["generations"][-1]
    print(f"{t + 1} generations of {args.particles} points; tolerance {last['tolerance']:.3g}, "
          f"acceptance {last['acceptance']:.2f}; {len(used)} statistics "
          f"({len(problem.names) - len(used)} not supported by the record)")  # fmt: skip
    print("Posterior (weighted median, 90% interval; prior range):")
    for p in problem.free:
        s = stats[p.path]
        print(f"  {p.path} = {s['median']:.4g} [{s['q05']:.4g}, {s['q95']:.4g}]  "
              f"(prior {p.low:g} - {p.high:g})")  # fmt: skip
    print(f"Posterior: {out / POSTERIOR_FILE}")
    print(f"Preset: {preset} (use scenario=calibrated_{args.name})")
    print(f"Figure: {out / 'calibration.png'}")


if __name__ == "__main__":
    main()
