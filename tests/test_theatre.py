"""Geography: distances, targets, grid cells and the route network."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import replace

from sim.theatre import Theatre, haversine_km


def test_haversine_known_distance():
    # Baghdad airport to Ain al-Asad is about 160 km as the crow flies
    assert 150 < haversine_km(33.26, 44.23, 33.79, 42.44) < 180
    assert haversine_km(33.0, 44.0, 33.0, 44.0) == 0.0


def test_targets_are_us_sites_then_convoy_segments(default_config):
    th = Theatre(default_config.theatre)
    n_us = int((th.side == "us").sum())
    assert th.n_targets == n_us + len(th.convoy_segments)
    # a site target's US site is its column in the state's site arrays: us_sites in order
    np.testing.assert_array_equal(th.target_us_site[:n_us], np.arange(n_us))
    assert (th.target_us_site[n_us:] == -1).all()
    np.testing.assert_array_equal(th.us_sites[th.target_us_site[:n_us]], th.target_place[:n_us])
    assert (th.us_column[th.us_sites] == np.arange(n_us)).all()
    assert (np.delete(th.us_column, th.us_sites) == -1).all()
    assert (th.side[th.embassy_sites] == "us").all()
    assert all(th.place_names[p].startswith("convoy:") for p in th.target_place[n_us:])
    assert th.convoy_weight.shape == (len(th.convoy_segments),) and (th.convoy_weight > 0).all()


def test_land_bridge_depots_are_interdiction_sites(default_config):
    th = Theatre(default_config.theatre)
    names = {th.site_names[i] for i in th.interdiction_sites}
    assert "albukamal" in names and all(th.side[i] == "militia" for i in th.interdiction_sites)


def test_grid_cells_follow_the_cell_size(default_config):
    coarse = Theatre(replace(default_config, "theatre.cell_size_deg", 0.5).theatre)
    fine = Theatre(default_config.theatre)
    assert fine.grid_shape == (110, 85)
    assert coarse.grid_shape == (22, 17)
    i = fine.site_index["baghdad_embassy"]
    x, y = fine.cell_of(i)
    assert 0 <= x < fine.grid_shape[0] and 0 <= y < fine.grid_shape[1]
    assert coarse.cell_of(i) == (x // 5, y // 5)


def test_graph_has_every_segment_with_lengths(default_config):
    th = Theatre(default_config.theatre)
    g = th.graph()
    assert g.number_of_nodes() == len(th.site_names)
    for seg in th.segments:
        data = g.edges[th.site_names[seg.a], th.site_names[seg.b]]
        assert data["length_km"] == pytest.approx(seg.length_km)
    assert np.isfinite([s.length_km for s in th.segments]).all()
