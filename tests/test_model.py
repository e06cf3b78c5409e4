"""The Mesa model: agents are views onto the state arrays, placed on the lat/lon grid."""

from __future__ import annotations

import pytest
from conftest import config

from sim.agents import Iran, IraqiGovernment, Israel, MilitiaGroup, USCommand, USGarrison
from sim.config import ConfigError
from sim.model import EscalationModel


@pytest.fixture(scope="module")
def model():
    m = EscalationModel(config("days=120", "seed=3"))
    for _ in range(60):
        m.step()
    return m


def test_agents_of_every_actor(model):
    # the four groups of late 2019 and Kataib Hezbollah's splinter in waiting
    groups = model.agents_by_type[MilitiaGroup]
    assert len(groups) == 5
    assert [g.formed for g in sorted(groups, key=lambda g: g.index)] == [True] * 4 + [False]
    assert len(model.agents_by_type[USGarrison]) == 11
    for cls in (USCommand, IraqiGovernment, Iran, Israel):
        assert len(model.agents_by_type[cls]) == 1


def test_agents_read_their_row_of_state(model):
    state = model.simulation.state
    for group in model.militias:
        assert group.fighters == state.fighters[0, group.index]
        assert group.perceived_risk == state.perceived_risk[0, group.index]
        assert group.obedience == state.obedience[0, group.index]
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


@pytest.mark.slow
def test_mesa_batch_run_seeds_the_run_with_rng():
    """Mesa users pass ``rng`` (mesa.batch_run does): it is the run's seed, so each row
    of the batch equals the model run directly with that seed."""
    import mesa
    import pandas as pd

    rows = mesa.batch_run(
        EscalationModel,
        parameters={"replicate": [0, 1], "config": [config("days=40")]},
        rng=[3, 4],
        max_steps=40,
        number_processes=1,
        display_progress=False,
        data_collection_period=-1,
    )
    table = pd.DataFrame(rows).drop_duplicates(["replicate", "rng"])
    assert len(table) == 4
    for row in table.itertuples():
        direct = EscalationModel(config(f"seed={row.rng}", "days=40"), replicate=row.replicate)
        for _ in range(40):
            direct.step()
        assert row.tension == float(direct.simulation.state.tension[0])
    assert len(set(table.tension)) > 1  # the seeds and replicates differ in what happens
    with pytest.raises(ConfigError, match=r"rng = -1: a seed must be"):
        EscalationModel(config("days=5"), rng=-1)
