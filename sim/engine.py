"""The simulation loop: state + params + random streams, stepped one day at a time.

Both the Mesa model (R = 1) and batched runs (R >> 1) drive this class; it is the
only place that calls ``core.step``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import core
from sim.config import BaseConfig
from sim.events import EventLog
from sim.metrics import replicate_table
from sim.params import Params, compile_params
from sim.rng import RandomStreams
from sim.state import State, initial_state
from sim.theatre import Theatre


@dataclass
class RunResult:
    """What a run produces: per-event and per-day tables and per-replicate outcomes."""

    config: BaseConfig
    params: Params
    events: pd.DataFrame
    daily: pd.DataFrame
    replicates: pd.DataFrame  # one row per replicate: outcome metrics (sim.metrics)


class Simulation:
    """R replicates of one configuration, stepped together.

    Args:
        config: a validated configuration.
        replicates: replicate numbers to run (default ``range(config.replicates)``);
            replicate k draws the same numbers whichever others run beside it.
        theatre: a prebuilt theatre (optional, to share one between runs).
    """

    def __init__(
        self,
        config: BaseConfig,
        replicates: np.ndarray | list[int] | None = None,
        theatre: Theatre | None = None,
    ) -> None:
        self.config = config
        self.params = compile_params(config, theatre)
        ids = np.arange(config.replicates) if replicates is None else np.asarray(replicates)
        self.replicate_ids = ids.astype(np.int64)
        self.streams = RandomStreams(config.seed, self.replicate_ids)
        self.state: State = initial_state(self.params, len(self.replicate_ids))
        self.log = EventLog()
        self.day = 0
        self._daily: list[dict[str, np.ndarray]] = []

    @property
    def done(self) -> bool:
        return self.day >= self.config.days

    def step(self) -> None:
        """Advance all replicates one day."""
        core.step(self.state, self.params, self.streams, self.day, self.log)
        self._daily.append(core.daily_record(self.state, self.params))
        self.day += 1

    def run(self, progress=None) -> RunResult:
        """Step to the horizon and return the results."""
        while not self.done:
            self.step()
            if progress is not None:
                progress(self.day)
        return self.result()

    # --- results ---------------------------------------------------------------------

    def events_frame(self) -> pd.DataFrame:
        """Events so far, with replicate numbers and dates."""
        frame = self.log.to_frame(
            self.config.scenario.start_date,
            self.params.source_names,
            self.params.theatre.place_names,
        )
        frame["replicate"] = self.replicate_ids[frame["replicate"].to_numpy()]
        return frame

    def daily_frame(self) -> pd.DataFrame:
        """Daily series so far, one row per (replicate, day)."""
        days = len(self._daily)
        R = len(self.replicate_ids)
        columns = {
            name: np.stack([d[name] for d in self._daily], axis=1).reshape(-1)
            if days
            else np.zeros(0)
            for name in core.DAILY_COLUMNS
        }
        frame = pd.DataFrame(
            {
                "replicate": np.repeat(self.replicate_ids, days),
                "day": np.tile(np.arange(days), R),
                **columns,
            }
        )
        frame.insert(
            2,
            "date",
            pd.Timestamp(self.config.scenario.start_date) + pd.to_timedelta(frame["day"], "D"),
        )
        for name in ("rung", "attacks", "attacks_rocket", "attacks_ied", "attacks_drone"):
            frame[name] = frame[name].astype(np.int64)
        return frame

    def result(self) -> RunResult:
        """Package the run so far."""
        return RunResult(
            config=self.config,
            params=self.params,
            events=self.events_frame(),
            daily=self.daily_frame(),
            replicates=replicate_table(self),
        )


def run(config: BaseConfig, replicates=None, progress=None) -> RunResult:
    """Run ``config`` to its horizon (convenience wrapper around :class:`Simulation`)."""
    return Simulation(config, replicates).run(progress)
