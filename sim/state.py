"""The state of R replicates as NumPy arrays with a leading replicate axis.

The Mesa model is the R = 1 case: its agents read and write rows of these arrays.
"Day" fields hold a day index, with ``NEVER`` (-1) meaning not scheduled / not yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.events import Actor
from sim.numerics.reductions import sum_last
from sim.params import Params, column

NEVER = -1


class Outcome:
    """Absorbing states of a replicate (stored as small ints in ``State.outcome``)."""

    ONGOING = 0
    WAR = 1
    WITHDRAWAL = 2


@dataclass
class State:
    # militias (R, M) and their stocks (R, M, W)
    fighters: np.ndarray
    detained: np.ndarray
    stock: np.ndarray
    grievance: np.ndarray
    perceived_risk: np.ndarray
    leadership: np.ndarray
    obedience: np.ndarray  # how far each group follows Iran's restraint (falls with its leaders)
    formed: np.ndarray  # bool: the group exists (founders from the start, splinters once split)
    recent_attacks: np.ndarray  # exponentially weighted count over the US count window
    momentum: np.ndarray  # (R, M) emboldenment from the group's own landed attacks (fades)
    recent_us_deaths: np.ndarray  # US deaths the US blames on each group, over the same window
    outrage: np.ndarray  # (R,) public outrage at the US in Iraq: the crowd's motive
    # US sites (R, U): a column per site of ``theatre.us_sites``, in order
    personnel: np.ndarray
    site_open: np.ndarray
    air_defence: np.ndarray
    protection: np.ndarray
    # United States (R,)
    us_resolve: np.ndarray
    posture_start_troops: np.ndarray  # troops when the posture change began
    response_due: np.ndarray  # (R, M) day a scheduled strike on the group lands
    response_in_iraq: np.ndarray  # (R, M)
    response_size: np.ndarray  # (R, M) size multiplier of the scheduled strike
    strikes_on_group: np.ndarray  # (R, M) strikes carried out on each group so far
    assault_militia: np.ndarray
    assault_today: np.ndarray  # bool: an embassy assault happened today
    decapitation_due: np.ndarray
    decapitation_target: np.ndarray
    consolidation_start: np.ndarray
    sites_closed: np.ndarray  # how many of the consolidation list are closed
    upgrade_due: np.ndarray
    drawdown_start: np.ndarray
    closure_threat_day: np.ndarray
    recent_baghdad_attacks: np.ndarray
    # Iran, Israel, Iraq (R,)
    iran_green: np.ndarray
    iran_restraint_until: np.ndarray
    retaliation_due: np.ndarray
    affront: np.ndarray  # Iran's affront at US acts; past its red line Iran decides
    transfer_recent: np.ndarray
    talks_open: np.ndarray  # bool: US-Iran talks under way
    sovereignty: np.ndarray
    last_vote_day: np.ndarray
    protection_until: np.ndarray
    truce_until: np.ndarray
    # the ladder and outcomes (R,)
    tension: np.ndarray
    rung_today: np.ndarray
    max_rung: np.ndarray
    max_rung_day: np.ndarray
    outcome: np.ndarray
    outcome_day: np.ndarray
    first_us_death_day: np.ndarray
    score_cumulative: np.ndarray  # (R, actors) escalation score of each actor so far
    # today's tallies (reset each morning), read by the daily record and Iran
    attacks_today: np.ndarray  # (R, W)
    leaders_struck_today: np.ndarray  # bool: a US strike killed a group's leaders today
    irgc_killed_today: np.ndarray  # bool: ... and IRGC officers with them
    iranians_struck_today: np.ndarray  # bool: a US strike hit Iranian personnel in Syria
    proxy_losses_today: np.ndarray  # militia fighters killed by US strikes today
    responses_today: np.ndarray
    killed_us_today: np.ndarray
    wounded_us_today: np.ndarray
    killed_iraqi_today: np.ndarray
    wounded_iraqi_today: np.ndarray
    score_today: np.ndarray  # (R, actors) escalation score of today's events, by actor
    capability_today: np.ndarray  # the groups' mean capability when they chose today's attacks

    @property
    def replicates(self) -> int:
        return self.fighters.shape[0]

    @property
    def active(self) -> np.ndarray:
        """(R,) replicates not yet in an absorbing outcome (read-only: kept between calls
        until ``outcome_changed``, which whatever writes ``outcome`` calls)."""
        cached = self.__dict__.get("_active")
        if cached is None or cached[0] is not self.outcome:
            active = self.outcome == Outcome.ONGOING
            active.flags.writeable = False
            cached = (self.outcome, active)
            self.__dict__["_active"] = cached
        return cached[1]

    def outcome_changed(self) -> None:
        """Forget ``active``: some replicates' outcome was written."""
        self.__dict__.pop("_active", None)

    def troops(self) -> np.ndarray:
        """(R,) US personnel in theatre."""
        return sum_last(self.personnel)

    def begin_day(self) -> None:
        """Reset today's tallies."""
        for tally in (
            self.attacks_today,
            self.responses_today,
            self.killed_us_today,
            self.wounded_us_today,
            self.killed_iraqi_today,
            self.wounded_iraqi_today,
            self.proxy_losses_today,
            self.score_today,
            self.capability_today,
        ):
            tally.fill(0.0)
        self.rung_today.fill(0)
        for flag in (
            self.assault_today,
            self.leaders_struck_today,
            self.irgc_killed_today,
            self.iranians_struck_today,
        ):
            flag.fill(False)


def initial_state(params: Params, replicates: int) -> State:
    """Every replicate starts from the configured values of the scenario's first day."""
    cfg, th = params.config, params.theatre
    militias = cfg.actors.militias
    R, M, U = replicates, params.n_militias, len(th.us_sites)

    def per_militia(attr: str) -> np.ndarray:
        out = np.empty((R, M))
        for i, militia in enumerate(militias):  # a value, or one per replicate
            out[:, i] = getattr(militia, attr)
        return out

    stock = np.zeros((R, M, len(params.weapon_names)))
    for i, militia in enumerate(militias):  # a weapon a group has none of is left out
        for w, weapon in enumerate(params.weapon_names):
            stock[:, i, w] = militia.stock.get(weapon, 0.0)
    for weapon, total in cfg.scenario.militia_stocks.items():  # the scenario's stocks
        w = params.weapon_names.index(weapon)
        stock[:, :, w] = np.minimum(total * params.supply_share, params.stock_capacity[:, :, w])
    personnel, site_open, drawdown_start = _scenario_posture(params, R)
    protection = np.zeros((R, U))
    protection[:, th.embassy_columns] = column(cfg.doctrine.iraq.embassy_protection)
    never = lambda: np.full(R, NEVER, dtype=np.int64)  # noqa: E731
    zeros = lambda: np.zeros(R)  # noqa: E731
    return State(
        fighters=per_militia("fighters"),
        detained=np.zeros((R, M)),
        stock=stock,
        grievance=np.zeros((R, M)),
        perceived_risk=per_militia("initial_perceived_risk"),
        leadership=np.ones((R, M)),
        obedience=per_militia("obedience"),
        formed=np.tile(params.splinter_of < 0, (R, 1)),
        recent_attacks=np.zeros((R, M)),
        momentum=np.zeros((R, M)),
        recent_us_deaths=np.zeros((R, M)),
        outrage=zeros(),
        personnel=personnel,
        site_open=site_open,
        air_defence=np.tile(th.air_defence[th.us_sites], (R, 1)),
        protection=protection,
        us_resolve=np.ones(R),
        posture_start_troops=personnel.sum(axis=1),
        response_due=np.full((R, M), NEVER, dtype=np.int64),
        response_in_iraq=np.zeros((R, M), dtype=bool),
        response_size=np.ones((R, M)),
        strikes_on_group=np.zeros((R, M), dtype=np.int64),
        assault_militia=np.zeros(R, dtype=np.int64),
        assault_today=np.zeros(R, dtype=bool),
        decapitation_due=never(),
        decapitation_target=np.zeros(R, dtype=np.int64),
        consolidation_start=never(),
        sites_closed=np.zeros(R, dtype=np.int64),
        upgrade_due=never(),
        drawdown_start=drawdown_start,
        closure_threat_day=never(),
        recent_baghdad_attacks=zeros(),
        iran_green=np.full(R, cfg.doctrine.iran.green_light),
        iran_restraint_until=never(),
        retaliation_due=never(),
        affront=zeros(),
        transfer_recent=sum_last(params.supply_rates(0)),
        talks_open=np.full(R, params.diplomacy_day is not None and params.diplomacy_day <= 0),
        sovereignty=zeros(),
        last_vote_day=never(),
        protection_until=never(),
        truce_until=never(),
        tension=zeros(),
        rung_today=np.zeros(R, dtype=np.int64),
        max_rung=np.zeros(R, dtype=np.int64),
        max_rung_day=never(),
        outcome=np.zeros(R, dtype=np.int64),
        outcome_day=never(),
        first_us_death_day=never(),
        score_cumulative=np.zeros((R, len(Actor))),
        attacks_today=np.zeros((R, len(params.weapon_names))),
        leaders_struck_today=np.zeros(R, dtype=bool),
        irgc_killed_today=np.zeros(R, dtype=bool),
        iranians_struck_today=np.zeros(R, dtype=bool),
        proxy_losses_today=zeros(),
        responses_today=zeros(),
        killed_us_today=zeros(),
        wounded_us_today=zeros(),
        killed_iraqi_today=zeros(),
        wounded_iraqi_today=zeros(),
        score_today=np.zeros((R, len(Actor))),
        capability_today=zeros(),
    )


def _scenario_posture(params: Params, R: int) -> tuple[np.ndarray, ...]:
    """US personnel, open sites and drawdown start as the scenario's first day finds them."""
    th, scenario = params.theatre, params.config.scenario
    personnel = np.tile(th.personnel[th.us_sites], (R, 1))
    site_open = np.ones(personnel.shape, dtype=bool)
    handed_over = th.us_column[[th.site_index[name] for name in scenario.sites_handed_over]]
    personnel[:, handed_over] = 0.0
    site_open[:, handed_over] = False
    if scenario.us_troops_in_iraq is not None:
        in_iraq = th.us_in_iraq
        total = personnel[:, in_iraq].sum(axis=1, keepdims=True)
        scale = np.divide(
            scenario.us_troops_in_iraq, total, out=np.zeros_like(total), where=total > 0
        )
        personnel[:, in_iraq] *= scale
    start = 0 if scenario.drawdown_under_way else NEVER
    return personnel, site_open, np.full(R, start, dtype=np.int64)
