"""Each replicate's outcome: its regime (war, withdrawal, spiral, chronic harassment or
deterrence holding) and its counts, from the state and the event log's tallies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.config import LadderConfig
from sim.events import CASUALTY_COLUMNS, Actor, EventKind, EventLog
from sim.numerics.reductions import sum_last
from sim.state import Outcome, State

OUTCOMES = ("deterrence_holds", "chronic_harassment", "spiral", "withdrawal", "war")

EVENT_COUNTS = {
    "us_strikes": (EventKind.US_STRIKE_IRAQ, EventKind.US_STRIKE_SYRIA),
    "us_strikes_in_iraq": (EventKind.US_STRIKE_IRAQ,),
    "decapitations": (EventKind.DECAPITATION,),
    "embassy_assaults": (EventKind.EMBASSY_ASSAULT,),
    "israeli_strikes": (EventKind.ISRAELI_STRIKE,),
    "iraqi_raids": (EventKind.IRAQI_RAID,),
    "expulsion_votes": (EventKind.EXPULSION_VOTE,),
    "truces": (EventKind.TRUCE,),
    "sites_closed": (EventKind.SITE_CLOSED,),
    "splinters_formed": (EventKind.SPLINTER_FORMED,),
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


def replicate_table(
    state: State,
    log: EventLog,
    replicate_ids: np.ndarray,
    ladder: LadderConfig,
    days: int,
    weapons: Sequence[str],
) -> pd.DataFrame:
    """One row per replicate with its outcome and counts after ``days`` days (attacks with
    each of ``weapons``, the names of the log's weapon codes, as ``attacks_<weapon>``), and
    its escalation score by actor (``score_<actor>``) and in all (``score_total``).

    The counts come from the event log's per-replicate tallies, which cover every
    replicate whether or not its events are stored (``output.events``).
    """
    R = len(replicate_ids)
    log.grow(R)

    table: dict[str, Any] = {"replicate": replicate_ids}
    table["attacks"] = log.attack_counts[:R].sum(axis=1)
    for w, weapon in enumerate(weapons):
        table[f"attacks_{weapon}"] = log.attack_counts[:R, w].copy()
    for i, name in enumerate(CASUALTY_COLUMNS):
        table[name] = np.round(log.casualties[:R, i]).astype(np.int64)
    for name, kinds in EVENT_COUNTS.items():
        table[name] = log.kind_counts[:R, list(kinds)].sum(axis=1)
    # one Iranian strike hits several sites on one day: count strike days
    table["iran_direct_strikes"] = log.kind_days[:R, EventKind.IRAN_DIRECT_STRIKE].copy()
    table["max_rung"] = state.max_rung.copy()
    table["max_rung_day"] = state.max_rung_day.copy()
    table["first_us_death_day"] = state.first_us_death_day.copy()
    table["outcome_day"] = state.outcome_day.copy()
    table["outcome"] = classify(
        state.outcome, state.max_rung, table["attacks"], max(days, 1), ladder
    )
    table["us_troops_end"] = state.troops()
    # each actor's escalation score over the run (configs/score/), and all actors' together
    for actor in Actor:
        table[f"score_{actor.name.lower()}"] = state.score_cumulative[:, actor].copy()
    table["score_total"] = sum_last(state.score_cumulative)
    return pd.DataFrame(table)
