"""Outcome metrics: per-replicate table, outcome classes, and the run summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.events import Actor, EventKind, Weapon
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
    """One row per replicate with its outcome and counts."""
    state, cfg = sim.state, sim.config
    R = len(sim.replicate_ids)
    cols = sim.log.columns()
    rep, kind, actor = cols["replicate"], cols["kind"], cols["actor"]
    militia = actor == Actor.MILITIA
    attack = militia & (kind != EventKind.EMBASSY_ASSAULT)

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(rep[mask], weights=w, minlength=R)

    table: dict[str, Any] = {"replicate": sim.replicate_ids}
    table["attacks"] = count(attack).astype(np.int64)
    for w in Weapon:
        table[f"attacks_{w.name.lower()}"] = count(attack & (cols["weapon"] == w)).astype(np.int64)
    for name in ("killed_us", "wounded_us", "killed_iraqi", "wounded_iraqi", "killed_militia"):
        table[name] = np.round(count(np.ones_like(militia), cols[name])).astype(np.int64)
    for name, kinds in _EVENT_COUNTS.items():
        table[name] = count(np.isin(kind, kinds)).astype(np.int64)
    # one Iranian strike hits several sites on one day: count strike days
    iran = kind == EventKind.IRAN_DIRECT_STRIKE
    strike_days = np.unique(rep[iran] * (sim.day + 1) + cols["day"][iran])
    table["iran_direct_strikes"] = np.bincount(strike_days // (sim.day + 1), minlength=R)
    table["max_rung"] = state.max_rung.copy()
    table["max_rung_day"] = state.max_rung_day.copy()
    table["first_us_death_day"] = state.first_us_death_day.copy()
    table["outcome_day"] = state.outcome_day.copy()
    table["outcome"] = classify(
        state.outcome, state.max_rung, table["attacks"], max(sim.day, 1), cfg.ladder
    )
    table["us_troops_end"] = state.troops()
    return pd.DataFrame(table)


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
