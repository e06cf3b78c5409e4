"""Result files, the event log and the outcome metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim.engine import Simulation, run
from sim.events import Action, Actor, EventKind, EventLog
from sim.io import atomic_write, config_hash, write_run
from sim.metrics import summary
from sim.outcomes import classify
from sim.state import Outcome


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.json"

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_an_old_file_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new" and len(list(tmp_path.iterdir())) == 1


def test_result_files_get_the_umask_permissions_of_any_new_file(tmp_path):
    """Written files are readable as a plain new file would be (a temporary file made by
    ``mkstemp`` is private to its owner, and a rename kept that)."""
    import os

    old = os.umask(0o022)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        written = atomic_write(tmp_path / "out.json", lambda tmp: tmp.write_text("{}"))
    finally:
        os.umask(old)
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644


def test_data_files_survive_a_failure_while_drawing(tmp_path, monkeypatch):
    import sim.plots

    def fail(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(sim.plots, "save_figures", fail)
    result = run(config("days=30"))
    with pytest.raises(RuntimeError):
        write_run(result, tmp_path)
    for name in ("events.parquet", "daily.parquet", "summary.json"):
        assert (tmp_path / name).is_file()


def test_written_files_round_trip(tmp_path):
    result = run(config("days=90", "replicates=3"))
    write_run(result, tmp_path, figures=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "events.parquet"), result.events)
    daily = pd.read_parquet(tmp_path / "daily.parquet")
    pd.testing.assert_frame_equal(daily, result.daily_table)  # quantiles: 3 replicates
    assert len(daily) == 90 and "attacks_q50" in daily
    ensemble = pd.read_parquet(tmp_path / "ensemble.parquet")
    pd.testing.assert_frame_equal(ensemble, result.replicates)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["replicates"] == 3 and set(data["ensemble"]["outcome_shares"]) == {
        "deterrence_holds",
        "chronic_harassment",
        "spiral",
        "withdrawal",
        "war",
    }
    assert sum(data["ensemble"]["outcome_shares"].values()) == pytest.approx(1.0)


def test_config_hash_tracks_any_change():
    a, b = config(), config("doctrine.us.response_lag_days=3")
    assert config_hash(a) == config_hash(config()) != config_hash(b)


def test_classify_follows_the_ladder_thresholds():
    ladder = config().ladder  # spiral from rung 6, chronic from 2 attacks per 30 days
    outcome = np.array([Outcome.WAR, Outcome.WITHDRAWAL, 0, 0, 0])
    max_rung = np.array([8, 3, 6, 3, 3])
    attacks = np.array([50, 50, 50, 25, 23])
    names = classify(outcome, max_rung, attacks, 360, ladder)
    assert names.tolist() == [
        "war",
        "withdrawal",
        "spiral",
        "chronic_harassment",
        "deterrence_holds",
    ]


def test_event_log_keeps_order_and_names():
    log = EventLog()
    log.add(
        np.array([1, 0]),
        5,
        actor=Actor.US,
        action=Action.AIRSTRIKE,
        kind=EventKind.US_STRIKE_SYRIA,
        source=2,
        target=np.array([0, 1]),
        rung=4,
    )
    log.add(
        np.array([0]),
        2,
        actor=Actor.MILITIA,
        action=Action.ATTACK,
        kind=EventKind.BASE_ATTACK,
        weapon=0,
        source=0,
        target=1,
        killed_us=1,
        rung=3,
    )
    frame = log.to_frame(
        "2020-01-01", ["kh", "aah", "us"], ["asad", "erbil"], ["rocket"], ["rocket"]
    )
    assert frame[["replicate", "day"]].values.tolist() == [[0, 2], [0, 5], [1, 5]]
    assert frame.date.tolist()[0] == pd.Timestamp("2020-01-03")
    assert frame.source.tolist() == ["kh", "us", "us"]
    assert frame.target.tolist() == ["erbil", "erbil", "asad"]
    assert frame.weapon.tolist() == ["rocket", "", ""]
    assert frame.action.tolist() == ["rocket", "airstrike", "airstrike"]  # the weapon's action
    assert len(EventLog().to_frame("2020-01-01", [], [])) == 0


def test_summary_reports_the_highest_rung_and_first_death():
    sim = Simulation(config("seed=0"))
    result = sim.run()
    s = summary(result)
    daily = result.daily
    top = daily.rung.max()
    assert s["highest_rung"]["level"] == top
    assert s["highest_rung"]["day"] == int(daily.day[daily.rung == top].iloc[0])
    deaths = daily.day[daily.killed_us > 0]
    expected = int(deaths.iloc[0]) if len(deaths) else None
    assert s["first_us_death"]["day"] == expected
    assert s["counts"]["attacks"] == daily.attacks.sum()
