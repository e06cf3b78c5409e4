"""Outcome metrics: per-replicate table, outcome classes, and the run summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.events import CASUALTY_COLUMNS, EventKind, Weapon
from sim.numerics.quantiles import quantiles as exact_quantiles
from sim.state import NEVER, Outcome

if TYPE_CHECKING:
    from sim.engine import RunResult, Simulation

OUTCOMES = ("deterrence_holds", "chronic_harassment", "spiral", "withdrawal", "war")

_EVENT_COUNTS = {
    "us_strikes": (EventKind.US_STRIKE_IRAQ, EventKind.US_STRIKE_SYRIA),
    "us_strikes_in_iraq": (EventKind.US_STRIKE_IRAQ,),
    "decapitations": (EventKind.DECAPITATION,),
    "embassy_assaults": (EventKind.EMBASSY_ASSAULT,),
    "israeli_strikes": (EventKind.ISRAELI_STRIKE,),
    "iraqi_raids": (EventKind.IRAQI_RAID,),
    "expulsion_votes": (EventKind.EXPULSION_VOTE,),
    "truces": (EventKind.TRUCE,),
    "sites_closed": (EventKind.SITE_CLOSED,),
}


def classify(
    outcome: np.ndarray, max_rung: np.ndarray, attacks: np.ndarray, days: int, ladder
) -> np.ndarray:
    """Name each replicate's regime: war, withdrawal, spiral, chronic harassment or deterrence."""
    per_month = attacks / (days / 30.0)
    return np.select(
        [
            outcome == Outcome.WAR,
            outcome == Outcome.WITHDRAWAL,
            max_rung >= ladder.spiral_min_rung,
            per_month >= ladder.chronic_attacks_per_month,
        ],
        ["war", "withdrawal", "spiral", "chronic_harassment"],
        default="deterrence_holds",
    )


def replicate_table(sim: Simulation) -> pd.DataFrame:
    """One row per replicate with its outcome and counts.

    The counts come from the event log's per-replicate tallies, which cover every
    replicate whether or not its events are stored (``output.events``).
    """
    state, cfg, log = sim.state, sim.config, sim.log
    R = len(sim.replicate_ids)
    log.grow(R)

    table: dict[str, Any] = {"replicate": sim.replicate_ids}
    table["attacks"] = log.attack_counts[:R].sum(axis=1)
    for w in Weapon:
        table[f"attacks_{w.name.lower()}"] = log.attack_counts[:R, w].copy()
    for i, name in enumerate(CASUALTY_COLUMNS):
        table[name] = np.round(log.casualties[:R, i]).astype(np.int64)
    for name, kinds in _EVENT_COUNTS.items():
        table[name] = log.kind_counts[:R, list(kinds)].sum(axis=1)
    # one Iranian strike hits several sites on one day: count strike days
    table["iran_direct_strikes"] = log.kind_days[:R, EventKind.IRAN_DIRECT_STRIKE].copy()
    table["max_rung"] = state.max_rung.copy()
    table["max_rung_day"] = state.max_rung_day.copy()
    table["first_us_death_day"] = state.first_us_death_day.copy()
    table["outcome_day"] = state.outcome_day.copy()
    table["outcome"] = classify(
        state.outcome, state.max_rung, table["attacks"], max(sim.day, 1), cfg.ladder
    )
    table["us_troops_end"] = state.troops()
    return pd.DataFrame(table)


# --- daily series across replicates ---------------------------------------------------------

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


def daily_quantiles(daily: pd.DataFrame, start_date: str) -> pd.DataFrame:
    """The quantile table of a full daily frame (one row per replicate and day)."""
    columns = tuple(c for c in daily.columns if c not in ("replicate", "day", "date"))
    days = int(daily["day"].max()) + 1 if len(daily) else 0
    stats = [
        daily_stats(daily.loc[daily["day"] == d, list(columns)].to_numpy(np.float64).T)
        for d in range(days)
    ]
    return quantile_frame(np.array(stats), columns, start_date)


def _day_and_date(day: int, start: pd.Timestamp) -> dict[str, Any]:
    if day == NEVER:
        return {"day": None, "date": None}
    return {"day": int(day), "date": (start + pd.Timedelta(days=int(day))).date().isoformat()}


def rung_name(config, level: int) -> str:
    """The ladder's name for a rung level."""
    names = {r.level: r.name for r in config.ladder.rungs}
    return names.get(int(level), f"rung {level}")


def summary(result: RunResult) -> dict[str, Any]:
    """The headline numbers of a run (replicate 0 in detail, means over all when R > 1)."""
    cfg, table = result.config, result.replicates
    start = pd.Timestamp(cfg.scenario.start_date)
    first = table.iloc[0]
    counts = [
        "attacks",
        "attacks_rocket",
        "attacks_ied",
        "attacks_drone",
        "killed_us",
        "wounded_us",
        "killed_iraqi",
        "wounded_iraqi",
        "killed_militia",
        *_EVENT_COUNTS,
        "iran_direct_strikes",
    ]
    out: dict[str, Any] = {
        "scenario": cfg.scenario.name,
        "doctrines": {
            "us": cfg.doctrine.us.name,
            "iran": cfg.doctrine.iran.name,
            "israel": cfg.doctrine.israel.name,
            "iraq": cfg.doctrine.iraq.name,
        },
        "start_date": cfg.scenario.start_date,
        "days": cfg.days,
        "seed": cfg.seed,
        "replicates": len(table),
        "replicate": int(first["replicate"]),
        "outcome": str(first["outcome"]),
        "outcome_day": _day_and_date(int(first["outcome_day"]), start),
        "highest_rung": {
            "level": int(first["max_rung"]),
            "name": rung_name(cfg, int(first["max_rung"])),
            **_day_and_date(int(first["max_rung_day"]), start),
        },
        "first_us_death": _day_and_date(int(first["first_us_death_day"]), start),
        "counts": {name: int(first[name]) for name in counts},
        "us_troops_end": float(first["us_troops_end"]),
    }
    if len(table) > 1:
        out["ensemble"] = {
            "outcome_shares": {name: float((table["outcome"] == name).mean()) for name in OUTCOMES},
            "mean_counts": {name: float(table[name].mean()) for name in counts},
            "mean_max_rung": float(table["max_rung"].mean()),
        }
    return out
