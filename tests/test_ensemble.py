"""Ensembles: what a batched run keeps, and that keeping less changes no replicate's numbers."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim import cli
from sim.config import ConfigError, compose
from sim.daily import DAILY_STATS, daily_columns
from sim.engine import Simulation, run
from sim.events import COLUMNS
from sim.metrics import daily_quantiles

PROG = Path(sys.executable).with_name("escalation-sim")


def _rows(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    return frame[frame.replicate == k].reset_index(drop=True)


# --- what is kept ----------------------------------------------------------------------------


@pytest.mark.slow
def test_sample_replicates_have_the_events_and_days_of_a_single_run():
    cfg = config("replicates=130", "days=150", "output.event_sample=100")
    batch = run(cfg)
    assert set(batch.events.replicate) <= set(range(100)) and batch.events.replicate.max() == 99
    assert sorted(batch.daily.replicate.unique()) == list(range(100))
    assert len(batch.replicates) == 130
    for k in (0, 41, 99):
        alone = Simulation(cfg, replicates=[k]).run()
        pd.testing.assert_frame_equal(_rows(batch.events, k), alone.events)
        pd.testing.assert_frame_equal(_rows(batch.daily, k), alone.daily)


def test_replicate_k_is_the_same_beside_thousands_of_others():
    # above ~4,400 replicates a single BLAS product would switch kernels and summation
    # order (tests/test_kernels.py); the core keeps every replicate on the same one. The few
    # include replicates far from their position among the many: a replicate's numbers
    # follow from its number, not from where it sits in the ensemble
    cfg = config("days=60", "output.events=all")
    many = Simulation(cfg, replicates=range(4500)).run()
    ids = [*range(30), 73, 2048, 4499]
    few = Simulation(cfg, replicates=ids).run()
    pd.testing.assert_frame_equal(many.replicates.iloc[ids].reset_index(drop=True), few.replicates)
    kept = many.events[many.events.replicate.isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, few.events)


def _counts_from_events(events: pd.DataFrame, replicates: np.ndarray) -> pd.DataFrame:
    """The per-replicate counts recomputed from a full event log."""
    attack = events.kind.isin(["base_attack", "convoy_ied"])  # not assaults, not splits
    by = events.assign(
        attacks=attack,
        attacks_rocket=attack & (events.weapon == "rocket"),
        attacks_ied=attack & (events.weapon == "ied"),
        us_strikes=events.kind.isin(["us_strike_iraq", "us_strike_syria"]),
        decapitations=events.kind == "decapitation",
    ).groupby("replicate")
    counts = by[
        [
            "attacks",
            "attacks_rocket",
            "attacks_ied",
            "killed_us",
            "wounded_us",
            "us_strikes",
            "decapitations",
        ]
    ].sum()
    strikes = events[events.kind == "iran_direct_strike"].groupby("replicate").day.nunique()
    counts["iran_direct_strikes"] = strikes
    return counts.reindex(replicates, fill_value=0).fillna(0).astype(np.int64)


@pytest.mark.slow
def test_counts_do_not_depend_on_what_is_kept():
    base = ("replicates=40", "days=300", "seed=4")
    tables = {
        (events, daily): run(
            config(
                *base, f"output.events={events}", f"output.daily={daily}", "output.event_sample=3"
            )
        )
        for events, daily in (("all", "full"), ("sample", "quantiles"), ("none", "quantiles"))
    }
    full = tables["all", "full"]
    for key, result in tables.items():
        pd.testing.assert_frame_equal(result.replicates, full.replicates, obj=str(key))
    assert set(tables["sample", "quantiles"].events.replicate) <= {0, 1, 2}
    assert len(tables["none", "quantiles"].events) == 0
    # and the tallies say what the full event log says
    recomputed = _counts_from_events(full.events, full.replicates.replicate.to_numpy())
    table = full.replicates.set_index("replicate")
    assert table.attacks.sum() > 100 and table.us_strikes.sum() > 0
    for column in recomputed:
        assert (table[column] == recomputed[column]).all(), column


@pytest.mark.slow
def test_quantile_mode_has_the_documented_columns_and_numpy_quantiles():
    base = ("replicates=60", "days=45", "seed=2")
    full = run(config(*base, "output.daily=full"))
    quant = run(config(*base, "output.daily=quantiles", "output.event_sample=5"))
    assert full.daily_quantiles is None and len(full.daily) == 60 * 45
    q = quant.daily_quantiles
    columns = daily_columns(quant.params.weapon_names)
    expected = ["day", "date"] + [f"{c}_{s}" for c in columns for s in DAILY_STATS]
    assert list(q.columns) == expected and len(q) == 45
    assert {"attacks_q05", "attacks_q25", "attacks_q50", "attacks_q75", "attacks_q95"} <= set(q)
    assert q.date.iloc[0] == pd.Timestamp("2019-10-01")
    for day in (0, 17, 44):
        values = full.daily[full.daily.day == day]
        for column in ("attacks", "tension", "militia_fighters", "us_resolve", "rung"):
            np.testing.assert_allclose(
                q.loc[day, f"{column}_q50"], np.median(values[column]), rtol=1e-12
            )
            np.testing.assert_allclose(
                q.loc[day, f"{column}_q95"], np.quantile(values[column], 0.95), rtol=1e-12
            )
            np.testing.assert_allclose(q.loc[day, f"{column}_mean"], values[column].mean())
    # the same table from the full series, and the sample's full series kept
    pd.testing.assert_frame_equal(daily_quantiles(full.daily, "2019-10-01"), q)
    pd.testing.assert_frame_equal(quant.daily, full.daily[full.daily.replicate < 5])
    assert quant.daily_table is q and full.daily_table is full.daily


def test_one_replicate_keeps_its_full_daily_series():
    assert Simulation(config("days=20")).daily_mode == "full"
    assert Simulation(config("days=20", "replicates=2")).daily_mode == "quantiles"


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("output.events=foo", "output.events = 'foo': must be one of all, none, sample"),
        ("output.daily=weekly", "output.daily = 'weekly': must be one of auto, full, quantiles"),
        (
            "output.event_sample=0",
            "output.event_sample = 0: must be a whole number >= 1 and <= 4294967296",
        ),
    ],
)
def test_output_modes_are_validated(override, message):
    with pytest.raises(ConfigError) as err:
        compose(override)
    assert str(err.value) == message


# --- the progress bar ------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "quiet", "shown"),
    [(_Terminal, False, True), (io.StringIO, False, False), (_Terminal, True, False)],
)
def test_progress_bar_only_on_a_terminal(monkeypatch, stream, quiet, shown):
    err = stream()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    cfg = config("days=5", "replicates=3", f"output.quiet={str(quiet).lower()}")
    ticks = []
    with cli.progress_bar(cfg) as progress:
        run(cfg, progress=lambda day: (ticks.append(day), progress(day)))
    assert ticks == [1, 2, 3, 4, 5]
    assert ("3 replicates" in err.getvalue()) is shown, err.getvalue()


# --- the command line ------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [str(PROG), *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def ensemble_runs(tmp_path_factory):
    """The same 300-replicate, 60-day ensemble written with a sample of events, by the
    command in a process of its own, and with none, by the command's ``main`` in this
    process (that every events mode gives the same tables is tested in-process above)."""
    cwd = tmp_path_factory.mktemp("ensemble")
    size = ["replicates=300", "days=60"]
    proc = _cli(*size, f"hydra.run.dir={cwd / 'sample'}", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    argv = [*size, f"hydra.run.dir={cwd / 'none'}", "output.figures=false", "output.events=none"]
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.setattr(sys, "argv", [str(PROG), *argv])  # main sets it for Hydra
        cli.main(argv)
    return {"sample": (proc, cwd / "sample"), "none": (None, cwd / "none")}


@pytest.mark.slow
def test_cli_ensemble_writes_every_file(ensemble_runs):
    proc, out = ensemble_runs["sample"]
    for name in (
        "events.parquet",
        "daily.parquet",
        "ensemble.parquet",
        "summary.json",
        "figures/timeline.png",
        "figures/map.png",
    ):
        assert (out / name).is_file(), name
    assert "ensemble.parquet" in proc.stdout.splitlines()[1]
    assert "300 replicates" in proc.stdout and "Across replicates:" in proc.stdout
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    ensemble = pd.read_parquet(out / "ensemble.parquet")
    assert len(ensemble) == 300 and ensemble.replicate.tolist() == list(range(300))
    for column in ("attacks", "attacks_rocket", "killed_us", "us_strikes", "max_rung", "outcome"):
        assert column in ensemble, column
    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == 60 and "attacks_q50" in daily and "replicate" not in daily
    events = pd.read_parquet(out / "events.parquet")
    assert events.replicate.between(0, 99).all() and events.replicate.nunique() > 50
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replicates"] == 300 and summary["counts"]["attacks"] == ensemble.attacks[0]


@pytest.mark.slow
def test_cli_events_none_writes_an_empty_log_and_the_same_counts(ensemble_runs):
    tables = {
        mode: pd.read_parquet(out / "ensemble.parquet") for mode, (_, out) in ensemble_runs.items()
    }
    pd.testing.assert_frame_equal(tables["none"], tables["sample"])

    none = pd.read_parquet(ensemble_runs["none"][1] / "events.parquet")
    assert len(none) == 0
    assert list(none.columns) == [*COLUMNS[:2], "date", *COLUMNS[2:]]
