"""The escalation ladder's bookkeeping at the end of a day (ODD 3 step 7, ODD 4): the day's
rung, tension and the highest rung so far, and each actor's escalation score so far."""

from __future__ import annotations

import numpy as np

from sim.events import EventKind
from sim.rules.today import Today
from sim.state import Outcome


def close_day(today: Today) -> None:
    """A day at war stays at the war rung; tension decays and adds the day's rung; each
    actor's cumulative escalation score adds its score of the day."""
    state, params = today.state, today.params
    at_war = state.outcome == Outcome.WAR
    war_rung = params.rung_of_kind[EventKind.OPEN_WAR]
    state.rung_today[at_war] = np.maximum(state.rung_today[at_war], war_rung)
    state.tension = state.tension * params.tension_decay + state.rung_today
    higher = state.rung_today > state.max_rung
    state.max_rung[higher] = state.rung_today[higher]
    state.max_rung_day[higher] = today.day
    state.score_cumulative += state.score_today
