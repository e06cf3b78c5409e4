"""The model's rules, one module per actor, each rule written once as vectorized NumPy over
the replicates (docs/ODD.md, section 3). ``step`` is the day: one line per phase, in the
order of the ODD's process overview.
"""

from __future__ import annotations

from sim.events import EventLog
from sim.params import Params
from sim.played import Played
from sim.rng import RandomStreams
from sim.rules import iran, iraq, israel, ladder, militia, us
from sim.rules.today import Today
from sim.state import State


def step(
    state: State,
    params: Params,
    streams: RandomStreams,
    day: int,
    log: EventLog,
    played: Played | None = None,
) -> None:
    """Advance every replicate by one day, appending the day's events to ``log``; in a
    wargame ``played`` holds the teams' decisions (:mod:`sim.played`)."""
    today = Today(state, params, streams, day, log, played)
    state.begin_day()
    iran.supply(today)  # 1. supply
    attacks = militia.attack(today)  # 2. militia attacks,
    us.attribute(today, attacks)  # whom the US blames for each,
    militia.log_attacks(today, attacks)
    militia.storm_embassy(today)  # and the street
    us.respond(today, attacks)  # 3. US response
    iran.act(today)  # 4. Iran
    israel.interdict(today)  # 5. Israel
    iraq.act(today)  # 6. Iraqi government
    militia.recover(today)  # 7. updates
    iraq.cool_down(today)
    us.recover_or_withdraw(today)
    ladder.close_day(today)
