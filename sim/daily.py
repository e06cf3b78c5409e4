"""The daily series: what every replicate looks like at the end of a day (the columns of
``daily.parquet``), and their quantiles across replicates. Observations only: nothing here
changes the state."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.events import Actor
from sim.numerics.quantiles import quantiles as exact_quantiles
from sim.numerics.reductions import count_last, sum_last, sum_last_where
from sim.params import Params
from sim.state import State

#: the daily escalation score of each actor (``Actor``, in its order), in the daily series
SCORE_COLUMNS = tuple(f"score_{actor.name.lower()}" for actor in Actor)


def daily_columns(weapons: Sequence[str]) -> tuple[str, ...]:
    """The columns of ``daily.parquet`` for a run with these weapons (``params.weapon_names``):
    ``attacks_<weapon>`` and ``militia_stock_<weapon>`` for each weapon among the rest, and
    the escalation score of the day of each actor (``score_<actor>``) with the total so far."""
    return _daily_columns(tuple(weapons))


@functools.cache
def _daily_columns(weapons: tuple[str, ...]) -> tuple[str, ...]:
    return (
        *(f"attacks_{w}" for w in weapons),
        "attacks",
        "responses",
        "killed_us",
        "wounded_us",
        "killed_iraqi",
        "wounded_iraqi",
        "rung",
        "tension",
        "militia_fighters",
        "militia_capacity",
        *(f"militia_stock_{w}" for w in weapons),
        "perceived_risk",
        "grievance",
        "obedience",
        "outrage",
        "iran_affront",
        "iran_green_light",
        "us_troops",
        "us_resolve",
        "sites_open",
        "sovereignty_pressure",
        *SCORE_COLUMNS,
        "score_total_cumulative",
    )


def daily_values(state: State, params: Params) -> np.ndarray:
    """(len(daily_columns), R) values of each daily series at the end of the day.

    One array, written row by row: the quantiles across replicates read it as it is.
    """
    weapons = params.weapon_names
    columns = daily_columns(weapons)
    out = np.empty((len(columns), state.replicates))
    row = dict(zip(columns, out, strict=True))
    formed = state.formed
    M = count_last(formed)  # the groups there are
    for w, weapon in enumerate(weapons):
        row[f"attacks_{weapon}"][:] = state.attacks_today[:, w]
        row[f"militia_stock_{weapon}"][:] = sum_last(state.stock[:, :, w])
    row["attacks"][:] = sum_last(state.attacks_today)
    row["responses"][:] = state.responses_today
    row["killed_us"][:] = state.killed_us_today
    row["wounded_us"][:] = state.wounded_us_today
    row["killed_iraqi"][:] = state.killed_iraqi_today
    row["wounded_iraqi"][:] = state.wounded_iraqi_today
    row["rung"][:] = state.rung_today
    row["tension"][:] = state.tension
    row["militia_fighters"][:] = sum_last(state.fighters)
    row["militia_capacity"][:] = state.capability_today
    np.divide(sum_last_where(state.perceived_risk, formed), M, out=row["perceived_risk"])
    np.divide(sum_last_where(state.grievance, formed), M, out=row["grievance"])
    np.divide(sum_last_where(state.obedience, formed), M, out=row["obedience"])
    row["outrage"][:] = state.outrage
    row["iran_affront"][:] = state.affront
    row["iran_green_light"][:] = state.iran_green
    row["us_troops"][:] = state.troops()
    row["us_resolve"][:] = state.us_resolve
    row["sites_open"][:] = count_last(state.site_open)
    row["sovereignty_pressure"][:] = state.sovereignty
    for a, name in enumerate(SCORE_COLUMNS):
        row[name][:] = state.score_today[:, a]
    row["score_total_cumulative"][:] = sum_last(state.score_cumulative)
    return out


# --- the daily series across replicates ------------------------------------------------------

#: quantiles of each daily column across replicates (``output.daily: quantiles``)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: the statistics of each daily column, in column order: ``<column>_<stat>``
DAILY_STATS = ("q05", "q25", "q50", "q75", "q95", "mean")


def daily_stats(values: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """(len(DAILY_STATS), C) statistics of a (C, R) array of one day's values.

    With ``overwrite`` the quantiles reorder ``values`` in place instead of a copy.
    """
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean(axis=1)[None, :]
    return np.vstack([quantiles(values, overwrite), mean])


def quantiles(values: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """``np.quantile(values, QUANTILES, axis=1)`` of a (C, R) array, to the last bit."""
    return exact_quantiles(values, QUANTILES, overwrite)


def quantile_frame(stats: np.ndarray, columns: tuple[str, ...], start_date: str) -> pd.DataFrame:
    """One row per day from (days, len(DAILY_STATS), C) statistics: ``day``, ``date``, then
    ``<column>_q05 ... <column>_q95, <column>_mean`` for each column."""
    stats = np.asarray(stats, dtype=np.float64).reshape(-1, len(DAILY_STATS), len(columns))
    days = np.arange(len(stats))
    frame = pd.DataFrame(
        {
            "day": days,
            "date": pd.Timestamp(start_date) + pd.to_timedelta(days, "D"),
            **{
                f"{name}_{stat}": stats[:, i, j]
                for j, name in enumerate(columns)
                for i, stat in enumerate(DAILY_STATS)
            },
        }
    )
    return frame
