"""``escalation-validate --forecast``: forecast months the fit never saw, and score them.

The model is run from the forecast's first day (by default 1 July 2020) to its last (31
December 2021) with the dated inputs of that period, with parameters drawn from a
posterior fitted to data before the first day (``--posterior``) or, without one, the
configuration's own values. Three monthly series are forecast and scored against the
event record with proper scoring rules (:mod:`sim.scoring`): militia attacks, US strikes,
and months with a US death. Three baselines, fitted on the months before the forecast
(``--fit-from`` to the day before the first), face the same record: a Poisson rate, a
Hawkes process (:func:`sim.scorecard.fit_hawkes`, forecast by simulation) and persistence
(the last month's count). Every forecast is issued once, on the first day, for every
month: nothing observed after it is used.

The record lists fewer attacks than happened outside July-September 2020 (docs/data.md),
so the model's attacks are thinned month by month by the share of tallied attacks the
record lists (:func:`observation_share`) before they are compared; the unthinned model is
scored too. Strikes and US deaths are compared as listed. docs/validation.md says more.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import BaseConfig, ConfigError, active_inputs, compose, parse_date, validate
from sim.engine import Simulation
from sim.errors import COMPOSE_ERRORS, OneLineArgumentParser, fail, one_line
from sim.folders import claim_or_fail
from sim.io import atomic_write
from sim.plots.style import BLACK, BLUE, FONT, GREEN, ORANGE, VERMILLION, _new_figure
from sim.posterior import load_posterior, posterior_draws
from sim.record import (
    RecordError,
    coverage,
    event_counts,
    file_problem,
    load_counts,
    load_records,
    public_record,
    seeds_record,
)
from sim.scorecard import MIN_HAWKES_EVENTS, Window, attacks, events_to_record, fit_hawkes
from sim.scorecard import us_strikes as record_us_strikes
from sim.scoring import (
    binary,
    crps_pmf,
    empirical_pmf,
    log_score,
    poisson_pmf,
    quantiles,
    smoothed_binary,
    smoothed_pmf,
)
from sim.validate import check_memory_or_fail, check_overrides, file_hash

PROG = "escalation-validate"
DEFAULT_OUT = Path("results/forecast")
#: the forecast's first and last days, and the first day the baselines are fitted on
FORECAST_FROM = "2020-07-01"
FORECAST_TO = "2021-12-31"
FIT_FROM = "2019-10-01"
#: the scenario the forecast runs when no ``scenario=`` is given: summer 2020's preset run
#: on to the window's end, with biden2021's dated inputs of 2021 added to it (drones from
#: April 2021, the third and fourth rounds of the Strategic Dialogue) and, as in biden2021,
#: no drones shipped before their input
SCENARIO = "summer2020_convoys"
ADDED_FROM = "biden2021"
ADDED_INPUTS = ("drone_arrival", "dialogue_april_2021", "dialogue_july_2021")
SCENARIO_OVERRIDES = ("weapons.drone.supplied_per_day=0",)
#: sample paths of the Hawkes baseline
HAWKES_PATHS = 1000
#: the Hawkes baseline is fitted to at least this many events (three parameters); below
#: MIN_HAWKES_EVENTS (sim/scorecard.py) it is fitted all the same, and said to be poorly
#: identified
HAWKES_MIN_EVENTS = 3
#: persistence's Poisson mean after a month with no event (a mean of 0 would call any
#: event impossible and make the log score infinite)
PERSISTENCE_FLOOR = 0.5
#: the central bands drawn and checked
BANDS = ((0.25, 0.75), (0.05, 0.95))
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
#: whose tallies measure how complete the record's attack counts are (any attack, any target)
TALLY_KIND = {"actor": "militia", "action": "attack", "target": "any", "country": "iraq"}


class ForecastInputError(ValueError):
    """A forecast's input that cannot be used (one line: option, value, what is allowed)."""


@dataclass(frozen=True)
class Series:
    label: str
    binary: bool  # scored as 'any in the month' (0/1), not as a count
    thinned: bool  # the record lists only a share of these events


SERIES: dict[str, Series] = {
    "attacks": Series("militia attacks per month", binary=False, thinned=True),
    "us_strikes": Series("US strikes per month", binary=False, thinned=False),
    "death_months": Series("months with a US death", binary=True, thinned=False),
}


@dataclass
class Forecaster:
    """One forecaster's distribution of one series for each month."""

    name: str
    pmf: np.ndarray  # (months, K + 1): scored by CRPS, drawn as bands
    smooth: np.ndarray  # (months, K + 1): scored by the log score
    note: str = ""


@dataclass
class SeriesForecast:
    name: str
    observed: np.ndarray  # (months,)
    forecasters: list[Forecaster]
    skipped: dict[str, str] = field(default_factory=dict)  # forecaster -> why not


# --- counting -------------------------------------------------------------------------------


def selected(record: pd.DataFrame, series: str) -> pd.DataFrame:
    """The record's rows a series counts."""
    if series == "attacks":
        return attacks(record)
    if series == "us_strikes":
        return record_us_strikes(record)
    if series == "death_months":
        found = attacks(record)
        return found[found["killed_us"].fillna(0).to_numpy() > 0]
    raise KeyError(series)


def monthly_counts(record: pd.DataFrame, months: pd.PeriodIndex, series: str) -> np.ndarray:
    """The series' events in each month of ``months``."""
    found = selected(record, series)
    counts = found["date"].dt.to_period("M").value_counts()
    return counts.reindex(months, fill_value=0).to_numpy(dtype=np.int64)


def replicate_counts(
    record: pd.DataFrame, replicates: np.ndarray, months: pd.PeriodIndex, series: str
) -> np.ndarray:
    """(replicates, months) counts of a simulated record with a ``replicate`` column."""
    found = selected(record, series)
    out = np.zeros((len(replicates), len(months)), dtype=np.int64)
    if len(found):
        row = pd.Index(replicates).get_indexer(found["replicate"].to_numpy())
        col = months.get_indexer(found["date"].dt.to_period("M"))
        keep = (row >= 0) & (col >= 0)
        np.add.at(out, (row[keep], col[keep]), 1)
    return out


def daily_counts(record: pd.DataFrame, window: Window, series: str) -> np.ndarray:
    """The series' events on each day of ``window``."""
    days = (window.clip(selected(record, series))["date"] - window.start).dt.days.to_numpy()
    return np.bincount(days.astype(np.int64), minlength=window.days)[: window.days]


def observation_share(
    record: pd.DataFrame, tallies: pd.DataFrame, months: pd.PeriodIndex
) -> tuple[np.ndarray, list[str]]:
    """For each month, the share of the attacks tallied that the record lists.

    The tallies of any militia attack on any target in Iraq (:data:`TALLY_KIND`) whose
    days overlap the month are set against the record (:func:`sim.record.coverage`); the
    month's share is the lowest of their shares, capped at 1 (a tally that counts fewer
    than the record lists, a narrower count, says the record is complete there). A month
    no such tally covers is taken as complete (share 1), so there the thinned forecast is
    an upper bound of what the record should list. Returns the shares and, per month, the
    tallies it rests on.
    """
    kind = np.ones(len(tallies), dtype=bool)
    for column, value in TALLY_KIND.items():
        kind &= tallies[column].astype(str).to_numpy() == value
    table = coverage(record, tallies[kind].reset_index(drop=True))
    shares, notes = np.ones(len(months)), []
    for i, month in enumerate(months):
        first, last = month.start_time, month.end_time.normalize()
        over = table[(table["start"] <= last) & (table["end"] >= first) & table["share"].notna()]
        if len(over):
            low = over.loc[over["share"].idxmin()]
            shares[i] = min(1.0, float(low["share"]))
            notes.append(
                f"{low['start'].date()} to {low['end'].date()}: {low['listed']} listed "
                f"of {low['tallied']} tallied"
            )
        else:
            notes.append("no tally: taken as complete")
    return shares, notes


# --- the forecasters ------------------------------------------------------------------------


def support(*arrays: np.ndarray, means: np.ndarray | None = None) -> int:
    """Counts 0..K (returns K + 1) wide enough for every count given and, for Poisson
    means, their tails (mean + 10 sd + 10: beyond it a Poisson has no mass to speak of)."""
    top = max(int(np.max(a)) if np.size(a) else 0 for a in arrays)
    if means is not None and np.size(means):
        peak = float(np.max(means))
        top = max(top, int(math.ceil(peak + 10 * math.sqrt(peak) + 10)))
    return top + 1


def ensemble_forecaster(name: str, samples: np.ndarray, size: int, note: str = "") -> Forecaster:
    return Forecaster(name, empirical_pmf(samples, size), smoothed_pmf(samples, size), note)


def poisson_forecaster(name: str, means: np.ndarray, size: int, note: str = "") -> Forecaster:
    pmf = poisson_pmf(means, size)
    return Forecaster(name, pmf, pmf, note)


def month_days(months: pd.PeriodIndex) -> np.ndarray:
    return months.days_in_month.to_numpy(dtype=np.float64)


def simulate_hawkes(
    history: np.ndarray, days: int, paths: int, seed: int
) -> tuple[np.ndarray, Any]:
    """Paths (paths, days) of the Hawkes process fitted to daily ``history``, continuing
    from the excitation its last days leave (the same discrete-time model as the fit)."""
    fitted = fit_hawkes(history)
    d, n, mu = fitted.decay, fitted.branching, fitted.baseline
    excitation = 0.0
    for count in history:  # S_t = d S_(t-1) + (1 - d) N_(t-1)
        excitation = d * excitation + (1 - d) * float(count)
    rng = np.random.default_rng(seed)
    s = np.full(paths, excitation)
    out = np.empty((paths, days), dtype=np.int64)
    for t in range(days):
        out[:, t] = rng.poisson(mu + n * s)
        s = d * s + (1 - d) * out[:, t]
    return out, fitted


def to_months(daily: np.ndarray, start: pd.Timestamp, months: pd.PeriodIndex) -> np.ndarray:
    """Sum daily paths (paths, days) from ``start`` into the calendar months given."""
    dates = pd.date_range(start, periods=daily.shape[1], freq="D").to_period("M")
    col = months.get_indexer(dates)
    out = np.zeros((daily.shape[0], len(months)), dtype=np.int64)
    for j in range(len(months)):
        out[:, j] = daily[:, col == j].sum(axis=1)
    return out


def baselines(
    history: np.ndarray,
    last_month: int,
    months: pd.PeriodIndex,
    start: pd.Timestamp,
    size_hint: np.ndarray,
    seed: int,
) -> tuple[list[Forecaster], dict[str, str], dict[str, Any]]:
    """The Poisson, Hawkes and persistence forecasts of one series from its daily counts
    in the fitting window (``history``) and its last month's count.

    Returns the forecasters (with a support wide enough for ``size_hint``), the baselines
    not fitted and why, and the fitted values.
    """
    rate = float(history.mean())
    poisson_means = rate * month_days(months)
    persistence = np.full(len(months), max(float(last_month), PERSISTENCE_FLOOR))
    fitted: dict[str, Any] = {"poisson_rate_per_day": rate, "last_month": int(last_month)}
    skipped: dict[str, str] = {}
    hawkes_months = None
    if history.sum() >= HAWKES_MIN_EVENTS:
        days = int((months[-1].end_time.normalize() - start).days) + 1
        paths, fit = simulate_hawkes(history, days, HAWKES_PATHS, seed)
        hawkes_months = to_months(paths, start, months)
        fitted["hawkes"] = {
            "baseline": fit.baseline,
            "branching": fit.branching,
            "decay": fit.decay,
        }
    else:
        skipped["hawkes"] = (
            f"not fitted: {int(history.sum())} events in the fitting window, "
            f"fewer than {HAWKES_MIN_EVENTS}"
        )
    arrays = [size_hint] + ([hawkes_months] if hawkes_months is not None else [])
    size = support(*arrays, means=np.concatenate([poisson_means, persistence]))
    out = [
        poisson_forecaster("poisson", poisson_means, size, f"{rate * 30.44:.2f} a month"),
    ]
    if hawkes_months is not None:
        h = fitted["hawkes"]
        events = int(history.sum())
        weak = (
            f"; {events} events, fewer than {MIN_HAWKES_EVENTS}: poorly identified"
            if events < MIN_HAWKES_EVENTS
            else ""
        )
        note = f"n = {h['branching']:.2f}, mu = {h['baseline'] * 30.44:.2f} a month{weak}"
        out.append(ensemble_forecaster("hawkes", hawkes_months, size, note))
    out.append(
        poisson_forecaster("persistence", persistence, size, f"last month {int(last_month)}")
    )
    return out, skipped, fitted


def score_series(forecast: SeriesForecast, binary_series: bool) -> list[dict[str, Any]]:
    """Per month and forecaster: observed, quantiles, CRPS and log score."""
    rows = []
    y = forecast.observed
    if binary_series:
        y = (y > 0).astype(np.int64)
    for f in forecast.forecasters:
        pmf, smooth = (binary(f.pmf), f.smooth) if binary_series else (f.pmf, f.smooth)
        crps = crps_pmf(pmf, y)
        logs = log_score(smooth, y)
        q = quantiles(pmf, LEVELS)
        for t in range(len(y)):
            rows.append(
                {
                    "series": forecast.name,
                    "forecaster": f.name,
                    "month_index": t,
                    "observed": int(y[t]),
                    "p_any": float(pmf[t, 1:].sum()),
                    "mean": float((pmf[t] * np.arange(pmf.shape[1])).sum()),
                    **{
                        f"q{int(round(level * 100)):02d}": int(q[i, t])
                        for i, level in enumerate(LEVELS)
                    },
                    "crps": float(crps[t]),
                    "log_score": float(logs[t]),
                }
            )
    return rows


def summarise(rows: pd.DataFrame, notes: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Mean scores and band coverage per series and forecaster (best first within a series)."""
    out = []
    for (series, name), group in rows.groupby(["series", "forecaster"], sort=False):
        y = group["observed"].to_numpy()
        out.append(
            {
                "series": series,
                "forecaster": name,
                "months": len(group),
                "observed_total": int(y.sum()),
                "predicted_total": float(group["mean"].sum()),
                "crps": float(group["crps"].mean()),
                "log_score": float(group["log_score"].mean()),
                "inside_50": float(((group["q25"] <= y) & (y <= group["q75"])).mean()),
                "inside_90": float(((group["q05"] <= y) & (y <= group["q95"])).mean()),
                "note": notes.get((series, name), ""),
            }
        )
    table = pd.DataFrame(out)
    order = {s: i for i, s in enumerate(SERIES)}
    table["_s"] = table["series"].map(order)
    table = table.sort_values(["_s", "crps"], kind="stable").drop(columns="_s")
    return table.reset_index(drop=True)


# --- inputs -------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Everything a forecast needs, checked before any folder is made."""

    record: pd.DataFrame
    record_files: list[Path]
    tallies: pd.DataFrame
    tallies_file: Path
    fit: Window
    window: Window
    config: BaseConfig
    per_replicate: dict[str, np.ndarray] | None
    parameters_note: str
    overrides: list[str]
    notes: list[str]


def first_of_month(flag: str, value: str) -> pd.Timestamp:
    try:
        day = parse_date(flag, value)
    except ConfigError as exc:
        raise ForecastInputError(str(exc)) from None
    if day.day != 1:
        raise ForecastInputError(f"{flag} = {value}: must be the first day of a month")
    return pd.Timestamp(day)


def last_of_month(flag: str, value: str) -> pd.Timestamp:
    try:
        day = parse_date(flag, value)
    except ConfigError as exc:
        raise ForecastInputError(str(exc)) from None
    stamp = pd.Timestamp(day)
    if stamp != stamp.to_period("M").end_time.normalize():
        raise ForecastInputError(f"{flag} = {value}: must be the last day of a month")
    return stamp


def windows(record: pd.DataFrame, fit_from: str, start: str, end: str) -> tuple[Window, Window]:
    """The fitting window (``fit_from`` to the day before ``start``) and the forecast's,
    or ForecastInputError when either falls outside the record."""
    fit_start = first_of_month("--fit-from", fit_from)
    first = first_of_month("--from", start)
    last = last_of_month("--to", end)
    begin, finish = record["date"].min(), record["date"].max()
    if last < first:
        raise ForecastInputError(f"--to = {end}: before --from = {start}")
    if first <= fit_start:
        raise ForecastInputError(f"--fit-from = {fit_from}: must be before --from = {start}")
    if fit_start < begin:
        raise ForecastInputError(
            f"--fit-from = {fit_from}: before the record's first event ({begin.date()}); "
            "months before a record are not known to be calm"
        )
    if first > finish:
        raise ForecastInputError(
            f"--from = {start}: after the record's last event ({finish.date()}); nothing to score"
        )
    fit = Window(fit_start, first - pd.Timedelta(days=1))
    return fit, Window(first, last)


def posterior_parameters(
    folder: Path, replicates: int, seed: int, start: pd.Timestamp
) -> tuple[dict[str, np.ndarray], str]:
    """Draws from the posterior in ``folder``, one per replicate (``sim.posterior``), or
    ForecastInputError in one line."""
    if not folder.exists():
        raise ForecastInputError(f"--posterior {folder}: no such folder")
    if not folder.is_dir():
        raise ForecastInputError(f"--posterior {folder}: is a file, not a posterior's folder")
    try:
        frame = load_posterior(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ForecastInputError(f"--posterior {folder}: {one_line(exc)}") from None
    fitted_to = frame.attrs.get("fitted_to") if hasattr(frame, "attrs") else None
    if fitted_to is not None and pd.Timestamp(fitted_to) >= start:
        raise ForecastInputError(
            f"--posterior {folder}: fitted on data to {pd.Timestamp(fitted_to).date()}, "
            f"not before the forecast's first day {start.date()}"
        )
    try:
        draws = posterior_draws(frame, replicates, seed)
    except (ValueError, KeyError, TypeError) as exc:
        raise ForecastInputError(f"--posterior {folder}: {one_line(exc)}") from None
    paths = ", ".join(sorted(draws))
    return {k: np.asarray(v) for k, v in draws.items()}, (
        f"{replicates} draws from the posterior in {folder.name} ({paths})"
    )


def forecast_config(overrides: list[str], window: Window, replicates: int, seed: int):
    """The configuration run over the forecast window, and notes on how it was composed.

    Without a ``scenario=`` override it is :data:`SCENARIO` with :data:`ADDED_INPUTS` of
    :data:`ADDED_FROM` (and :data:`SCENARIO_OVERRIDES`); with one, that scenario as it is.
    """
    own = any(o.split("=", 1)[0].lstrip("+~") == "scenario" for o in overrides)
    run = [
        f"scenario.start_date={window.start.date().isoformat()}",
        f"days={window.days}",
        f"replicates={replicates}",
        f"seed={seed}",
        "output.events=all",
    ]
    base = [] if own else [f"scenario={SCENARIO}", *SCENARIO_OVERRIDES]
    config = compose(*base, *overrides, *run)
    notes = []
    if not own and config.inputs != "off":
        added = compose(f"scenario={ADDED_FROM}").inputs
        for name in ADDED_INPUTS:
            if f"inputs.{name}=off" in overrides:
                continue
            config.inputs[name] = added[name]
        validate(config)
        notes.append(
            f"scenario {SCENARIO} run to {window.end.date()}, with {ADDED_FROM}'s inputs "
            f"{', '.join(ADDED_INPUTS)} and {' '.join(SCENARIO_OVERRIDES)}"
        )
    for name, entry in active_inputs(config).items():
        change = f"= {entry.value:g}" if entry.scale is None else f"x {entry.scale:g}"
        notes.append(
            f"input {name}: {entry.path} {change} from {entry.date}"
            + (f" to {entry.until}" if entry.until else "")
        )
    return config, notes


def plan(args) -> Plan:
    """Check every input (files, windows, configuration, posterior), or ForecastInputError."""
    files = args.events or [seeds_record(), public_record()]
    tallies_file = args.counts or event_counts()
    problems = [file_problem("--events", path) for path in files]
    problems.append(file_problem("--counts", tallies_file, "a file of tallies"))
    for problem in filter(None, problems):
        raise ForecastInputError(problem)
    try:
        record = load_records(*files)
        tallies = load_counts(tallies_file)
    except RecordError as exc:
        raise ForecastInputError(str(exc)) from None
    fit, window = windows(record, args.fit_from, args.start, args.end)
    try:
        config, notes = forecast_config(args.overrides, window, args.replicates, args.seed)
    except ConfigError as exc:
        raise ForecastInputError(str(exc)) from None
    except COMPOSE_ERRORS as exc:
        raise ForecastInputError(one_line(exc)) from None
    per_replicate, parameters = None, "the configuration's own values (no --posterior given)"
    if args.posterior is not None:
        per_replicate, parameters = posterior_parameters(
            args.posterior, args.replicates, args.seed, window.start
        )
        try:  # a bad path or value is refused here, before any folder is made
            Simulation(config, per_replicate=per_replicate, daily=False)
        except ConfigError as exc:
            raise ForecastInputError(f"--posterior {args.posterior}: {exc}") from None
    last = record["date"].max()
    if last < window.end:
        notes.append(
            f"the record's last event is {last.date()}: the months after it count as "
            "months without events"
        )
    return Plan(
        record,
        list(files),
        tallies,
        Path(tallies_file),
        fit,
        window,
        config,
        per_replicate,
        parameters,
        list(args.overrides),
        notes,
    )


# --- the forecast -------------------------------------------------------------------------------


@dataclass
class Result:
    months: pd.PeriodIndex
    share: np.ndarray
    share_notes: list[str]
    series: dict[str, SeriesForecast]
    rows: pd.DataFrame  # per month
    table: pd.DataFrame  # per series and forecaster
    fitted: dict[str, Any]
    seconds: float


def forecast(p: Plan, seed: int) -> Result:
    """Run the model over the window and score it and the baselines on every series."""
    import time

    started = time.perf_counter()
    months = pd.period_range(p.window.start, p.window.end, freq="M")
    result = Simulation(p.config, per_replicate=p.per_replicate, daily=False).run()
    simulated = events_to_record(result.events, p.config.theatre)
    replicates = result.replicates["replicate"].to_numpy()
    share, share_notes = observation_share(p.record, p.tallies, months)
    rng = np.random.default_rng([seed, 1])  # the thinning's own stream
    series_out, rows, notes, fitted = {}, [], {}, {}
    for k, (name, s) in enumerate(SERIES.items()):
        observed = monthly_counts(p.record, months, name)
        model = replicate_counts(simulated, replicates, months, name)
        members = {"model": model}
        if s.thinned:
            members = {"model (thinned)": rng.binomial(model, share[None, :]), "model": model}
        history = daily_counts(p.record, p.fit, name)
        last = monthly_counts(p.record, pd.period_range(p.fit.end, p.fit.end, freq="M"), name)[0]
        hint = np.concatenate([observed, *[m.reshape(-1) for m in members.values()]])
        base, skipped, fit = baselines(history, last, months, p.window.start, hint, seed + k)
        fitted[name] = fit
        size = base[0].pmf.shape[1]
        forecasters = []
        for label, samples in members.items():
            f = ensemble_forecaster(label, samples, size)
            if s.binary:
                f.smooth = smoothed_binary(samples)
            forecasters.append(f)
        for f in base:
            if s.binary:
                f.smooth = binary(f.pmf)
            forecasters.append(f)
        for f in forecasters:
            notes[(name, f.name)] = f.note
        if s.thinned:
            notes[(name, "model (thinned)")] = "each simulated attack listed with the month's share"
            notes[(name, "model")] = "every simulated attack (no thinning)"
        for b, why in skipped.items():
            notes[(name, b)] = why
        forecast_ = SeriesForecast(name, observed, forecasters, skipped)
        series_out[name] = forecast_
        rows += score_series(forecast_, s.binary)
    frame = pd.DataFrame(rows)
    frame.insert(1, "month", [str(months[i]) for i in frame["month_index"]])
    frame = frame.drop(columns="month_index")
    table = summarise(frame, notes)
    for name, why in ((n, w) for n, sf in series_out.items() for w in sf.skipped.items()):
        table = pd.concat(
            [table, pd.DataFrame([{"series": name, "forecaster": why[0], "note": why[1]}])],
            ignore_index=True,
        )
    return Result(
        months, share, share_notes, series_out, frame, table, fitted, time.perf_counter() - started
    )


# --- outputs --------------------------------------------------------------------------------


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value))):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def markdown(result: Result, meta: dict[str, Any]) -> str:
    lines = [
        f"# Forecast {meta['start']} to {meta['end']}",
        "",
        f"Record: {', '.join(meta['records'])} ({meta['record_events']} events); tallies "
        f"{meta['tallies']}. Baselines fitted on {meta['fit_start']} to {meta['fit_end']}. "
        f"Ensemble: {meta['replicates']} replicates, seed {meta['seed']}; parameters: "
        f"{meta['parameters']}.",
        "",
        "Scores are means over the months (lower is better): CRPS, exact for the ensemble's "
        "empirical distribution; log score in nats, of the smoothed ensemble (one pseudo-member "
        "over a negative binomial of its mean and variance; for months with a US death, "
        "Jeffreys' half member each way) and of the exact Poisson baselines. inside 50% / 90%: "
        "share of months whose observed value lies in the central band.",
        "",
        "| series | forecaster | CRPS | log score | inside 50% | inside 90% | observed | "
        "predicted | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result.table.to_dict("records"):
        lines.append(
            f"| {SERIES[row['series']].label} | {row['forecaster']} | {_num(row.get('crps'))} | "
            f"{_num(row.get('log_score'))} | {_num(row.get('inside_50'), 2)} | "
            f"{_num(row.get('inside_90'), 2)} | {_num(row.get('observed_total'))} | "
            f"{_num(row.get('predicted_total'))} | {row.get('note') or ''} |"
        )
    lines += [
        "",
        "## How observed attacks are compared",
        "",
        "The record lists only a share of the attacks that happened outside July-September "
        "2020. Each simulated attack is kept with the month's share of tallied attacks the "
        "record lists (the lowest share of the tallies of any attack overlapping the month, "
        "capped at 1; a month with no tally is taken as complete): `model (thinned)`. The "
        "unthinned `model` is scored too. The baselines are fitted to the record as listed, "
        "so they forecast listed counts at the fitting window's own completeness. US strikes "
        "and US deaths are compared as listed.",
        "",
        "| month | share listed | from |",
        "| --- | --- | --- |",
    ]
    for month, share, note in zip(result.months, result.share, result.share_notes, strict=True):
        lines.append(f"| {month} | {share:.2f} | {note} |")
    lines += ["", "## Inputs and notes", ""] + [f"- {n}" for n in meta["notes"]]
    if meta.get("overrides"):
        lines += [f"- overrides: `{' '.join(meta['overrides'])}`"]
    return "\n".join(lines) + "\n"


STYLE = {
    "model (thinned)": (BLUE, "-"),
    "model": (BLUE, "-"),
    "poisson": (ORANGE, "--"),
    "hawkes": (GREEN, "-."),
    "persistence": (VERMILLION, ":"),
}


def figure(result: Result, title: str):
    """Observed against the model's 50% and 90% bands and the baselines' medians, month by
    month; months with a US death as the probability each forecaster gives."""
    fig = _new_figure((11.0, 10.0))
    axes = fig.subplots(3, 1, sharex=True)
    starts = result.months.to_timestamp()
    edges = starts.append(pd.DatetimeIndex([(result.months[-1] + 1).to_timestamp()]))
    middle = starts + (edges[1:] - starts) / 2
    for ax, (name, s) in zip(axes, SERIES.items(), strict=True):
        sf = result.series[name]
        main = "model (thinned)" if s.thinned else "model"
        rows = result.rows[result.rows["series"] == name]
        if s.binary:
            for f in sf.forecasters:
                p = rows[rows["forecaster"] == f.name]["p_any"].to_numpy()
                colour, ls = STYLE[f.name]
                ax.step(
                    edges,
                    np.append(p, p[-1]),
                    where="post",
                    color=colour,
                    ls=ls,
                    lw=1.5,
                    label=f.name,
                )
            y = (sf.observed > 0).astype(float)
            ax.plot(middle, y, "o", color=BLACK, ms=5, label="observed (1: a US death)")
            ax.set_ylim(-0.05, 1.4)  # room for the legend above the months
            ax.set_yticks(np.linspace(0.0, 1.0, 6))
            ax.set_ylabel("P(a US death in the month)", fontsize=FONT)
        else:
            m = rows[rows["forecaster"] == main]
            q = {
                c: np.append(m[c].to_numpy(), m[c].to_numpy()[-1])
                for c in ("q05", "q25", "q50", "q75", "q95")
            }
            ax.fill_between(
                edges, q["q05"], q["q95"], step="post", color=BLUE, alpha=0.18, label=f"{main} 90%"
            )
            ax.fill_between(
                edges, q["q25"], q["q75"], step="post", color=BLUE, alpha=0.35, label=f"{main} 50%"
            )
            ax.step(edges, q["q50"], where="post", color=BLUE, lw=1.5, label=f"{main} median")
            for f in sf.forecasters:
                if f.name.startswith("model"):
                    continue
                med = rows[rows["forecaster"] == f.name]["q50"].to_numpy()
                colour, ls = STYLE[f.name]
                ax.step(
                    edges,
                    np.append(med, med[-1]),
                    where="post",
                    color=colour,
                    ls=ls,
                    lw=1.5,
                    label=f"{f.name} median",
                )
            ax.plot(middle, sf.observed, "o", color=BLACK, ms=5, label="observed (listed)")
            top = max(float(q["q95"].max()), float(sf.observed.max()), 1.0)
            ax.set_ylim(0, top * 1.4)  # room for the legend above the months
            ax.set_ylabel(s.label, fontsize=FONT)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=FONT - 2, loc="upper right", frameon=False, ncol=3)
    axes[0].set_title(title, fontsize=FONT + 1)
    for label in axes[-1].get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    return fig


def write_outputs(out: Path, result: Result, meta: dict[str, Any]) -> None:
    """forecast.md, forecast_scores.csv, forecast_months.csv, forecast.json, forecast.png."""
    text = markdown(result, meta)
    scores = result.table.to_csv(index=False)
    months = result.rows.to_csv(index=False)
    data = (
        json.dumps(
            {
                "meta": meta,
                "scores": result.table.to_dict("records"),
                "observation_share": dict(
                    zip(map(str, result.months), result.share.tolist(), strict=True)
                ),
                "fitted": result.fitted,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    png = io.BytesIO()
    figure(result, meta["title"]).savefig(png, dpi=150, format="png")
    atomic_write(out / "forecast.md", lambda tmp: tmp.write_text(text))
    atomic_write(out / "forecast_scores.csv", lambda tmp: tmp.write_text(scores))
    atomic_write(out / "forecast_months.csv", lambda tmp: tmp.write_text(months))
    atomic_write(out / "forecast.json", lambda tmp: tmp.write_text(data))
    atomic_write(out / "forecast.png", lambda tmp: tmp.write_bytes(png.getvalue()))


def metadata(p: Plan, result: Result, args) -> dict[str, Any]:
    return {
        "start": p.window.start.date().isoformat(),
        "end": p.window.end.date().isoformat(),
        "fit_start": p.fit.start.date().isoformat(),
        "fit_end": p.fit.end.date().isoformat(),
        "records": [f.name for f in p.record_files],
        "records_sha256": [file_hash(f) for f in p.record_files],
        "record_events": len(p.record),
        "tallies": p.tallies_file.name,
        "scenario": p.config.scenario.name,
        "overrides": p.overrides,
        "replicates": p.config.replicates,
        "seed": p.config.seed,
        "parameters": p.parameters_note,
        "notes": p.notes,
        "seconds": round(result.seconds, 1),
        "title": f"Forecast from {p.window.start.date()} ({p.config.scenario.name}, "
        f"{p.config.replicates} replicates) against the record",
    }


def summary(result: Result, meta: dict[str, Any], out: Path) -> list[str]:
    lines = [
        f"Forecast: {out}",
        f"  {meta['start']} to {meta['end']}, baselines fitted on {meta['fit_start']} to "
        f"{meta['fit_end']}; {meta['replicates']} replicates, seed {meta['seed']}",
        f"  Parameters: {meta['parameters']}",
    ]
    for name, s in SERIES.items():
        table = result.table[(result.table["series"] == name) & result.table["crps"].notna()]
        ranked = ", ".join(
            f"{r.forecaster} {r.crps:.3g}/{r.log_score:.3g}" for r in table.itertuples()
        )
        lines.append(f"  {s.label} (CRPS/log score, best first): {ranked}")
    return lines


def parser() -> OneLineArgumentParser:
    p = OneLineArgumentParser(
        prog=PROG,
        description="Forecast monthly attacks, US strikes and months with a US death from "
        "the forecast's first day and score them, and three baselines, against the record.",
    )
    p.add_argument("--forecast", action="store_true", help="this mode (required)")
    p.add_argument(
        "--events",
        type=Path,
        action="append",
        default=None,
        help="event record (repeat for several; default: the seeds' and the "
        "public reports' records)",
    )
    p.add_argument(
        "--counts", type=Path, default=None, help="tallies (default: data/event_counts.csv)"
    )
    p.add_argument(
        "--posterior",
        type=Path,
        default=None,
        help="posterior folder (default: the configuration's own values)",
    )
    p.add_argument("--replicates", type=int, default=100, help="ensemble size (default 100)")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="output folder")
    p.add_argument(
        "--from",
        dest="start",
        default=FORECAST_FROM,
        help=f"forecast's first day, a month's first (default {FORECAST_FROM})",
    )
    p.add_argument(
        "--to",
        dest="end",
        default=FORECAST_TO,
        help=f"forecast's last day, a month's last (default {FORECAST_TO})",
    )
    p.add_argument(
        "--fit-from",
        dest="fit_from",
        default=FIT_FROM,
        help=f"first day the baselines are fitted on (default {FIT_FROM})",
    )
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="Hydra overrides")
    return p


def main(argv: list[str]) -> None:
    """``escalation-validate --forecast ...`` (called by :func:`sim.validate.main`)."""
    args = parser().parse_args(argv)
    if args.replicates < 1:
        fail(PROG, f"--replicates = {args.replicates}: must be a whole number >= 1")
    check_overrides(PROG, args.overrides)
    try:
        p = plan(args)
    except ForecastInputError as exc:
        fail(PROG, str(exc))
    check_memory_or_fail(PROG, p.config, "--replicates")
    stamp = dt.datetime.now().strftime("%Y-%m-%d/%H-%M-%S")
    with claim_or_fail(PROG, args.out or DEFAULT_OUT / stamp, "--out", unique=not args.out) as c:
        result = forecast(p, args.seed)
        meta = metadata(p, result, args)
        write_outputs(c.folder, result, meta)
        c.keep()
    print("\n".join(summary(result, meta, c.folder)))
    sys.stdout.flush()
