"""``escalation-validate``: run a scenario over an event record's dates and score it.

The record (any file in the schema of ``docs/data.md``) fixes the window: the scenario
starts on the record's first date and runs to its last. The ensemble's events are turned
into the record schema and every scorecard statistic (:mod:`sim.scorecard`) is computed
per replicate; the observed value is then set against the simulated median and 90%
interval. Outputs go to one folder, written atomically, after every input is checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import BaseConfig, ConfigError, active_inputs, compose, input_period, parse_date
from sim.engine import Simulation
from sim.errors import COMPOSE_ERRORS, OneLineArgumentParser, fail, one_line
from sim.folders import claim_or_fail
from sim.io import atomic_write
from sim.memory import InsufficientMemoryError, check_memory
from sim.outofsample import PERIODS
from sim.outofsample import compare as compare_out_of_sample
from sim.outofsample import markdown as out_of_sample_markdown
from sim.outofsample import summary_lines as out_of_sample_lines
from sim.plots.style import BLACK, BLUE, FONT, GREY, _new_figure
from sim.record import RecordError, event_counts, file_problem, load_counts, load_events
from sim.scorecard import (
    REFERENCE,
    REFERENCE_LABEL,
    STATISTICS,
    Parts,
    Statistic,
    Window,
    events_to_record,
    monthly_attacks,
    parts,
    pooled_reference,
)
from sim.scorecard import scorecard as score
from sim.stops import command

PROG = "escalation-validate"
#: where a validation's folder goes unless ``--out`` is given (then ``<date>/<time>``)
DEFAULT_OUT = Path("results/validation")
#: the interval reported beside the simulated median
INTERVAL = (0.05, 0.95)
#: a simulated statistic is summarised only if at least this share of replicates support it
MIN_SUPPORTED_SHARE = 0.5


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (the record's identity in reports and presets)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def compose_or_fail(prog: str, overrides: list[str]) -> BaseConfig:
    """``compose`` with Hydra's and the schema's complaints turned into one line, exit 2."""
    try:
        return compose(*overrides)
    except ConfigError as exc:
        fail(prog, str(exc))
    except COMPOSE_ERRORS as exc:
        fail(prog, one_line(exc))
    raise AssertionError("unreachable")


def check_memory_or_fail(prog: str, config: BaseConfig, what: str = "") -> None:
    """Refuse, in one line (exit 2), an ensemble that would not fit in the machine's memory."""
    output = config.output
    size = f"{what} {config.replicates} x {config.days} days" if what else ""
    try:
        check_memory(
            config.replicates,
            config.days,
            size,
            events=output.events,
            event_sample=output.event_sample,
            daily=output.daily,
        )
    except InsufficientMemoryError as exc:
        fail(prog, str(exc))


def window_of(record: pd.DataFrame, start: str | None = None, end: str | None = None) -> Window:
    """The record's first to last date, narrowed by ``start`` / ``end`` when given."""
    first = pd.Timestamp(start) if start else record["date"].min()
    last = pd.Timestamp(end) if end else record["date"].max()
    return Window(first, last)


def window_overrides(window: Window) -> list[str]:
    """Overrides that make a run cover the window (appended after the user's)."""
    return [f"scenario.start_date={window.start.date().isoformat()}", f"days={window.days}"]


def inputs_outside(config: BaseConfig, window: Window) -> list[str]:
    """Dated inputs switched on that reach outside the window: one begun before it holds
    from day 0, one ended before it or begun after it does not act."""
    notes = []
    for name, entry in active_inputs(config).items():
        date, until = input_period(name, entry)
        if until is not None and pd.Timestamp(until) < window.start:
            notes.append(
                f"inputs.{name} ({entry.date} to {entry.until}) ends before the window: not applied"
            )
        elif pd.Timestamp(date) < window.start:
            notes.append(
                f"inputs.{name}: {entry.path} "
                + (f"= {entry.value:g}" if entry.scale is None else f"x {entry.scale:g}")
                + f" (dated {entry.date}) "
                "holds from day 0"
            )
        elif pd.Timestamp(date) > window.end:
            dated = f"dated {entry.date}"
            notes.append(f"inputs.{name} ({dated}) falls after the window: not applied")
    return notes


@dataclass
class Ensemble:
    """Per-replicate scorecards and monthly attack counts of a simulated ensemble."""

    table: pd.DataFrame  # one row per replicate, one column per statistic (NaN: unsupported)
    monthly: pd.DataFrame  # rows: replicates, columns: calendar months
    seconds: float
    parts: list[Parts] = field(default_factory=list)  # per replicate, for pooled statistics
    record: pd.DataFrame | None = None  # the simulated events in the record schema
    replicates: pd.DataFrame | None = None  # the run's replicate table


def simulate(config: BaseConfig, window: Window) -> Ensemble:
    """Run ``config`` (already over the window) and score every replicate."""
    started = time.perf_counter()
    result = Simulation(config).run()
    record = events_to_record(result.events, config.theatre)
    months = pd.period_range(window.start, window.end, freq="M")
    rows, monthly, pieces = [], [], []
    groups = dict(tuple(record.groupby("replicate")))
    empty = record.iloc[0:0]
    for replicate in result.replicates["replicate"]:
        events = groups.get(replicate, empty)
        stats = score(events, window, config.ladder)
        rows.append({name: s.value for name, s in stats.items()})
        monthly.append(monthly_attacks(events, window).to_numpy())
        pieces.append(parts(events, window))
    table = pd.DataFrame(rows, columns=list(STATISTICS))
    monthly_frame = pd.DataFrame(np.array(monthly).reshape(-1, len(months)), columns=months)
    seconds = time.perf_counter() - started
    return Ensemble(table, monthly_frame, seconds, pieces, record, result.replicates)


def compare(observed: dict[str, Statistic], ensemble: Ensemble) -> list[dict[str, Any]]:
    """The scorecard rows: observed value and the events behind it, simulated value and
    90% interval (formed as :data:`sim.scorecard.REFERENCE` says), inside or why not.

    ``median`` repeats ``simulated`` where there is an interval, else None (the name and
    the rows the calibration's distance reads).
    """
    rows = []
    for name, definition in STATISTICS.items():
        obs = observed[name]
        method = REFERENCE[name]
        values = ensemble.table[name].to_numpy(dtype=float)
        supported = values[~np.isnan(values)]
        row: dict[str, Any] = {
            "statistic": name,
            "label": definition.label,
            "observed": None if not obs.supported else obs.value,
            "observed_n": obs.n,
            "method": method,
            "simulated_n": None,
            "replicates_supported": int(len(supported)),
            "replicates": int(len(values)),
            "simulated": None,
            "low": None,
            "high": None,
            "inside": None,
            "reason": obs.reason,
        }
        if method.startswith("replicates"):
            row["simulated_n"] = int(len(supported))
            if len(supported) >= max(1, MIN_SUPPORTED_SHARE * len(values)):
                low, median, high = np.quantile(supported, [INTERVAL[0], 0.5, INTERVAL[1]])
                value = supported.mean() if method == "replicates_mean" else median
                row |= {"simulated": float(value), "low": float(low), "high": float(high)}
            elif not row["reason"]:
                row["reason"] = (
                    f"supported in {len(supported)} of {len(values)} simulated replicates"
                )
        else:
            ref = pooled_reference(name, obs, ensemble.parts)
            row |= {"simulated": ref.value, "low": ref.low, "high": ref.high,
                    "simulated_n": ref.n}  # fmt: skip
            if ref.reason and not row["reason"]:
                row["reason"] = ref.reason
        if obs.supported and row["low"] is not None and not row["reason"]:
            row["inside"] = bool(row["low"] <= obs.value <= row["high"])
        row["median"] = row["simulated"] if row["low"] is not None else None
        rows.append(row)
    return rows


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """``validation.md``: the scorecard table and what it was run on."""
    lines = [
        f"# Validation: {meta['scenario']} against {meta['record']}",
        "",
        f"Record: `{meta['record']}` (sha256 {meta['record_sha256'][:12]}), "
        f"{meta['record_events']} events; window {meta['start']} to {meta['end']} "
        f"({meta['days']} days). Ensemble: {meta['replicates']} replicates, seed {meta['seed']}.",
        "",
    ]
    if meta.get("overrides"):
        lines += [f"Overrides: `{' '.join(meta['overrides'])}`.", ""]
    lines += [
        "| statistic | observed | observed events | simulated | 90% interval | formed as | "
        "inside? |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        interval = f"{_fmt(row['low'])} - {_fmt(row['high'])}" if row["low"] is not None else ""
        inside = {True: "yes", False: "no", None: ""}[row["inside"]]
        if row["reason"]:
            inside = f"not supported: {row['reason']}"
        lines.append(
            f"| {row['label']} | {_fmt(row['observed'])} | {row['observed_n']} | "
            f"{_fmt(row['simulated'])} | {interval} | {REFERENCE_LABEL[row['method']]} | "
            f"{inside} |"
        )
    if meta["inputs_outside"]:
        lines += ["", "Dated inputs outside the window:", ""]
        lines += [f"- {note}" for note in meta["inputs_outside"]]
    return "\n".join(lines) + "\n"


def summary_lines(rows: list[dict[str, Any]], meta: dict[str, Any], out: Path) -> list[str]:
    """The short summary printed after a validation."""
    judged = [r for r in rows if r["inside"] is not None]
    inside = sum(r["inside"] for r in judged)
    lines = [
        f"Validation: {out}",
        f"  {meta['record']}: {meta['record_events']} events, {meta['start']} to {meta['end']}",
        f"  Scenario {meta['scenario']}, {meta['replicates']} replicates, seed {meta['seed']}",
    ]
    if meta.get("overrides"):
        lines.append(f"  Overrides: {' '.join(meta['overrides'])}")
    lines.append(f"  Inside the 90% interval: {inside} of {len(judged)} supported statistics")
    for row in rows:
        if row["inside"] is not None:
            mark = "inside" if row["inside"] else "OUTSIDE"
            lines.append(
                f"    {row['label']}: observed {_fmt(row['observed'])} (n = "
                f"{row['observed_n']}), simulated {_fmt(row['simulated'])} "
                f"[{_fmt(row['low'])}, {_fmt(row['high'])}] {mark}"
            )
    unsupported = [r["statistic"] for r in rows if r["inside"] is None]
    if unsupported:
        lines.append(f"  Not supported: {', '.join(unsupported)} (see validation.md)")
    return lines


def parse_args(
    prog: str, argv: list[str], description: str, replicates: int = 100, events_required=True
) -> argparse.ArgumentParser:
    """The options shared by validation and calibration (``replicates``: the default size;
    ``events_required``: whether ``--events`` must be given)."""
    parser = OneLineArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--events", type=Path, required=events_required, help="event record (CSV, docs/data.md)"
    )
    parser.add_argument(
        "--replicates",
        type=int,
        default=replicates,
        help=f"ensemble size (default {replicates})",
    )
    parser.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument(
        "overrides", nargs="*", metavar="OVERRIDE", help="Hydra overrides, e.g. scenario=biden2021"
    )
    return parser


#: overrides the commands set themselves, and the option to use instead
RESERVED = {
    "days": "the record's window sets it; use --from/--to",
    "scenario.start_date": "the record's window sets it; use --from/--to",
    "replicates": "use --replicates",
    "seed": "use --seed",
    "output.events": "the command needs every event",
}


def check_overrides(prog: str, overrides: list[str]) -> None:
    """Refuse overrides the command would silently replace (one line, exit 2)."""
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in RESERVED:
            fail(prog, f"{override}: {RESERVED[key]}")


def check_positive(parser: argparse.ArgumentParser, name: str, value: int) -> None:
    if value < 1:
        parser.error(f"{name} = {value}: must be a whole number >= 1")


def load_or_fail(prog: str, path: Path) -> pd.DataFrame:
    """Load a record or exit 2 with the loader's one line."""
    problem = file_problem("--events", path)
    if problem:
        fail(prog, problem)
    try:
        return load_events(path)
    except RecordError as exc:
        fail(prog, str(exc))
    raise AssertionError("unreachable")


def write_outputs(
    out: Path, rows: list[dict[str, Any]], meta: dict[str, Any], ensemble: Ensemble,
    observed_monthly: pd.Series,
) -> None:  # fmt: skip
    """validation.json, validation.md, validation.png into ``out``.

    Everything is rendered in memory first, then each file is written atomically, so a
    failure while drawing leaves no folder behind.
    """
    data = json.dumps({"meta": meta, "statistics": rows}, indent=2, default=str) + "\n"
    text = markdown(rows, meta)
    png = io.BytesIO()
    fig = monthly_bands_figure(observed_monthly, ensemble.monthly, meta["title"])
    fig.savefig(png, dpi=150, format="png")
    atomic_write(out / "validation.json", lambda tmp: tmp.write_text(data))
    atomic_write(out / "validation.md", lambda tmp: tmp.write_text(text))
    atomic_write(out / "validation.png", lambda tmp: tmp.write_bytes(png.getvalue()))


def monthly_bands_figure(
    observed: pd.Series, simulated: pd.DataFrame, title: str, split: pd.Timestamp | None = None
):
    """Observed monthly attacks over the simulated 50% and 90% bands (a matplotlib Figure)."""
    fig = _new_figure((11.0, 4.8))
    draw_monthly_bands(fig.add_subplot(), observed, simulated, title, split)
    return fig


def draw_monthly_bands(ax, observed, simulated, title: str, split=None) -> None:
    """Draw the bands and observed counts on ``ax``; a dashed line at ``split`` (held out).

    Months at the window's edges are partial in both series alike.
    """
    starts = observed.index.to_timestamp()
    edges = starts.append(pd.DatetimeIndex([(observed.index[-1] + 1).to_timestamp()]))
    q = np.quantile(simulated.to_numpy(dtype=float), [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    q = np.concatenate([q, q[:, -1:]], axis=1)  # the last month's step needs its right edge
    ax.fill_between(edges, q[0], q[4], color=BLUE, alpha=0.18, step="post", label="simulated 90%")
    ax.fill_between(edges, q[1], q[3], color=BLUE, alpha=0.35, step="post", label="simulated 50%")
    ax.step(edges, q[2], where="post", color=BLUE, lw=1.2, label="simulated median")
    middle = starts + (edges[1:] - starts) / 2
    ax.plot(middle, observed.to_numpy(), "o", color=BLACK, ms=5, label="observed")
    if split is not None:
        ax.axvline(split, color=GREY, ls="--", lw=1.2, label="held out from here")
    ax.set_ylabel("militia attacks per month", fontsize=FONT)
    ax.set_title(f"{title} (first and last months are partial)", fontsize=FONT + 1)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=FONT - 1, loc="upper left", frameon=False)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


def validate(
    record: pd.DataFrame, window: Window, config: BaseConfig
) -> tuple[list[dict[str, Any]], Ensemble, pd.Series]:
    """Score ``config`` (already set to the window) against ``record``."""
    observed = score(record, window, config.ladder)
    ensemble = simulate(config, window)
    return compare(observed, ensemble), ensemble, monthly_attacks(record, window)


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """Console entry point of ``escalation-validate``."""
    argv = sys.argv[1:] if argv is None else argv
    if "--forecast" in argv:  # the forecast mode has options of its own (sim/forecast.py)
        from sim.forecast import main as forecast

        forecast(argv)
        return
    parser = parse_args(
        PROG,
        argv,
        "Run a scenario as an ensemble over an event record's dates and compare stylised "
        "facts of the simulated and observed events.",
        events_required=False,
    )
    parser.add_argument("--from", dest="start", default=None, help="first date scored (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", default=None, help="last date scored (YYYY-MM-DD)")
    parser.add_argument(
        "--forecast",
        action="store_true",
        help="forecast the months after a fitting window and score them with proper scoring "
        "rules against baselines (escalation-validate --forecast --help)",
    )
    parser.add_argument(
        "--record",
        default=None,
        metavar="PERIOD",
        help="an out-of-sample period the project ships, instead of --events: its record, "
        f"its window and its preset (unless scenario= is given), and the comparison with "
        f"its tallies (one of: {', '.join(PERIODS)})",
    )
    args = parser.parse_args(argv)
    check_positive(parser, "--replicates", args.replicates)
    check_overrides(PROG, args.overrides)
    period = None
    if args.record is not None:
        if args.events is not None:
            fail(PROG, "--record and --events: give one (--record names a shipped record)")
        if args.record not in PERIODS:
            shipped = ", ".join(PERIODS)
            fail(PROG, f"--record {args.record}: not a shipped period (one of: {shipped})")
        period = PERIODS[args.record]
        args.events = period.record()
        if not any(o.split("=", 1)[0].lstrip("+~") == "scenario" for o in args.overrides):
            args.overrides = [f"scenario={period.scenario}", *args.overrides]
        args.start = args.start or period.start
        args.end = args.end or period.end
    elif args.events is None:
        fail(PROG, "--events FILE or --record PERIOD is required")
    for flag, value in (("--from", args.start), ("--to", args.end)):
        if value is not None:
            try:
                parse_date(flag, value)
            except ConfigError as exc:
                fail(PROG, str(exc))
    record = load_or_fail(PROG, args.events)
    window = window_of(record, args.start, args.end)
    if window.days < 1:
        fail(PROG, f"--from/--to: the window {window.start.date()} to {window.end.date()} is empty")
    record = window.clip(record)
    run = [f"replicates={args.replicates}", f"seed={args.seed}", "output.events=all"]
    config = compose_or_fail(PROG, [*args.overrides, *window_overrides(window), *run])
    check_memory_or_fail(PROG, config, "--replicates")
    stamp = dt.datetime.now().strftime("%Y-%m-%d/%H-%M-%S")
    with claim_or_fail(
        PROG, args.out or DEFAULT_OUT / stamp, "--out", unique=not args.out
    ) as claim:
        rows, ensemble, observed_monthly = validate(record, window, config)
        meta = metadata(args.events, record, window, config, args.overrides)
        meta["title"] = f"{config.scenario.name} against {args.events.name}"
        meta["seconds"] = round(ensemble.seconds, 1)
        write_outputs(claim.folder, rows, meta, ensemble, observed_monthly)
        extra: list[str] = []
        if period is not None:
            tables = out_of_sample(period, record, window, ensemble)
            write_out_of_sample(claim.folder, tables, meta)
            extra = out_of_sample_lines(tables)
        claim.keep()
    print("\n".join(summary_lines(rows, meta, claim.folder) + extra))


def out_of_sample(period, record: pd.DataFrame, window: Window, ensemble: Ensemble) -> dict:
    """The out-of-sample tables of ``period`` (:func:`sim.outofsample.compare`) for a
    simulated ensemble, against its record and the shipped tallies."""
    counts = load_counts(event_counts())
    return compare_out_of_sample(
        period, window.clip(record), counts, ensemble.record, ensemble.replicates, window
    )


def write_out_of_sample(out: Path, tables: dict, meta: dict[str, Any]) -> None:
    """out_of_sample.json and out_of_sample.md into ``out`` (each written atomically)."""
    data = json.dumps({"meta": meta, **tables}, indent=2, default=str) + "\n"
    text = out_of_sample_markdown(tables, meta)
    atomic_write(out / "out_of_sample.json", lambda tmp: tmp.write_text(data))
    atomic_write(out / "out_of_sample.md", lambda tmp: tmp.write_text(text))


def metadata(
    path: Path, record: pd.DataFrame, window: Window, config: BaseConfig, overrides: list[str]
) -> dict[str, Any]:
    """What a validation was run on (record, window, scenario, ensemble)."""
    return {
        "record": path.name,
        "record_sha256": file_hash(path),
        "record_events": len(record),
        "start": window.start.date().isoformat(),
        "end": window.end.date().isoformat(),
        "days": window.days,
        "scenario": config.scenario.name,
        "overrides": list(overrides),
        "replicates": config.replicates,
        "seed": config.seed,
        "interval": list(INTERVAL),
        "inputs_outside": inputs_outside(config, window),
    }


if __name__ == "__main__":
    main()
