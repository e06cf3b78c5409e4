"""Mesa agents: named actors that are views onto one replicate's row of the state arrays.

They hold identity (a name, a place) and expose their state as read-only properties;
they never decide anything. Every rule lives once, in its actor's module under ``sim.rules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from mesa.discrete_space import FixedAgent

from sim.rules.militia import attack_rates
from sim.state import NEVER

if TYPE_CHECKING:
    from sim.model import EscalationModel


class _View:
    """Shared access to the model's single-replicate state and parameters."""

    model: EscalationModel

    @property
    def _state(self):
        return self.model.simulation.state

    @property
    def _params(self):
        return self.model.simulation.params


class MilitiaGroup(_View, FixedAgent):
    """An Iran-backed militia, placed at its first base. ``index`` is its row in the arrays."""

    def __init__(self, model: EscalationModel, index: int, cell) -> None:
        super().__init__(model)
        self.index = index
        self.cell = cell
        cfg = model.config.actors.militias[index]
        self.name, self.label, self.bases = cfg.name, cfg.label, list(cfg.bases)

    @property
    def fighters(self) -> float:
        return float(self._state.fighters[0, self.index])

    @property
    def detained(self) -> float:
        return float(self._state.detained[0, self.index])

    @property
    def stocks(self) -> dict[str, float]:
        """Munitions on hand by weapon."""
        names = self._params.weapon_names
        return {name: float(self._state.stock[0, self.index, w]) for w, name in enumerate(names)}

    @property
    def grievance(self) -> float:
        return float(self._state.grievance[0, self.index])

    @property
    def perceived_risk(self) -> float:
        """Perceived probability that an attack draws a US response (learned)."""
        return float(self._state.perceived_risk[0, self.index])

    @property
    def leadership(self) -> float:
        return float(self._state.leadership[0, self.index])

    @property
    def obedience(self) -> float:
        """How far the group follows Iran's restraint today (falls with its leaders)."""
        return float(self._state.obedience[0, self.index])

    @property
    def formed(self) -> bool:
        """Whether the group exists yet: a splinter in waiting is not formed until it splits."""
        return bool(self._state.formed[0, self.index])

    @property
    def attack_probability(self) -> float:
        """Probability that the group attacks tomorrow if nothing else changes (from the core)."""
        rate, _, _ = attack_rates(self._state, self._params, self.model.simulation.day)
        return float(-np.expm1(-rate[0, self.index].sum()))


class USGarrison(_View, FixedAgent):
    """US and coalition forces at one site."""

    def __init__(self, model: EscalationModel, site: int, cell) -> None:
        super().__init__(model)
        self.site = site
        self.column = model.simulation.params.theatre.us_column[site]  # in the site arrays
        self.cell = cell
        self.name = model.simulation.params.theatre.site_names[site]

    @property
    def personnel(self) -> float:
        return float(self._state.personnel[0, self.column])

    @property
    def is_open(self) -> bool:
        return bool(self._state.site_open[0, self.column])

    @property
    def air_defence(self) -> float:
        return float(self._state.air_defence[0, self.column])


class USCommand(_View, Agent):
    """The US chain of command: doctrine, troops, resolve and strikes in the pipeline."""

    name = "us"

    @property
    def doctrine(self) -> str:
        return self._params.config.doctrine.us.name

    @property
    def troops(self) -> float:
        return float(self._state.troops()[0])

    @property
    def resolve(self) -> float:
        return float(self._state.us_resolve[0])

    @property
    def pending_strikes(self) -> dict[str, int]:
        """Militia name -> day the scheduled strike lands."""
        due = self._state.response_due[0]
        names = self._params.militia_names
        return {names[m]: int(due[m]) for m in np.flatnonzero(due != NEVER)}


class IraqiGovernment(_View, Agent):
    """The government in Baghdad."""

    name = "iraq_gov"

    @property
    def sovereignty_pressure(self) -> float:
        return float(self._state.sovereignty[0])

    @property
    def embassy_protection(self) -> float:
        columns = self._params.theatre.embassy_columns
        return float(self._state.protection[0, columns].max()) if len(columns) else 0.0

    @property
    def fighters_detained(self) -> float:
        return float(self._state.detained[0].sum())


class Iran(_View, Agent):
    """The IRGC Quds Force."""

    name = "iran"

    @property
    def green_light(self) -> float:
        return float(self._state.iran_green[0])

    @property
    def retaliation_due(self) -> int | None:
        day = int(self._state.retaliation_due[0])
        return None if day == NEVER else day


class Israel(_View, Agent):
    """The Israeli Air Force's interdiction campaign."""

    name = "israel"

    @property
    def interdiction_probability(self) -> float:
        """Probability of a strike on the land bridge tomorrow."""
        israel = self._params.config.doctrine.israel
        rate = israel.interdiction_rate * self._state.transfer_recent[0]
        return float(-np.expm1(-rate / israel.reference_transfer_per_day))
