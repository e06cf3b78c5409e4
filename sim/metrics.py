"""The run summary (headline numbers of a run) and the quantile table of full daily series."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.daily import SCORE_COLUMNS, daily_stats, quantile_frame
from sim.outcomes import EVENT_COUNTS, OUTCOMES
from sim.state import NEVER

if TYPE_CHECKING:
    from sim.engine import RunResult


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


#: the replicate table's escalation scores: each actor's, and all actors' together
SCORES = (*SCORE_COLUMNS, "score_total")


def _actor(score_column: str) -> str:
    """``militia`` for ``score_militia``, ``total`` for ``score_total``."""
    return score_column.removeprefix("score_")


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
        *(f"attacks_{weapon}" for weapon in result.params.weapon_names),
        "killed_us",
        "wounded_us",
        "killed_iraqi",
        "wounded_iraqi",
        "killed_militia",
        *EVENT_COUNTS,
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
        # the escalation score over the run, by actor and in all (configs/score/)
        "score": {_actor(name): float(first[name]) for name in SCORES},
    }
    if len(table) > 1:
        out["ensemble"] = {
            "outcome_shares": {name: float((table["outcome"] == name).mean()) for name in OUTCOMES},
            "mean_counts": {name: float(table[name].mean()) for name in counts},
            "mean_max_rung": float(table["max_rung"].mean()),
            "mean_score": {_actor(name): float(table[name].mean()) for name in SCORES},
        }
    return out
