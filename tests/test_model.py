"""The Mesa model: agents are views onto the state arrays, placed on the lat/lon grid."""

from __future__ import annotations

import pytest
from conftest import config

from sim.agents import Iran, IraqiGovernment, Israel, MilitiaGroup, USCommand, USGarrison
from sim.model import EscalationModel


@pytest.fixture(scope="module")
def model():
    m = EscalationModel(config("days=120", "seed=3"))
    for _ in range(60):
        m.step()
    return m


def test_agents_of_every_actor(model):
    assert len(model.agents_by_type[MilitiaGroup]) == 4
    assert len(model.agents_by_type[USGarrison]) == 11
    for cls in (USCommand, IraqiGovernment, Iran, Israel):
        assert len(model.agents_by_type[cls]) == 1


def test_agents_read_their_row_of_state(model):
    state = model.simulation.state
    for group in model.militias:
        assert group.fighters == state.fighters[0, group.index]
        assert group.perceived_risk == state.perceived_risk[0, group.index]
        assert 0.0 <= group.attack_probability <= 1.0
    state.fighters[0, 0] = 123.0  # a view, not a copy
    kh = next(g for g in model.militias if g.index == 0)
    assert kh.fighters == 123.0


def test_agents_sit_in_the_cells_of_their_sites(model):
    th = model.simulation.params.theatre
    for garrison in model.garrisons:
        assert garrison.cell.coordinate == th.cell_of(garrison.site)
    assert model.routes.G.number_of_edges() == len({(s.a, s.b) for s in th.segments})


def test_datacollector_records_each_day(model):
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 60
    assert set(frame.columns) >= {"rung", "tension", "attacks", "us_troops", "iran_green_light"}
    assert model.day == 60 and model.date.isoformat() == "2019-11-30"


def test_model_stops_at_the_horizon():
    m = EscalationModel(config("days=5"))
    steps = 0
    while m.running:
        m.step()
        steps += 1
    assert steps == 5
