"""Figures: both PNGs are written whole and readable; the axes carry the ladder and the sites."""

from __future__ import annotations

import dataclasses

import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import config

from sim import plots
from sim.engine import run


@pytest.fixture(scope="module")
def result():
    return run(config("days=120"))


def _site_collections(ax):
    return [c for c in ax.collections if (c.get_gid() or "").startswith("sites:")]


@pytest.mark.slow
def test_save_figures_writes_two_readable_pngs_of_the_expected_size(tmp_path, result):
    out = tmp_path / "figures"
    paths = plots.save_figures(result, out)
    assert [p.name for p in paths] == ["timeline.png", "map.png"]
    # nothing else is left behind (no temporary files)
    assert sorted(p.name for p in out.iterdir()) == ["map.png", "timeline.png"]
    for path, (width, height) in zip(paths, (plots.TIMELINE_SIZE, plots.MAP_SIZE), strict=True):
        assert path.stat().st_size > 10_000
        image = mpimg.imread(path)
        assert image.shape[:2] == (round(height * plots.DPI), round(width * plots.DPI))
        assert image.std() > 0  # not a blank canvas


def test_a_failed_drawing_leaves_no_partial_file(tmp_path, result, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(plots, "map_figure", broken)
    with pytest.raises(RuntimeError):
        plots.save_figures(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.png"]


def test_timeline_rung_axis_names_every_rung_of_the_ladder(result):
    fig = plots.timeline_figure(result)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    rungs = result.config.ladder.rungs
    assert labels == [f"{r.level} {r.name}" for r in sorted(rungs, key=lambda r: r.level)]


def test_map_draws_one_marker_per_site_at_its_coordinates(result):
    theatre = result.params.theatre
    fig = plots.map_figure(result)
    offsets = np.concatenate([c.get_offsets() for c in _site_collections(fig.axes[0])])
    assert len(offsets) == len(theatre.site_names)
    expected = np.column_stack([theatre.lon, theatre.lat])
    np.testing.assert_allclose(
        offsets[np.lexsort(offsets.T[::-1])], expected[np.lexsort(expected.T[::-1])]
    )


@pytest.mark.slow
def test_sites_closed_during_the_run_are_drawn_apart():
    # lethal rockets and a consolidation that starts the day after the first US death, so
    # sites close early in the run
    closing = run(
        config(
            "days=120",
            "weapons.rocket.kill_per_munition=0.3",
            "doctrine.us.posture_trigger=first_us_death",
            "doctrine.us.war_if_iran_kills_us=0",
            "doctrine.us.war_if_iran_strikes_without_deaths=0",
            "doctrine.us.consolidation_lag_days=1",
            "doctrine.us.consolidation_interval_days=5",
        )
    )
    closed = set(closing.events.loc[closing.events["kind"] == "site_closed", "target"])
    assert closed, "the forced chain must close a site before day 120"
    theatre = closing.params.theatre
    ax = plots.map_figure(closing).axes[0]
    collections = _site_collections(ax)
    hollow = np.concatenate([c.get_offsets() for c in collections if c.get_gid() == "sites:closed"])
    index = [theatre.site_index[name] for name in closed]
    np.testing.assert_allclose(
        np.sort(hollow, axis=0), np.sort(np.column_stack([theatre.lon, theatre.lat])[index], axis=0)
    )
    assert sum(len(c.get_offsets()) for c in collections) == len(theatre.site_names)


@pytest.mark.slow
def test_sites_handed_over_before_the_start_are_drawn_closed():
    """biden2021 starts with Qayyarah, K1 and Taji handed over: hollow, under their label."""
    handed = run(config("scenario=biden2021", "days=10"))
    names = handed.config.scenario.sites_handed_over
    assert sorted(names) == ["k1", "qayyarah", "taji"]
    theatre = handed.params.theatre
    ax = plots.map_figure(handed).axes[0]
    hollow = {
        tuple(xy)
        for c in _site_collections(ax)
        if c.get_gid() == "sites:closed"
        for xy in c.get_offsets()
    }
    index = theatre.site_index
    assert hollow >= {(theatre.lon[index[n]], theatre.lat[index[n]]) for n in names}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "US site closed or handed over" in labels
    # the default scenario holds every site at the start: the label says so
    plain = plots.map_figure(run(config("days=10"))).axes[0]
    assert "US site closed or handed over" not in [
        t.get_text() for t in plain.get_legend().get_texts()
    ]


@pytest.mark.slow
def test_runs_without_events_still_draw(tmp_path):
    short = run(config("days=2"))
    quiet = dataclasses.replace(short, events=short.events.iloc[0:0])
    for figure in (plots.timeline_figure, plots.map_figure):
        figure(short)
    paths = plots.save_figures(quiet, tmp_path)
    assert all(p.stat().st_size > 0 for p in paths)
    fig = plots.timeline_figure(quiet)
    assert len(fig.axes[0].get_yticklabels()) == len(quiet.config.ladder.rungs)


@pytest.mark.slow
def test_only_the_requested_replicate_is_drawn():
    ensemble = run(config("replicates=3", "days=60"))
    table = ensemble.replicates.set_index("replicate")
    for k in (0, 2):
        fig = plots.map_figure(ensemble, replicate=k)
        (counts,) = [t.get_text() for t in fig.axes[0].texts if "Militia attacks" in t.get_text()]
        assert f"Militia attacks: {table.loc[k, 'attacks']}\n" in counts
        title = plots.timeline_figure(ensemble, replicate=k).get_suptitle()
        assert f"replicate {k}," in title
    with pytest.raises(ValueError, match="replicate 5"):
        plots.timeline_figure(ensemble, replicate=5)


def test_figures_leave_pyplot_alone(result):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.timeline_figure(result)
    plots.map_figure(result)
    assert plt.get_fignums() == before


def test_map_counts_match_the_run_summary():
    """The map's box counts as ``ensemble.parquet`` does: one Iranian salvo on two bases is
    one missile strike, not one per base (drawn for the first replicate with a salvo)."""
    full = run(config("replicates=60", "output.events=all"))
    events = full.events
    salvo = events[events["kind"] == "iran_direct_strike"]
    k = int(salvo["replicate"].min())
    salvo = salvo[salvo["replicate"] == k]
    assert len(salvo) > salvo["day"].nunique()  # several bases on one day
    row = full.replicates.set_index("replicate").loc[k]
    text = [t.get_text() for t in plots.map_figure(full, replicate=k).axes[0].texts]
    box = next(t for t in text if t.startswith("This replicate"))
    assert f"Iranian missile strikes: {row['iran_direct_strikes']}\n" in box + "\n"
    assert f"Militia attacks: {row['attacks']}\n" in box + "\n"
    assert f"Israeli strikes: {row['israeli_strikes']}\n" in box + "\n"


def test_map_label_geometry_matches_matplotlib_boxes():
    """The map's label placement scores every candidate box at once: its overlap areas and
    scaled boxes are those of matplotlib's ``Bbox`` (as the one-box-at-a-time code had)."""
    from matplotlib.transforms import Bbox

    from sim.plots.map_labels import _overlaps, _scaled
    from sim.plots.style import _overlap

    rng = np.random.default_rng(4)
    low = rng.uniform(0, 100, (30, 2))
    boxes = np.hstack([low, low + rng.uniform(0.5, 40, (30, 2))])
    as_bbox = [Bbox.from_extents(*b) for b in boxes]
    areas = _overlaps(boxes, boxes)
    for i, a in enumerate(as_bbox):
        for j, b in enumerate(as_bbox):
            assert areas[i, j] == pytest.approx(_overlap(a, b))
        assert np.allclose(_scaled(boxes[i], 8)[0], a.expanded(8, 8).extents)
    assert (areas > 0).sum() > len(boxes)  # some boxes do overlap
