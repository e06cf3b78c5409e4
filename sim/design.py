"""Designs: tables of parameter points, each run with R replicates on common random numbers,
executed as parameter-batched ensembles.

A design is a table with one row per point. A column is either a numeric parameter named
by its dotted path (``doctrine.us.response_lag_days``, ``actors.militias.0.obedience``) or a
config group named as on the command line (``doctrine/us``, whose cells are option names
such as ``red_line``). Every point runs replicates 0 .. R-1 of the same seed, so replicate
k of one point meets the same draws as replicate k of any other (common random numbers).

Points whose configurations differ only in parameters that can take one value per
replicate (``sim.params.varies_by_replicate``: doctrines, militia groups, dynamics,
weapons) share one batch, a doctrine choice included; the others run in batches of their
own. However a design is cut into batches, each replicate's numbers are the same.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import OmegaConf
from tqdm import tqdm

from sim.config import (
    BaseConfig,
    ConfigError,
    allowed_range,
    apply_change,
    compose,
    config_dir,
    leaves,
    numeric_leaf,
    out_of_range,
)
from sim.design_chunks import (
    CLUSTERS,
    ChunkError,
    check_plan,
    chunk_points,
    join_chunks,
    missing_chunks,
    plan_record,
    run_chunks,
    slurm_settings,
)
from sim.engine import Simulation
from sim.errors import COMPOSE_ERRORS, OneLineArgumentParser, fail, one_line
from sim.folders import FolderError, check_writable, claim_or_fail
from sim.io import atomic_write, provenance, write_json, write_parquet
from sim.memory import InsufficientMemoryError, check_memory
from sim.outcomes import OUTCOMES
from sim.params import takes_one_per_replicate, varies_by_replicate
from sim.stops import command

#: replicates stepped together at most (points x replicates per batch): beyond a few
#: thousand, a larger batch is no faster per replicate-day and only takes more memory
BATCH_REPLICATES = 10_000

#: fields that only describe a configuration; points that differ in them alone can share
#: a batch
_DESCRIPTIONS = ("source", "label")


@dataclass
class DesignResult:
    """What a design run produces.

    Attributes:
        points: the design, one row per point, with its ``point`` number first.
        replicates: one row per point and replicate: ``point``, then the columns of a run's
            replicate table (``replicate``, ``attacks``, ..., ``outcome``).
        config: the configuration the points start from.
    """

    points: pd.DataFrame
    replicates: pd.DataFrame
    config: BaseConfig

    def summary(self) -> pd.DataFrame:
        """One row per point: its settings, the share of each outcome and mean counts."""
        table = self.replicates
        shares = pd.crosstab(table["point"], table["outcome"], normalize="index")
        shares = shares.reindex(columns=list(OUTCOMES), fill_value=0.0).add_prefix("share_")
        counts = [c for c in table.columns if c not in ("point", "replicate", "outcome")]
        means = table.groupby("point")[counts].mean().add_prefix("mean_")
        return self.points.join(shares, on="point").join(means, on="point")


# --- reading and checking a design ------------------------------------------------------------


def read_design(path: str | Path) -> pd.DataFrame:
    """A design table from a CSV or Parquet file, or a one-line ``ConfigError`` naming the
    line and column (a row with more or fewer values than the header, an empty cell)."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file, skipinitialspace=True))
    except FileNotFoundError:
        raise ConfigError(f"design {path}: no such file") from None
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise ConfigError(f"design {path}: {_first_line(exc)}") from None
    rows = [row for row in rows if row]  # blank lines
    if len(rows) < 2:
        raise ConfigError(f"design {path}: no points (a header, then one row per point)")
    header = rows[0]
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ConfigError(
                f"design {path} line {line}: {len(row)} values, the header has {len(header)}"
            )
        for name, cell in zip(header, row, strict=True):
            if not cell.strip():
                raise ConfigError(f"design {path} line {line}, {name}: empty")
    return pd.read_csv(path, skipinitialspace=True)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _is_group(column: str) -> bool:
    return "/" in column


def _check_columns(design: pd.DataFrame, config: BaseConfig, where: str) -> None:
    if design.empty or len(design.columns) == 0:
        raise ConfigError(f"{where}: no points (a table with a header and one row per point)")
    for column in design.columns:
        if not isinstance(column, str) or not column or column.startswith("Unnamed"):
            raise ConfigError(f"{where}: a column has no name (every column names a parameter)")
        if column in ("seed", "replicates"):
            raise ConfigError(
                f"{where}: column {column!r}: every point runs the same seed and replicates "
                "(set them for the whole design)"
            )
        if not _is_group(column):
            try:
                numeric_leaf(config, column)
            except ConfigError as exc:
                raise ConfigError(f"{where}: column {exc}") from None


def _check_value(config: BaseConfig, path: str, value: Any, where: str) -> int | float:
    """``value`` as the parameter's type, within its allowed range, or a ConfigError."""
    node, leaf, current = numeric_leaf(config, path)
    meta = allowed_range(node, leaf)
    what = meta.get("what", "a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}, {path} = {value!r}: must be {what}") from None
    bad = out_of_range(number, meta)
    if isinstance(current, int) and not bad and number != int(number):
        raise ConfigError(f"{where}, {path} = {value}: must be a whole number")
    if bad:
        raise ConfigError(f"{where}, {path} = {value}: must be {what}")
    return int(number) if isinstance(current, int) else number


# --- running a design -------------------------------------------------------------------------


@dataclass
class _Batch:
    config: BaseConfig
    points: list[int]
    per_point: dict[str, list]  # parameter -> one value per point of the batch


def run_design(
    design: pd.DataFrame,
    *overrides: str,
    replicates: int | None = None,
    where: str = "design",
    progress: Callable[[int], None] | None = None,
    batch_replicates: int = BATCH_REPLICATES,
) -> DesignResult:
    """Run every point of ``design`` with ``replicates`` replicates (default: the
    configuration's), starting from the configuration ``overrides`` compose.

    Args:
        design: one row per point (see the module's docstring for its columns).
        overrides: as on the command line, for the whole design.
        replicates: replicates per point.
        where: how errors name the design (a file name, say).
        progress: called with the number of points done after each batch.
        batch_replicates: points are stepped together up to this many replicates.

    Raises:
        ConfigError: one line naming the point and the field, before anything runs.
    """
    return plan_design(design, *overrides, replicates=replicates, where=where).run(
        progress, batch_replicates
    )


@dataclass
class DesignPlan:
    """A checked design, its points grouped into batches that can be stepped together."""

    points: pd.DataFrame
    config: BaseConfig
    replicates: int
    batches: list[_Batch]

    def run(
        self,
        progress: Callable[[int], None] | None = None,
        batch_replicates: int = BATCH_REPLICATES,
    ) -> DesignResult:
        """Step every batch, at most ``batch_replicates`` replicates at a time."""
        R, tables, done = self.replicates, [], 0
        for batch in self.batches:
            size = max(1, batch_replicates // R)
            for start in range(0, len(batch.points), size):
                points = batch.points[start : start + size]
                tables.append(_run_batch(batch, points, start, R))
                done += len(points)
                if progress is not None:
                    progress(done)
        table = pd.concat(tables).sort_values(["point", "replicate"], kind="stable")
        return DesignResult(self.points, table.reset_index(drop=True), self.config)

    def only(self, points: Sequence[int]) -> DesignPlan:
        """The plan of the design's ``points`` alone (a chunk): each keeps its number, its
        batch's configuration and its own values, so it runs as it runs in the whole."""
        keep = set(int(p) for p in points)
        batches = []
        for batch in self.batches:
            places = [j for j, point in enumerate(batch.points) if point in keep]
            if places:
                per_point = {path: [v[j] for j in places] for path, v in batch.per_point.items()}
                batches.append(_Batch(batch.config, [batch.points[j] for j in places], per_point))
        chosen = self.points[self.points["point"].isin(keep)].reset_index(drop=True)
        return DesignPlan(chosen, self.config, self.replicates, batches)


def plan_design(
    design: pd.DataFrame, *overrides: str, replicates: int | None = None, where: str = "design"
) -> DesignPlan:
    """Check every point of ``design`` (one-line ``ConfigError`` naming the point and the
    field) and group the points into batches."""
    base = compose(*overrides)
    R = base.replicates if replicates is None else int(replicates)
    if R < 1:
        raise ConfigError(f"replicates = {R}: must be a whole number >= 1")
    design = design.reset_index(drop=True)
    _check_columns(design, base, where)
    batches = _batches(design, overrides, base, where)
    points = design.copy()
    points.insert(0, "point", np.arange(len(design)))
    return DesignPlan(points, base, R, batches)


def _run_batch(batch: _Batch, points: list[int], start: int, R: int) -> pd.DataFrame:
    """Step ``points`` of ``batch`` together, each with replicates 0 .. R-1."""
    positions = range(start, start + len(points))
    table = simulate_points(batch, positions, R, daily=False).run().replicates
    table.insert(0, "point", np.repeat(points, R))
    return table


def simulate_points(
    batch: _Batch, positions: Sequence[int], replicates: int, **options: Any
) -> Simulation:
    """The points at ``positions`` of ``batch`` (places in ``batch.points``), each with
    replicates 0 .. R-1, as one :class:`Simulation` to step (``options`` are its own)."""
    per_replicate = {
        path: np.repeat(np.asarray([values[k] for k in positions]), replicates)
        for path, values in batch.per_point.items()
    }
    ids = np.tile(np.arange(replicates), len(positions))
    return Simulation(batch.config, ids, per_replicate=per_replicate, **options)


def runs_as(batch: _Batch, position: int, config: BaseConfig) -> bool:
    """Whether the point at ``position`` of ``batch``, stepped in it, runs ``config``: the
    batch's configuration with the point's own values is ``config`` in every parameter
    (what only names or describes a configuration aside)."""
    planned = leaves(batch.config)
    planned.update((path, values[position]) for path, values in batch.per_point.items())
    own = leaves(config)
    return planned.keys() == own.keys() and all(
        own[path] == value for path, value in planned.items() if not _describes(path)
    )


def _batches(
    design: pd.DataFrame, overrides: Sequence[str], base: BaseConfig, where: str
) -> list[_Batch]:
    """The points grouped into batches that can be stepped together (``base``: the
    configuration ``overrides`` compose, which points choosing no option start from)."""
    groups = [c for c in design.columns if _is_group(c)]
    numbers = [c for c in design.columns if not _is_group(c)]
    composed: dict[tuple, BaseConfig] = {}
    if not groups:
        composed[()] = dataclasses.replace(base, output=dataclasses.replace(base.output))
        composed[()].output.events = "none"  # a design keeps each replicate's counts
    # each distinct configuration before the per-replicate values: its leaves, by
    # (group options, values of the parameters that cannot vary by replicate)
    configs: dict[tuple, tuple[BaseConfig, dict[str, Any]]] = {}
    batches: dict[tuple, _Batch] = {}
    first_leaves: dict[tuple, dict[str, Any]] = {}
    for i, row in enumerate(design.itertuples(index=False, name=None)):
        cells = dict(zip(design.columns, row, strict=True))
        at = f"{where}: point {i}"
        choice = tuple((g, _option(g, cells[g], at)) for g in groups)
        if choice not in composed:
            composed[choice] = _compose_choice(overrides, choice, at)
            composed[choice].output.events = "none"  # a design keeps each replicate's counts
        values = {p: _check_value(composed[choice], p, cells[p], at) for p in numbers}
        fixed = {p: v for p, v in values.items() if not varies_by_replicate(p)}
        variant = (choice, tuple(sorted(fixed.items())))
        if variant not in configs:
            config = _with_fixed(composed[choice], fixed) if fixed else composed[choice]
            configs[variant] = (config, leaves(config))
        config, its_leaves = configs[variant]
        key = _signature(its_leaves)
        if key not in batches:
            batches[key] = _Batch(config, [], {})
            first_leaves[key] = its_leaves
        batch, first = batches[key], first_leaves[key]
        # per point: the design's per-replicate values, and where its configuration
        # differs from the batch's first in a parameter that may vary by replicate
        point_values = {p: v for p, v in values.items() if varies_by_replicate(p)}
        if its_leaves is not first:
            for path, value in its_leaves.items():
                if path not in point_values and _batchable(path, value) and value != first[path]:
                    point_values[path] = value
        n = len(batch.points)
        for path in set(point_values) | set(batch.per_point):
            column = batch.per_point.setdefault(path, [first[path]] * n)
            column.append(point_values.get(path, first[path]))
        batch.points.append(i)
    return list(batches.values())


def _option(group: str, value: Any, at: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{at}, {group} = {value!r}: must be the name of an option of {group}")
    return value.strip()


def _compose_choice(overrides: Sequence[str], choice: tuple, at: str) -> BaseConfig:
    try:
        return compose(*overrides, *(f"{group}={option}" for group, option in choice))
    except ConfigError as exc:
        raise ConfigError(f"{at}: {exc}") from None
    except COMPOSE_ERRORS as exc:
        raise ConfigError(f"{at}: {one_line(exc)}") from None


def _with_fixed(config: BaseConfig, values: dict[str, int | float]) -> BaseConfig:
    for path, value in values.items():
        config = apply_change(config, path, value)
    return config


def _batchable(path: str, value: Any) -> bool:
    return takes_one_per_replicate(path, value)


def _signature(leaves: dict[str, Any]) -> tuple:
    """What points must share to be stepped together: every leaf but those that may vary
    by replicate, the descriptions and the doctrines' names."""
    return tuple(
        (path, repr(value))
        for path, value in sorted(leaves.items())
        if not _batchable(path, value) and not _describes(path)
    )


def _describes(path: str) -> bool:
    """Whether the leaf at ``path`` only names or describes a configuration."""
    return path.endswith(_DESCRIPTIONS) or (path.startswith("doctrine.") and path.endswith(".name"))


# --- the escalation-design command --------------------------------------------------------------

PROG = "escalation-design"


def grid(specs: Sequence[str]) -> pd.DataFrame:
    """The full factorial design of ``PATH=v1,v2,...`` specs (numbers, or a config group's
    options), one row per combination, the first spec varying slowest."""
    columns: dict[str, list] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not name or not values:
            raise ConfigError(f"--grid {spec!r}: must be PATH=VALUE,VALUE,...")
        if name in columns:
            raise ConfigError(f"--grid {name}: given twice")
        columns[name] = [v if _is_group(name) else _number(v) for v in values.split(",")]
    mesh = np.meshgrid(*(np.arange(len(v)) for v in columns.values()), indexing="ij")
    return pd.DataFrame(
        {
            name: [values[i] for i in index.ravel()]
            for (name, values), index in zip(columns.items(), mesh, strict=True)
        }
    )


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # refused, naming the field, when the design is checked


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """``escalation-design``: run a design table (or a grid) as parameter-batched ensembles."""
    parser = OneLineArgumentParser(
        prog=PROG,
        description="Run every point of a design (a CSV or Parquet table, one row per point, "
        "one column per parameter) with the same replicates, points batched together.",
    )
    parser.add_argument("design", nargs="?", type=Path, help="the design table (CSV or Parquet)")
    parser.add_argument(
        "overrides", nargs="*", metavar="OVERRIDE", help="settings for every point (key=value)"
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2",
        help="instead of a table: the full factorial of these values (repeatable)",
    )
    parser.add_argument(
        "--experiment",
        metavar="NAME",
        help="instead of a table: the swept values of a named study (configs/experiment/), "
        "with its settings",
    )
    parser.add_argument(
        "--replicates", type=int, default=None, help="replicates per point (default 100)"
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the results")
    parser.add_argument(
        "--chunks",
        type=int,
        default=None,
        help="cut the points into this many chunks, each kept in OUT/chunks/ once done; "
        "run again with the same --out to resume (default: chunks of about "
        f"{BATCH_REPLICATES:,} replicates)",
    )
    parser.add_argument(
        "--chunk",
        type=int,
        default=None,
        metavar="I",
        help="run only chunk I (0 .. chunks-1), as one task of a cluster array job; needs "
        "--out and --chunks; the task that finds every chunk done writes the tables",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="run the chunks in this many processes"
    )
    parser.add_argument(
        "--cluster",
        choices=CLUSTERS,
        default=None,
        help="run the chunks as the tasks of one job array (submitit, as the sweeps' cluster "
        "launcher): slurm, with the settings of configs/hydra/launcher/slurm.yaml; local, "
        "the same array as processes of this machine",
    )
    parser.add_argument(
        "--slurm",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the SLURM job array (partition, account, qos, timeout_min, "
        "cpus_per_task, mem_gb, array_parallelism, setup), repeatable",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table")
    args = parser.parse_intermixed_args(argv)
    if args.replicates is not None and args.replicates < 1:
        fail(PROG, f"--replicates = {args.replicates}: must be a whole number >= 1")
    if args.workers < 1:
        fail(PROG, f"--workers = {args.workers}: must be a whole number >= 1")
    if args.chunk is not None and (args.out is None or args.chunks is None):
        fail(PROG, "--chunk: give --chunks and --out too (every task writes to one folder)")
    if args.design is not None and "=" in str(args.design):  # an override, not a file
        args.overrides.insert(0, str(args.design))
        args.design = None
    sources = [args.design is not None, bool(args.grid), args.experiment is not None]
    if sum(sources) != 1:
        fail(PROG, "give one of: a design table, --grid PATH=V1,V2, --experiment NAME")
    where = str(args.design) if args.design is not None else "--grid"
    stamp = dt.datetime.now().strftime("%Y-%m-%d/%H-%M-%S")
    out = args.out or Path("results/designs") / f"{stamp}-{uuid.uuid4().hex[:6]}"
    try:
        if args.experiment is not None:
            where = f"experiment {args.experiment}"
            specs, replicates = experiment_grid(args.experiment)
            args.overrides.insert(0, f"experiment={args.experiment}")
            args.replicates = args.replicates or replicates
            design = grid(specs)
        else:
            design = read_design(args.design) if args.design is not None else grid(args.grid)
        args.replicates = args.replicates or 100
        check_writable(out, "--out")
        plan = plan_design(
            design,
            *args.overrides,
            f"replicates={args.replicates}",
            "output.events=none",
            "output.figures=false",
            replicates=args.replicates,
            where=where,
        )
        chunks = args.chunks
        if chunks is None:  # chunks of about one batch (BATCH_REPLICATES), one per worker
            chunks = max(args.workers, -(-len(design) * args.replicates // BATCH_REPLICATES))
        parts = chunk_points(len(design), chunks)
        if args.chunk is not None and not 0 <= args.chunk < chunks:
            raise ConfigError(f"--chunk = {args.chunk}: must be in 0 .. {chunks - 1}")
        record = plan_record(plan, args.overrides, chunks)
        on_cluster = slurm_settings(_launcher_settings("slurm"), args.slurm)
    except (ConfigError, FolderError) as exc:
        fail(PROG, str(exc))
    except COMPOSE_ERRORS as exc:
        fail(PROG, one_line(exc))
    which = None if args.chunk is None else [args.chunk]
    size = f"{len(design)} points x --replicates {args.replicates} x {plan.config.days} days"
    try:  # a chunk's replicate tables are kept until it is written
        largest = max(len(parts[i]) for i in (which or range(chunks)))
        check_memory(
            largest * args.replicates * args.workers, plan.config.days, size, events="none"
        )
    except InsufficientMemoryError as exc:
        fail(PROG, str(exc))
    # the folder is this process's while it runs (a second process is refused), except for
    # the tasks of an array job, which share it: each writes its own chunk
    with contextlib.nullcontext() if which else claim_or_fail(PROG, out, "--out") as claim:
        try:
            check_plan(out, record)
        except ConfigError as exc:
            fail(PROG, str(exc))
        total = len(design) if which is None else len(parts[args.chunk])

        def progress(done: int) -> None:
            bar.update(done - bar.n)
            if done and claim is not None:  # a finished chunk is kept, to resume from
                claim.keep()

        with tqdm(total=total, unit="point", desc=PROG, disable=args.quiet) as bar:
            try:
                run_chunks(
                    plan, out, chunks, which, args.workers, progress, args.cluster, on_cluster
                )
            except ChunkError as exc:  # the chunks done are kept: the same command resumes
                print(f"{PROG}: error: {exc}", file=sys.stderr)
                raise SystemExit(1) from None
        waiting = missing_chunks(out, chunks)
        if waiting:  # a task of an array job: the last to finish writes the tables
            if not args.quiet:
                print(f"Chunk {args.chunk} of {chunks} done; {len(waiting)} to go. Results: {out}")
            return
        result = DesignResult(plan.points, join_chunks(out, chunks), plan.config)
        summary = result.summary()
        write_parquet(result.replicates, out / "design_results.parquet")
        atomic_write(out / "design_summary.csv", lambda tmp: summary.to_csv(tmp, index=False))
        atomic_write(out / "design.csv", lambda tmp: result.points.to_csv(tmp, index=False))
        write_json(
            {
                "design": where,
                "overrides": args.overrides,
                "replicates": args.replicates,
                "points": len(design),
                "chunks": chunks,
                **provenance(result.config),
            },
            out / "design.json",
        )
    if not args.quiet:
        shown = ["point", *design.columns, "share_war", "share_spiral", "mean_attacks"]
        with pd.option_context("display.width", 160, "display.max_rows", 20):
            print(summary[shown].to_string(index=False, max_rows=20))
        print(f"Results: {out}")


def _launcher_settings(name: str) -> dict:
    """The settings of a cluster launcher of the sweeps (configs/hydra/launcher/<name>.yaml),
    its interpolations left out."""
    data = yaml.safe_load((Path(config_dir()) / "hydra" / "launcher" / f"{name}.yaml").read_text())
    return {k: v for k, v in (data or {}).items() if not (isinstance(v, str) and "${" in v)}


def experiment_grid(name: str) -> tuple[list[str], int | None]:
    """A named study's swept values as ``--grid`` specs, and its replicates per job: the
    same study as ``escalation-sim -m experiment=NAME``, run as one batched design."""
    path = Path(config_dir()) / "experiment" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"--experiment {name}: no such study (choose from: {', '.join(known)})")
    study = OmegaConf.load(path)
    params = OmegaConf.select(study, "hydra.sweeper.params") or {}
    specs = []
    for key, values in params.items():
        text = str(values)
        if any(sign in text for sign in ("(", "[", "{")):
            raise ConfigError(
                f"experiment {name}: {key} = {text}: only comma-separated values run as a "
                "design (sweep it with escalation-sim -m)"
            )
        specs.append(f"{key}={text.replace(' ', '')}")
    if not specs:
        raise ConfigError(f"experiment {name}: sweeps nothing (hydra.sweeper.params is empty)")
    replicates = study.get("replicates")
    return specs, int(replicates) if replicates is not None else None
