"""Israel's rule (ODD 3 step 5, the Israel doctrine of ODD 7): strikes on land-bridge
depots, more often the more Iran ships (seed 004)."""

from __future__ import annotations

import numpy as np

from sim.events import Action, Actor, EventKind, Intent, Signal
from sim.params import at, column
from sim.rng import Stream
from sim.rules.today import Today


def interdict(today: Today) -> None:
    """A strike on a depot destroys the stocks held there; one on Iraqi soil may be blamed
    on the US."""
    state, params = today.state, today.params
    cfg = params.config
    israel = cfg.doctrine.israel
    th = params.theatre
    sites = th.interdiction_sites
    if len(sites) == 0:
        return
    in_iraq = sites[th.country[sites] == "iraq"]
    elsewhere = sites[th.country[sites] != "iraq"]
    chance = -np.expm1(
        -israel.interdiction_rate * state.transfer_recent / israel.reference_transfer_per_day
    )
    rows = today.happens(Stream.ISRAEL_STRIKE, chance, state.active)
    if len(rows) == 0:
        return
    share = at(israel.strike_in_iraq_share, rows) if len(elsewhere) else 1.0
    pool_iraq = in_iraq if len(in_iraq) else elsewhere
    pool_else = elsewhere if len(elsewhere) else in_iraq
    u = today.uniform(Stream.ISRAEL_TARGET, 2, rows)
    pick_iraq = u[:, 0] < (share if len(in_iraq) else 0.0)
    site = np.where(
        pick_iraq,
        pool_iraq[(u[:, 1] * len(pool_iraq)).astype(np.int64)],
        pool_else[(u[:, 1] * len(pool_else)).astype(np.int64)],
    )
    loss = column(at(israel.strike_stock_loss, rows)) * params.base_share[:, site].T  # (n, M)
    state.stock[rows] *= (1.0 - loss)[:, :, None]
    # militias may blame the US for strikes on Iraqi soil (Balad, August 2019, seed 004)
    blamed = pick_iraq & (
        today.uniform(Stream.ISRAEL_BLAME, 1, rows)[:, 0] < at(israel.blame_us_probability, rows)
    )
    blamed_rows = rows[blamed]
    iraq, dyn = cfg.doctrine.iraq, cfg.actors.dynamics
    state.grievance[blamed_rows] += column(at(dyn.israeli_blame_grievance, blamed_rows))
    state.outrage[blamed_rows] += at(dyn.outrage_per_blamed_israeli_strike, blamed_rows)
    state.sovereignty[blamed_rows] += at(iraq.sovereignty_cost_israeli_strike, blamed_rows) * at(
        iraq.sovereignty_sensitivity, blamed_rows
    )
    # Israel does not claim its strikes; the public blames Israel, or the US
    public = np.where(blamed, params.source_of(Actor.US), params.source_of(Actor.ISRAEL))
    today.emit(
        rows,
        EventKind.ISRAELI_STRIKE,
        Actor.ISRAEL,
        Action.AIRSTRIKE,
        target=site,
        blamed=public,
        signal=Signal.UNCLAIMED,
        intent=Intent.INTERDICT,
    )
