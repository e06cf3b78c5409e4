"""The simulation loop: state + params + random streams, stepped one day at a time.

Both the Mesa model (R = 1) and batched runs (R >> 1) drive this class; it is the
only place that calls ``rules.step``.
"""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import rules
from sim.config import (
    BaseConfig,
    ConfigError,
    InputConfig,
    active_inputs,
    apply_inputs,
    input_period,
    parse_date,
    scaled_by_input,
)
from sim.daily import daily_columns, daily_stats, daily_values, quantile_frame
from sim.events import EventLog
from sim.outcomes import replicate_table
from sim.params import Params, compile_params
from sim.rng import RandomStreams
from sim.state import State, initial_state
from sim.stops import raise_pending_stop
from sim.theatre import Theatre


@functools.cache
def hold_freed_memory() -> bool:
    """Ask the C library's allocator to keep freed memory for reuse (glibc only; once).

    A day at 10,000 replicates makes hundreds of NumPy temporaries of 0.1-1 MB. By
    default glibc hands the top of its heap back to the system as soon as a few such
    arrays are freed, and the next day's arrays fault their pages in again, which cost
    more than the arithmetic on them. Here freed memory stays in the process (up to
    1 GB) and arrays up to 32 MB come from the heap: the peak is the same, the page
    faults go. Returns whether the allocator took the settings.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # <malloc.h>
    settings = ((m_trim_threshold, 1 << 30), (m_top_pad, 64 << 20), (m_mmap_threshold, 32 << 20))
    return all(libc.mallopt(option, value) == 1 for option, value in settings)


@dataclass
class RunResult:
    """What a run produces: per-event and per-day tables and per-replicate outcomes.

    ``events`` holds the events of the replicates ``output.events`` keeps; ``daily`` the
    daily series (one row per replicate and day) of every replicate in ``full`` mode and
    of the first ``output.event_sample`` replicates in ``quantiles`` mode, where
    ``daily_quantiles`` holds one row per day with quantiles across all replicates
    (None in ``full`` mode). ``replicates`` always covers every replicate.
    """

    config: BaseConfig
    params: Params
    events: pd.DataFrame
    daily: pd.DataFrame
    replicates: pd.DataFrame  # one row per replicate: its outcome and counts (sim.outcomes)
    daily_quantiles: pd.DataFrame | None = None

    @property
    def daily_table(self) -> pd.DataFrame:
        """What ``daily.parquet`` holds: the quantile table, or the full series."""
        return self.daily if self.daily_quantiles is None else self.daily_quantiles


def daily_mode(config: BaseConfig, replicates: int) -> str:
    """``full`` or ``quantiles``: ``output.daily`` with ``auto`` resolved for R replicates."""
    mode = config.output.daily
    if mode == "auto":
        return "full" if replicates == 1 else "quantiles"
    return mode


class Simulation:
    """R replicates of one configuration, stepped together.

    What is kept in memory follows ``config.output``: events of all replicates, of the
    first ``event_sample`` or of none (per-replicate counts are tallied for all of them
    anyway), and the daily series of every replicate or only quantiles across them
    (plus the full series of the first ``event_sample`` replicates).

    Args:
        config: a validated configuration.
        replicates: replicate numbers to run (default ``range(config.replicates)``);
            replicate k draws the same numbers whichever others run beside it.
        theatre: a prebuilt theatre (optional, to share one between runs).
        per_replicate: numeric parameters (by dotted path, e.g.
            ``doctrine.us.response_lag_days``) with one value per replicate, in the order
            of ``replicates``; the others keep the value of ``config``. A dated input on
            such a parameter gives every replicate its value while it holds, or scales
            each replicate's own.
        daily: whether to keep the daily series (a design, which reads only each
            replicate's outcome, does without them).
        runs: how many runs the replicates hold, as blocks of equal size in their order
            (the jobs of a sweep stepped together): each run keeps its own sample and
            quantiles, and :meth:`results` gives each what it would give alone.
    """

    def __init__(
        self,
        config: BaseConfig,
        replicates: np.ndarray | list[int] | range | None = None,
        theatre: Theatre | None = None,
        per_replicate: dict[str, np.ndarray] | None = None,
        daily: bool = True,
        runs: int = 1,
    ) -> None:
        hold_freed_memory()
        self.config = config
        ids = np.arange(config.replicates) if replicates is None else np.asarray(replicates)
        self.replicate_ids = ids.astype(np.int64).reshape(-1)
        R = len(self.replicate_ids)
        self.per_replicate = {
            path: _one_per_replicate(path, values, R)
            for path, values in (per_replicate or {}).items()
        }
        #: the dated inputs, and the days on which the set holding changes (day 0 first)
        self._inputs = input_days(config)
        self._turns = sorted(
            {0}
            | {
                d
                for first, last, _, _ in self._inputs.values()
                for d in (first, last)
                if d is not None
            }
        )
        self.params = compile_params(self._config_on(0), theatre, self._per_replicate_on(0), R)
        self.streams = RandomStreams(config.seed, self.replicate_ids)
        self.state: State = initial_state(self.params, R)
        out = config.output
        #: the rows (positions in ``replicate_ids``) of each run
        self.runs = _blocks(R, runs)
        #: rows of the sample: the first ``event_sample`` of each run
        self.sample_rows = np.concatenate(
            [np.arange(run.start, min(run.start + out.event_sample, run.stop)) for run in self.runs]
        )
        keep = None
        if out.events != "all":
            keep = np.zeros(R, dtype=bool)
            if out.events == "sample":
                keep[self.sample_rows] = True
        self.log = EventLog(R, keep, weapons=len(self.params.weapon_names))
        self.daily_mode = daily_mode(config, R // runs)
        # rows whose full daily series is kept (None: all)
        self._daily_rows = None if self.daily_mode == "full" else self.sample_rows
        self.day = 0
        # a day: its daily series (the replicates kept) and each run's statistics
        self._days: list[tuple[np.ndarray, list[np.ndarray]]] = []
        self._keep_daily = daily
        #: a wargame's teams and their decisions (:mod:`sim.played`); None: every actor
        #: follows its doctrine
        self.played = None

    @property
    def done(self) -> bool:
        return self.day >= self.config.days

    def step(self) -> None:
        """Advance all replicates one day."""
        raise_pending_stop()  # a Ctrl-C or SIGTERM that Python ignored where it landed
        if self.day > 0 and self.day in self._turns:
            # a dated input begins or ends: the rules take new values, the state carries on
            self.params = compile_params(
                self._config_on(self.day),
                self.params.theatre,
                self._per_replicate_on(self.day),
                self.state.replicates,
            )
        rules.step(self.state, self.params, self.streams, self.day, self.log, self.played)
        if self._keep_daily:
            self._days.append(_record_day(self.state, self.params, self._daily_rows, self.runs))
        self.day += 1

    @property
    def _daily(self) -> list[np.ndarray]:
        """(columns, rows kept) a day."""
        return [values for values, _ in self._days]

    @property
    def _daily_stats(self) -> list[list[np.ndarray]]:
        """A day: each run's statistics (none in ``full`` mode)."""
        return [stats for _, stats in self._days]

    def _holding(self, day: int) -> list[InputConfig]:
        """The inputs holding on ``day``, in the order they apply (their ``order``, then
        date and name)."""
        held = [
            (entry.order or 0, first, name, entry)
            for name, (first, last, entry, _) in self._inputs.items()
            if first <= day and (last is None or day < last)
        ]
        return [entry for *_, entry in sorted(held, key=lambda h: h[:3])]

    def _config_on(self, day: int) -> BaseConfig:
        """The configuration the rules read on ``day``: the inputs holding, applied to the
        configuration as given (an input that has ended leaves the value it found)."""
        return apply_inputs(self.config, self._holding(day))

    def _per_replicate_on(self, day: int) -> dict[str, np.ndarray]:
        """The per-replicate values on ``day``, as each replicate's run alone would have
        them: an input that sets a parameter gives every replicate its value (the
        parameter leaves the table); one that scales it scales each replicate's own value,
        up to the most the parameter allows, in the order the inputs apply."""
        values = dict(self.per_replicate)
        for entry in self._holding(day):
            if entry.path not in values:
                continue
            if entry.scale is None:
                del values[entry.path]
            else:
                values[entry.path] = scaled_by_input(self.config, entry, values[entry.path])
        return values

    def run(self, progress=None) -> RunResult:
        """Step to the horizon and return the results; ``progress(day)`` after each day."""
        while not self.done:
            self.step()
            if progress is not None:
                progress(self.day)
        return self.result()

    # --- results ---------------------------------------------------------------------

    def events_frame(self) -> pd.DataFrame:
        """Events so far (of the replicates kept), with replicate numbers and dates."""
        return self._events()[0]

    def _events(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The events frame, and the row of each event (its position in ``replicate_ids``)."""
        frame = self.log.to_frame(
            self.config.scenario.start_date,
            self.params.source_names,
            self.params.theatre.place_names,
            self.params.weapon_names,
            self.params.weapon_actions,
            self.params.claimant_names,
        )
        rows = frame["replicate"].to_numpy()
        frame["replicate"] = self.replicate_ids[rows]
        return frame, rows

    def daily_frame(self, kept: slice = slice(None)) -> pd.DataFrame:
        """Daily series so far, one row per (replicate, day) of the replicates kept (those at
        ``kept`` among them: one run's)."""
        daily = self._daily
        days = len(daily)
        rows = slice(None) if self._daily_rows is None else self._daily_rows
        ids = self.replicate_ids[rows][kept]
        columns = {
            name: np.stack([d[j, kept] for d in daily], axis=1).reshape(-1) if days else np.zeros(0)
            for j, name in enumerate(daily_columns(self.params.weapon_names))
        }
        frame = pd.DataFrame(
            {
                "replicate": np.repeat(ids, days),
                "day": np.tile(np.arange(days), len(ids)),
                **columns,
            }
        )
        frame.insert(
            2,
            "date",
            pd.Timestamp(self.config.scenario.start_date) + pd.to_timedelta(frame["day"], "D"),
        )
        attacks = [f"attacks_{w}" for w in self.params.weapon_names]
        for name in ("rung", "attacks", *attacks):
            frame[name] = frame[name].astype(np.int64)
        return frame

    def quantile_frame(self, run: int = 0) -> pd.DataFrame | None:
        """Quantiles across the replicates of a run (the first), one row per day (None in
        ``full`` mode)."""
        if self.daily_mode == "full":
            return None
        return quantile_frame(
            np.array([day[run] for day in self._daily_stats]),
            daily_columns(self.params.weapon_names),
            self.config.scenario.start_date,
        )

    def result(self) -> RunResult:
        """Package the run so far (several runs stepped together: :meth:`results`)."""
        if len(self.runs) > 1:
            raise ValueError(f"{len(self.runs)} runs stepped together: see results()")
        return next(self.results())

    def results(self) -> Iterator[RunResult]:
        """Package each run so far, as it would be alone: its replicate table, events, daily
        series and quantiles (the configuration and compiled parameters are the batch's).
        One run after another, so that only one run's daily series is held in a frame."""
        events, event_rows = self._events()
        kept = np.arange(len(self.replicate_ids)) if self._daily_rows is None else self._daily_rows
        table = replicate_table(
            self.state,
            self.log,
            self.replicate_ids,
            self.config.ladder,
            self.day,
            self.params.weapon_names,
        )
        for i, run in enumerate(self.runs):
            first_event, end_event = np.searchsorted(event_rows, (run.start, run.stop))
            first_kept, end_kept = np.searchsorted(kept, (run.start, run.stop))
            yield RunResult(
                config=self.config,
                params=self.params,
                events=_rows(events, first_event, end_event),
                daily=self.daily_frame(slice(first_kept, end_kept)),
                replicates=_rows(table, run.start, run.stop),
                daily_quantiles=self.quantile_frame(i),
            )


def _blocks(replicates: int, runs: int) -> list[slice]:
    """``runs`` consecutive blocks of equal size covering ``replicates`` rows."""
    if runs < 1 or replicates % runs:
        raise ValueError(f"{replicates} replicates cannot be split into {runs} equal runs")
    size = replicates // runs
    return [slice(i * size, (i + 1) * size) for i in range(runs)]


def _rows(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start`` to ``stop`` of ``frame``, numbered from 0 (the frame itself if all)."""
    if start == 0 and stop == len(frame):
        return frame
    return frame.iloc[start:stop].reset_index(drop=True)


def _one_per_replicate(path: str, values, replicates: int) -> np.ndarray:
    """``values`` as an (R,) array, or a one-line error naming the parameter."""
    array = np.asarray(values)
    if array.shape != (replicates,):
        raise ConfigError(
            f"{path}: {array.size} values for {replicates} replicates (one per replicate)"
        )
    return array


def _record_day(
    state: State, params: Params, rows: np.ndarray | None, runs: list[slice]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A day's daily series of the replicates kept (``rows``; None: all, and no
    statistics) and each run's statistics across its own replicates."""
    values = daily_values(state, params)
    if rows is None:
        return values, []
    kept = values[:, rows]
    # (the values are reordered in place: nothing else reads them)
    stats = [daily_stats(np.ascontiguousarray(values[:, run]), overwrite=True) for run in runs]
    return kept, stats


def input_days(config: BaseConfig) -> dict[str, tuple]:
    """Each input switched on that acts in the run, by name: (first day, day it ends or
    None, the input, its date). An input dated before the start holds from day 0; one that
    ends before the start, or begins after the last day, does not act and is left out."""
    start = parse_date("scenario.start_date", config.scenario.start_date)
    out = {}
    for name, entry in active_inputs(config).items():
        date, until = input_period(name, entry)
        first = (date - start).days
        last = None if until is None else (until - start).days + 1  # the day after until
        if first >= config.days or (last is not None and last <= 0):
            continue
        out[name] = (
            max(first, 0),
            last if last is None or last < config.days else None,
            entry,
            date,
        )
    return out


def run(config: BaseConfig, replicates=None, progress=None) -> RunResult:
    """Run ``config`` to its horizon (convenience wrapper around :class:`Simulation`)."""
    return Simulation(config, replicates).run(progress)
