"""``escalation-calibrate``: fit the free parameters to an event record with Optuna.

Each trial sets the free parameters (``configs/calibration/``), runs an ensemble over the
fitted part of the record and scores the scorecard (:mod:`sim.scorecard`). The distance to
minimise is the sum, over the statistics the record supports, of the squared difference
between the observed value and the simulated median, in units of the simulated spread.
Every trial uses the same seed, so trials differ by their parameters, not their draws.
The study lives in SQLite: the same command run again resumes it up to ``--trials``.
The best parameters become a scenario preset, ``scenario=calibrated_<name>``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.ticker import LogFormatter, MaxNLocator

from sim.config import BaseConfig, ConfigError, apply_change, config_dir, parse_date
from sim.config import validate as validate_config
from sim.errors import fail
from sim.folders import check_writable_or_fail, claim_or_fail
from sim.io import atomic_write, write_json
from sim.plots.style import BLUE, FONT, GREY, _new_figure
from sim.scorecard import Window
from sim.scorecard import scorecard as score
from sim.stops import command, exit_status, stop_message
from sim.validate import (
    check_memory_or_fail,
    check_overrides,
    check_positive,
    compare,
    compose_or_fail,
    draw_monthly_bands,
    file_hash,
    load_or_fail,
    markdown,
    metadata,
    parse_args,
    simulate,
    summary_lines,
    validate,
    window_of,
    window_overrides,
)

PROG = "escalation-calibrate"
#: z = 1.645 spans the central 90% of a normal: the simulated 90% interval / (2 z) is a spread
Z90 = 1.645
#: spreads below this share of the compared values would make one statistic outweigh all others
SPREAD_FLOOR_RELATIVE = 0.05
#: and an absolute floor for statistics whose values are near 0 (burstiness, branching ratio)
SPREAD_FLOOR_ABSOLUTE = 0.01
#: a statistic the observed record supports but fewer than half the replicates do adds this
#: much, as an observed value two spreads away would
UNSUPPORTED_PENALTY = 4.0
NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class FreeParameter:
    """One calibrated setting: its dotted config path and search range."""

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
    if not entries:
        raise ConfigError(f"{path}: parameters: a list of {{path, low, high, log, why}} is needed")
    out = []
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
        if not p.low < p.high or (p.log and p.low <= 0):
            raise ConfigError(f"{where} ({p.path}): needs low < high, and low > 0 on a log scale")
        out.append(p)
    return out


#: the posterior's file in a calibration's folder
POSTERIOR_FILE = "posterior.parquet"
#: columns of the posterior file that are not parameters
POSTERIOR_EXTRA = ("weight", "generation", "distance")
#: parameters of the observation model (not of the simulation): their paths start so
OBSERVATION_PREFIX = "observation."


def load_posterior(folder: str | Path) -> pd.DataFrame:
    """The posterior of a calibration: a weighted sample of parameter points.

    Reads ``posterior.parquet`` in ``folder`` (a calibration's output folder) and returns
    its final generation: one column per free parameter, by dotted path, plus ``weight``
    (summing to 1). The observation model's parameters (``observation.*``, see
    docs/validation.md) are columns too; they are not settings of the model.

    Raises:
        FileNotFoundError: no posterior in ``folder``.
        ValueError: a file that is not a posterior (no ``weight``, weights not positive).
    """
    path = Path(folder) / POSTERIOR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no posterior here; run escalation-calibrate first")
    frame = pd.read_parquet(path)
    if "weight" not in frame.columns:
        raise ValueError(f"{path}: no weight column; not a posterior")
    if "generation" in frame.columns:
        frame = frame[frame["generation"] == frame["generation"].max()]
    weight = frame["weight"].to_numpy(dtype=float)
    if len(weight) == 0 or not np.all(np.isfinite(weight)) or np.any(weight < 0) \
            or weight.sum() <= 0:  # fmt: skip
        raise ValueError(f"{path}: weights must be finite, >= 0 and not all 0")
    paths = [c for c in frame.columns if c not in POSTERIOR_EXTRA]
    out = frame[paths].reset_index(drop=True).astype(float)
    out["weight"] = weight / weight.sum()
    return out


def posterior_draws(
    frame: pd.DataFrame, n: int, seed: int, observation: bool = False
) -> dict[str, np.ndarray]:
    """``n`` parameter points drawn from a posterior (``load_posterior``) by weight, with
    replacement: {dotted path: (n,) values}, ready for ``Simulation(per_replicate=...)``.

    The observation model's parameters (``observation.*``) are left out unless
    ``observation`` is true: they are not settings of the model. The same ``seed`` gives
    the same draws.
    """
    if n < 1:
        raise ValueError(f"n = {n}: draw at least one point")
    weight = frame["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), size=n, replace=True, p=weight / weight.sum())
    return {
        path: frame[path].to_numpy(dtype=float)[rows]
        for path in frame.columns
        if path not in POSTERIOR_EXTRA
        and (observation or not path.startswith(OBSERVATION_PREFIX))
    }


def with_values(config: BaseConfig, values: dict[str, float]) -> BaseConfig:
    """A copy of ``config`` with the free parameters set (and validated)."""
    for path, value in values.items():
        config = apply_change(config, path, value, "calibration")
    validate_config(config)
    return config


def spread(low: float, high: float, observed: float, median: float) -> float:
    """The simulated spread of a statistic, floored (see the floors' comments)."""
    return max(
        (high - low) / (2 * Z90),
        SPREAD_FLOOR_RELATIVE * max(abs(observed), abs(median)),
        SPREAD_FLOOR_ABSOLUTE,
    )


def distance(rows: list[dict[str, Any]]) -> tuple[float, dict[str, float]]:
    """Sum of squared standardised differences over the statistics the record supports."""
    terms = {}
    for row in rows:
        if row["observed"] is None:
            continue
        if row["median"] is None:
            terms[row["statistic"]] = UNSUPPORTED_PENALTY
            continue
        s = spread(row["low"], row["high"], row["observed"], row["median"])
        terms[row["statistic"]] = ((row["observed"] - row["median"]) / s) ** 2
    return float(sum(terms.values())), terms


def open_study(name: str, storage: str, seed: int, identity: dict[str, Any]):
    """Create or resume the study; a study fitted to other data or parameters is refused."""
    import optuna  # slow to import (its database layer); only a calibration needs it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        study = None
    except Exception as exc:  # noqa: BLE001 - the database layer's errors vary by backend
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise ConfigError(
            f"--storage {storage}: cannot be opened ({lines[0]}); "
            "use an Optuna storage URL such as sqlite:///study.db"
        ) from None
    done = 0 if study is None else len(complete_trials(study))
    # a resumed study gets a fresh seed, or TPE's first random points would repeat
    sampler = optuna.samplers.TPESampler(seed=seed + done)
    if study is None:
        study = optuna.create_study(
            study_name=name, storage=storage, sampler=sampler, direction="minimize"
        )
        for key, value in identity.items():
            study.set_user_attr(key, value)
        return study
    for key, value in identity.items():
        if study.user_attrs.get(key) != value:
            raise ConfigError(
                f"--storage {storage}: study {name!r} was run with another {key} "
                f"({study.user_attrs.get(key)!r}); choose another --name"
            )
    return optuna.load_study(study_name=name, storage=storage, sampler=sampler)


def complete_trials(study) -> list:
    import optuna  # loaded already: the study is Optuna's

    return [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


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


def preset_text(name: str, values: dict[str, float], meta: dict[str, Any]) -> str:
    """The scenario preset: a ``# @package _global_`` delta with its provenance."""
    header = [
        "# @package _global_",
        f"# Calibrated by escalation-calibrate on {meta['date']} (docs/validation.md).",
        f"# Record: {meta['record']} (sha256 {meta['record_sha256']}).",
        f"# Fitted on {meta['fit_start']} to {meta['fit_end']}; "
        + (
            f"held out: {meta['holdout_start']} to {meta['holdout_end']} "
            f"({len(meta['held_out_events'])} events, listed in calibration.json)."
            if meta["holdout_start"]
            else "nothing held out."
        ),
        f"# Study {meta['study']}: {meta['trials']} trials (TPE sampler, seed {meta['seed']}), "
        f"{meta['replicates']} replicates per trial;",
        f"# best distance {meta['distance']:.3g} over {len(meta['terms'])} statistics "
        f"({', '.join(meta['terms'])}).",
        f"# Free parameters and their ranges: {meta['parameters_file']}; all other",
        "# values as in the default scenario"
        + (f", with the overrides {' '.join(meta['overrides'])}." if meta["overrides"] else "."),
    ]
    body = {
        "days": meta["fit_days"],
        "scenario": {
            "name": f"calibrated_{name}",
            "description": f"The default scenario with its free parameters fitted to "
            f"{meta['record']} ({meta['fit_start']} to {meta['fit_end']}).",
            "start_date": meta["fit_start"],
        },
        **_nested(values),
    }
    return "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False)


def _plain_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def fit_figure(observed: pd.Series, simulated: pd.DataFrame, study, title: str, split):
    """Monthly attacks under the best parameters over the whole record, and the search.

    The search is drawn by Optuna's trial numbers, as the command prints them (a trial
    stopped by Ctrl-C keeps its number and leaves a gap), on a log scale labelled in
    plain numbers.
    """

    class PlainLog(LogFormatter):
        """Matplotlib's choice of which log ticks to label, in plain numbers."""

        def __call__(self, x, pos=None):
            return _plain_number(x) if super().__call__(x, pos) else ""

    fig = _new_figure((14.0, 4.8))
    bands, history = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    draw_monthly_bands(bands, observed, simulated, title, split)
    done = complete_trials(study)
    values = np.array([t.value for t in done])
    trial = np.array([t.number for t in done])
    history.plot(trial, values, ".", color=GREY, label="trial")
    history.step(trial, np.minimum.accumulate(values), where="post", color=BLUE,
                 label="best so far")  # fmt: skip
    history.set_yscale("log")
    history.yaxis.set_major_formatter(PlainLog(labelOnlyBase=False))
    history.yaxis.set_minor_formatter(PlainLog(labelOnlyBase=False))
    history.xaxis.set_major_locator(MaxNLocator(integer=True))
    history.set_xlabel("trial number", fontsize=FONT)
    history.set_ylabel("distance", fontsize=FONT)
    history.set_title("the search", fontsize=FONT + 1)
    # under the axes: any corner inside may hold a trial
    history.legend(fontsize=FONT - 1, frameon=False, ncol=2, loc="upper center",
                   bbox_to_anchor=(0.5, -0.16))  # fmt: skip
    history.grid(alpha=0.3)
    return fig


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """Console entry point of ``escalation-calibrate``."""
    argv = sys.argv[1:] if argv is None else argv
    parser = parse_args(
        PROG,
        argv,
        "Fit the free parameters to an event record with Optuna and write the best as a "
        "scenario preset, scenario=calibrated_<name>.",
        replicates=30,
    )
    parser.add_argument("--name", required=True, help="study and preset name (a-z, 0-9, _)")
    parser.add_argument("--trials", type=int, default=40, help="trials in the study (default 40)")
    parser.add_argument("--storage", default=None, help="Optuna storage, e.g. sqlite:///study.db")
    parser.add_argument("--holdout-from", default=None, help="first date held out (YYYY-MM-DD)")
    parser.add_argument(
        "--parameters",
        type=Path,
        default=Path(config_dir()) / "calibration" / "default.yaml",
        help="free parameters and their ranges (default configs/calibration/default.yaml)",
    )
    args = parser.parse_args(argv)
    run_calibration(parser, args)


def run_calibration(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_positive(parser, "--replicates", args.replicates)
    check_positive(parser, "--trials", args.trials)
    check_overrides(PROG, args.overrides)
    if not NAME.fullmatch(args.name):
        fail(PROG, f"--name {args.name!r}: use lower-case letters, digits and _")
    try:
        free = load_parameters(args.parameters)
        holdout = parse_date("--holdout-from", args.holdout_from) if args.holdout_from else None
    except ConfigError as exc:
        fail(PROG, str(exc))
    record = load_or_fail(PROG, args.events)
    full = window_of(record)
    fit = full
    if holdout is not None:
        fit = Window(full.start, pd.Timestamp(holdout) - pd.Timedelta(days=1))
        if not full.start < pd.Timestamp(holdout) <= full.end:
            fail(PROG, f"--holdout-from {holdout}: must fall after {full.start.date()} and on "
                 f"or before {full.end.date()}")  # fmt: skip
    run = [f"replicates={args.replicates}", f"seed={args.seed}", "output.events=all"]
    base = compose_or_fail(PROG, [*args.overrides, *window_overrides(fit), *run])
    try:
        for p in free:
            with_values(base, {p.path: p.low})
            with_values(base, {p.path: p.high})
    except ConfigError as exc:
        fail(PROG, f"{args.parameters}: {exc}")
    check_memory_or_fail(PROG, base, "--replicates")
    out = args.out or Path("results/calibration") / args.name
    check_writable_or_fail(PROG, args.out or Path(config_dir()) / "scenario", "preset folder")
    storage = args.storage or f"sqlite:///{out / 'study.db'}"
    if storage.startswith("sqlite:///"):
        check_writable_or_fail(PROG, Path(storage.removeprefix("sqlite:///")).parent, "--storage")
    # locked against a second calibration; once the study is open, it is kept to be resumed
    with claim_or_fail(PROG, out, "--out") as claim:
        _calibrate(args, free, base, record, full, fit, holdout, claim, storage)


def _calibrate(args, free, base, record, full, fit, holdout, claim, storage) -> None:
    """Open (or resume) the study, run the trials still to run, and write the results."""
    out = claim.folder
    if storage.startswith("sqlite:///"):
        Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    fitted = fit.clip(record)
    observed = score(fitted, fit, base.ladder)
    identity = {
        "record_sha256": file_hash(args.events),
        "fit": [fit.start.date().isoformat(), fit.end.date().isoformat()],
        "parameters": [p.path for p in free],
        "overrides": list(args.overrides),
        "replicates": args.replicates,
        "seed": args.seed,
    }
    try:
        study = open_study(args.name, storage, args.seed, identity)
    except ConfigError as exc:
        fail(PROG, str(exc))
    claim.keep()

    def objective(trial) -> float:
        values = {p.path: trial.suggest_float(p.path, p.low, p.high, log=p.log) for p in free}
        ensemble = simulate(with_values(base, values), fit)
        value, terms = distance(compare(observed, ensemble))
        trial.set_user_attr("terms", terms)
        return value

    todo = args.trials - len(complete_trials(study))
    print(f"Study {args.name} ({storage}): {len(complete_trials(study))} trials done, "
          f"{max(todo, 0)} to run")  # fmt: skip
    started = dt.datetime.now()
    if todo > 0:
        try:
            with _quiet_stops():
                study.optimize(objective, n_trials=todo)
        except KeyboardInterrupt as stop:
            # Optuna has marked the running trial failed; the complete ones are stored
            kept = (f" with {len(complete_trials(study))} of {args.trials} trials complete in "
                    f"{storage}; run the same command again to resume")  # fmt: skip
            print(stop_message(PROG, stop, kept), file=sys.stderr)
            raise SystemExit(exit_status(stop)) from None
    finish(args, study, free, base, record, full, fit, holdout, out, started)


class _NoStopTraceback(logging.Filter):
    """Drop Optuna's report of a trial ended by Ctrl-C or SIGTERM (a traceback of 60 lines)
    and what it logs after it: the command says in one line that it stopped."""

    stopped = False

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, KeyboardInterrupt):
            self.stopped = True
        return not self.stopped


@contextlib.contextmanager
def _quiet_stops():
    logger = logging.getLogger("optuna")
    quiet = _NoStopTraceback()
    logger.addFilter(quiet)
    for handler in logger.handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
        for handler in logger.handlers:
            handler.removeFilter(quiet)


def describe_events(record: pd.DataFrame) -> list[str]:
    """One line per row of a record: date, actor, action, target, country, source."""
    return [
        f"{r.date.date().isoformat()} {r.actor} {r.action} {r.target} ({r.country}; {r.source})"
        for r in record.itertuples()
    ]


def finish(args, study, free, base, record, full, fit, holdout, out, started) -> None:
    """Write the preset, the fit figure and (with a held-out part) its validation."""
    best = study.best_trial
    values = {p.path: best.params[p.path] for p in free}
    meta = {
        "date": dt.date.today().isoformat(),
        "record": args.events.name,
        "record_sha256": file_hash(args.events),
        "fit_start": fit.start.date().isoformat(),
        "fit_end": fit.end.date().isoformat(),
        "fit_days": fit.days,
        "holdout_start": holdout.isoformat() if holdout else None,
        "holdout_end": full.end.date().isoformat() if holdout else None,
        "held_out_events": describe_events(record[record["date"] > fit.end]),
        "study": args.name,
        "trials": len(complete_trials(study)),
        "seed": args.seed,
        "replicates": args.replicates,
        "distance": best.value,
        "terms": best.user_attrs.get("terms", {}),
        "overrides": list(args.overrides),
        "parameters": values,
        "parameters_file": _shown(args.parameters),
        "minutes_this_session": round((dt.datetime.now() - started).total_seconds() / 60, 2),
    }
    preset_dir = args.out or Path(config_dir()) / "scenario"
    preset = preset_dir / f"calibrated_{args.name}.yaml"
    text = preset_text(args.name, values, meta)
    atomic_write(preset, lambda tmp: tmp.write_text(text))
    write_json(meta, out / "calibration.json")
    # the best parameters over the whole record, the held-out part included
    whole = with_values(compose_or_fail(PROG, [*args.overrides, *window_overrides(full),
                        f"replicates={args.replicates}", f"seed={args.seed}",
                        "output.events=all"]), values)  # fmt: skip
    rows, ensemble, observed_monthly = validate(record, full, whole)
    split = pd.Timestamp(holdout) if holdout else None
    fig = fit_figure(observed_monthly, ensemble.monthly, study,
                     f"calibrated_{args.name} against {args.events.name}", split)  # fmt: skip
    atomic_write(out / "calibration.png", lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
    print(f"Best distance {best.value:.3g} (trial {best.number}):")
    for p in free:
        print(f"  {p.path} = {values[p.path]:.4g}  (range {p.low:g} - {p.high:g})")
    print(f"Preset: {preset} (use scenario=calibrated_{args.name})")
    print(f"Figure: {out / 'calibration.png'}")
    if holdout is None:
        return
    held = Window(pd.Timestamp(holdout), full.end)
    config = with_values(
        compose_or_fail(PROG, [*args.overrides, *window_overrides(held),
                        f"replicates={args.replicates}", f"seed={args.seed}",
                        "output.events=all"]), values)  # fmt: skip
    held_record = held.clip(record)
    rows, ensemble, _ = validate(held_record, held, config)
    vmeta = metadata(args.events, held_record, held, config, args.overrides)
    vmeta["scenario"] = f"calibrated_{args.name}"
    write_json({"meta": vmeta, "statistics": rows}, out / "holdout_validation.json")
    held_out = meta["held_out_events"]
    text = markdown(rows, vmeta) + "\nThe held-out events, left out of the fit:\n\n"
    text += "".join(f"- {line}\n" for line in held_out)
    atomic_write(out / "holdout_validation.md", lambda tmp: tmp.write_text(text))
    print(f"Held-out part ({len(held_out)} events, not used in the fit):")
    for line in held_out:
        print(f"    {line}")
    print("\n".join(summary_lines(rows, vmeta, out / "holdout_validation.md")[1:]))


if __name__ == "__main__":
    main()
