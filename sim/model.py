"""The Mesa model: one replicate of the simulation, with agents on a lat/lon grid."""

from __future__ import annotations

import dataclasses
import datetime as dt

import mesa
import numpy as np
from mesa.discrete_space import Network, OrthogonalMooreGrid

from sim.agents import Iran, IraqiGovernment, Israel, MilitiaGroup, USCommand, USGarrison
from sim.config import BaseConfig, ConfigError, compose
from sim.engine import RunResult, Simulation

#: what Mesa accepts as ``rng``: a seed, a NumPy generator or seed sequence, or None
SeedLike = int | np.integer | np.random.Generator | np.random.SeedSequence | None

#: the largest seed of a run (``seed`` in the configuration)
_MAX_SEED = 2**63 - 1


def _seed(rng: SeedLike) -> int:
    """The run seed ``rng`` stands for: a whole number in [0, 2**63 - 1] is the seed itself;
    a NumPy generator or seed sequence gives one (as Mesa seeds its own generator)."""
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        if not 0 <= rng <= _MAX_SEED:
            raise ConfigError(f"rng = {rng}: a seed must be a whole number in [0, 2**63 - 1]")
        return int(rng)
    if isinstance(rng, np.random.Generator | np.random.SeedSequence):
        return int(np.random.default_rng(rng).integers(0, _MAX_SEED))
    raise ConfigError(
        f"rng = {rng!r}: must be a seed (a whole number >= 0), a NumPy Generator or "
        "SeedSequence, or None"
    )


class EscalationModel(mesa.Model):
    """The escalation cycle for one replicate (R = 1 of the vectorized core).

    Args:
        config: a validated configuration (default: the composed default config).
        replicate: which replicate of ``config.seed`` to run; replicate k here draws the
            same numbers as replicate k of a batched run.
        rng: Mesa's seed argument, as ``mesa.batch_run`` passes it: given, it replaces
            ``config.seed`` (a NumPy generator or seed sequence gives the seed).
    """

    def __init__(
        self, config: BaseConfig | None = None, replicate: int = 0, rng: SeedLike = None
    ) -> None:
        config = config or compose()
        if rng is not None:  # Mesa's habit (mesa.batch_run passes it): the run's seed
            config = dataclasses.replace(config, seed=_seed(rng))
        super().__init__(rng=config.seed)
        self.config = config
        self.simulation = Simulation(config, replicates=[replicate])
        theatre = self.simulation.params.theatre
        self.grid = OrthogonalMooreGrid(theatre.grid_shape, torus=False, random=self.random)
        self.routes = Network(theatre.graph(), layout=None, random=self.random)

        for m, militia in enumerate(config.actors.militias):
            home = theatre.site_index[militia.bases[0]]
            MilitiaGroup(self, m, self.grid[theatre.cell_of(home)])
        for site in theatre.us_sites:
            USGarrison(self, int(site), self.grid[theatre.cell_of(int(site))])
        self.us = USCommand(self)
        self.iraq = IraqiGovernment(self)
        self.iran = Iran(self)
        self.israel = Israel(self)

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "rung": lambda m: int(m.simulation.state.rung_today[0]),
                "tension": lambda m: float(m.simulation.state.tension[0]),
                "attacks": lambda m: float(m.simulation.state.attacks_today[0].sum()),
                "us_troops": lambda m: m.us.troops,
                "iran_green_light": lambda m: m.iran.green_light,
            },
            agenttype_reporters={
                MilitiaGroup: {
                    "fighters": "fighters",
                    "grievance": "grievance",
                    "perceived_risk": "perceived_risk",
                },
            },
        )
        self.running = True

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.simulation.day

    @property
    def date(self) -> dt.date:
        """The calendar date of the next day to simulate."""
        start = dt.date.fromisoformat(self.config.scenario.start_date)
        return start + dt.timedelta(days=self.day)

    @property
    def militias(self):
        return self.agents_by_type[MilitiaGroup]

    @property
    def garrisons(self):
        return self.agents_by_type[USGarrison]

    def step(self) -> None:
        """One day: Iran supplies its proxies; each militia decides whether, where and with
        what to attack; the US decides and strikes; Iran, Israel and the Iraqi government act;
        grievance, perceived risk, capacity, tension and the escalation rung update
        (``sim.rules.step``)."""
        self.simulation.step()
        self.datacollector.collect(self)
        self.running = not self.simulation.done

    def result(self) -> RunResult:
        """Events, daily series and outcome of the run so far."""
        return self.simulation.result()
