"""Effects that several actors' acts have in common: US casualties and what they cost."""

from __future__ import annotations

import numpy as np

from sim.numerics.reductions import add_at, subtract_at
from sim.params import at
from sim.rules.today import Today
from sim.state import NEVER


def record_us_casualties(
    today: Today, rows: np.ndarray, killed: np.ndarray, wounded: np.ndarray
) -> None:
    """Tally US casualties (militia attacks, Iran's missiles); each death costs the US some
    of its resolve to stay (ODD 7, US doctrine: ``resolve_loss_per_us_death``)."""
    state = today.state
    loss = today.params.config.doctrine.us.resolve_loss_per_us_death
    add_at(state.killed_us_today, rows, killed)
    add_at(state.wounded_us_today, rows, wounded)
    subtract_at(state.us_resolve, rows, at(loss, rows) * killed)
    first = rows[(killed > 0) & (state.first_us_death_day[rows] == NEVER)]
    state.first_us_death_day[first] = today.day
