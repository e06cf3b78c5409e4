"""The notebook API: configurations named as on the command line, results as tables and figures."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim import cli
from sim.config import ConfigError
from sim.config import compose as compose_config
from sim.engine import run as engine_run
from sim.plots.ensemble import kaplan_meier


@pytest.fixture(scope="module")
def crisis() -> sim.Ensemble:
    return sim.run("scenario=dec2019_crisis", replicates=40, seed=2, days=120)


@pytest.fixture(scope="module")
def doctrines() -> sim.ScenarioComparison:
    return sim.compare_scenarios(
        {"red line": ["doctrine/us=red_line"], "max pressure": ["doctrine/us=max_pressure"]},
        "scenario=dec2019_crisis",
        replicates=40,
        seed=4,
        days=120,
    )


def _drawn(fig) -> bool:
    """A figure that renders to a non-empty PNG."""
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.tell() > 1000


# --- composition --------------------------------------------------------------------------


@pytest.mark.slow
def test_names_and_keywords_compose_as_the_command_line_does():
    api = sim.compose("scenario=dec2019_crisis", "doctrine/us=syria_only", replicates=5, seed=3)
    cli = compose_config("scenario=dec2019_crisis", "doctrine/us=syria_only", "replicates=5",
                         "seed=3")  # fmt: skip
    assert api == cli
    assert api.doctrine.us.name == "syria_only"  # the override wins over the preset's doctrine
    assert api.scenario.name == "dec2019_crisis"
    assert sim.compose(days=None) == compose_config()  # None keeps the configuration's value


@pytest.mark.slow
def test_run_is_the_engine_run_of_the_composed_configuration(crisis):
    direct = engine_run(compose_config("scenario=dec2019_crisis", "replicates=40", "seed=2",
                                       "days=120"))  # fmt: skip
    pd.testing.assert_frame_equal(
        crisis.replicates.drop(columns="attacks_per_month"), direct.replicates
    )
    pd.testing.assert_frame_equal(crisis.events, direct.events)
    pd.testing.assert_frame_equal(crisis.quantiles, direct.daily_quantiles)


@pytest.mark.slow
def test_replicates_seed_and_days_reach_the_run(crisis):
    cfg = crisis.config
    assert (cfg.replicates, cfg.seed, cfg.days) == (40, 2, 120)
    assert len(crisis.replicates) == 40
    assert crisis.rungs.shape == (120, 40)
    assert list(crisis.quantiles["day"]) == list(range(120))
    again = sim.run("scenario=dec2019_crisis", replicates=40, seed=2, days=120)
    pd.testing.assert_frame_equal(again.replicates, crisis.replicates)
    other = sim.run("scenario=dec2019_crisis", replicates=40, seed=3, days=120)
    assert not other.replicates.equals(crisis.replicates)


def test_daily_rungs_of_every_replicate_match_the_daily_series_kept(crisis):
    daily = crisis.daily.pivot(index="day", columns="replicate", values="rung")
    kept = daily.columns.to_numpy()
    assert len(kept) == 40  # one replicate in every sample slot
    assert np.array_equal(crisis.rungs[:, kept], daily.to_numpy())
    assert np.array_equal(crisis.rungs.max(axis=0), crisis.replicates["max_rung"].to_numpy())


def test_waiting_times_are_censored_at_the_horizon(crisis):
    deaths = crisis.survival("first_us_death")
    assert np.array_equal(deaths["observed"], crisis.replicates["killed_us"] > 0)
    assert (deaths.loc[~deaths["observed"], "duration"] == 120).all()
    rung5 = crisis.survival("rung5")
    assert np.array_equal(rung5["observed"], crisis.replicates["max_rung"] >= 5)
    reached = rung5[rung5["observed"]]
    for _, row in reached.iterrows():
        column = crisis.rungs[:, int(row["replicate"])]
        day = int(row["duration"])
        assert column[day] >= 5 and (day == 0 or column[:day].max() < 5)
    with pytest.raises(ConfigError, match="event = 'war'"):
        crisis.survival("war")


def test_repr_names_the_run_and_its_headline_numbers(crisis):
    text = repr(crisis)
    t = crisis.replicates
    assert "scenario dec2019_crisis" in text and "40 replicates" in text and "seed 2" in text
    assert "US decapitation" in text and "Iran calibrated" in text
    assert f"{t['attacks_per_month'].mean():.1f} attacks/month" in text
    assert f"P(rung 5+) {(t['max_rung'] >= 5).mean():.0%}" in text
    share = (t["outcome"] == "chronic_harassment").mean()
    assert f"chronic_harassment {share:.0%}" in text


@pytest.mark.slow
def test_import_sim_stays_light_and_sim_compare_stays_the_module():
    code = (
        "import sys, sim; light = 'sim.api' not in sys.modules and 'hydra' not in sys.modules; "
        "import sim.compare; from sim.compare import compare; "
        "print(light, type(sim.compare).__name__, callable(sim.compare_scenarios))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "module", "True"]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "settings", "message"),
    [
        (
            ["doctrine/us=nope"],
            {},
            "doctrine/us: no option 'nope' (choose from: decapitation, max_pressure",
        ),
        (["doctrine.us.kill_threshold=0"], {}, "doctrine.us.kill_threshold = 0: must be"),
        (["doctrine.us.no_such_key=1"], {}, "doctrine.us.no_such_key"),
        ([], {"replicates": 0}, "replicates = 0: must be a whole number >= 1"),
        ([], {"seed": "abc"}, "seed"),
        ([3], {}, "overrides[0] = 3: must be a string"),
    ],
)
def test_bad_overrides_raise_one_line_naming_the_field(overrides, settings, message):
    with pytest.raises(ConfigError) as info:
        sim.run(*overrides, **settings)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_comparison_arguments_are_refused():
    with pytest.raises(ConfigError, match="at least two"):
        sim.compare_scenarios(["doctrine/us=red_line"])
    with pytest.raises(ConfigError, match="replicates = 1"):
        sim.compare_scenarios(["doctrine/us=red_line", "doctrine/us=restraint"], replicates=1)
    with pytest.raises(ConfigError, match=r"doctrine/us: no option .* \(choose from: "):
        sim.compare_scenarios(["doctrine/us=red_line", "doctrine/us=bogus"], replicates=2)


def test_load_sweep_refuses_a_folder_without_a_sweep(tmp_path):
    with pytest.raises(ConfigError, match="no sweep.parquet there"):
        sim.load_sweep(tmp_path)


# --- comparisons ------------------------------------------------------------------------------


@pytest.mark.slow
def test_comparison_wraps_escalation_compare_on_common_draws(doctrines):
    from sim.compare import compare

    direct = compare(
        {"red line": ["doctrine/us=red_line"], "max pressure": ["doctrine/us=max_pressure"]},
        common=["scenario=dec2019_crisis", "days=120"],
        replicates=40,
        seed=4,
    )
    pd.testing.assert_frame_equal(doctrines.table, direct.table)
    assert doctrines.baseline == "red line"
    assert "2 variants on the same draws" in repr(doctrines)


def test_identical_variants_differ_by_exactly_zero():
    same = sim.compare_scenarios({"a": "days=60", "b": "days=60"}, replicates=20, seed=1)
    d = same.differences(["max_rung", "attacks_per_month", "killed_us", "p_rung5"])
    assert (d[["difference", "ci_low", "ci_high"]] == 0).all().all()


def test_paired_differences_are_the_mean_of_per_replicate_differences(doctrines):
    d = doctrines.differences(["attacks_per_month", "p_rung5"]).set_index("metric")
    base = doctrines.ensembles["red line"].replicates
    other = doctrines.ensembles["max pressure"].replicates
    expected = (other["attacks_per_month"] - base["attacks_per_month"]).mean()
    assert d.loc["attacks_per_month", "difference"] == pytest.approx(expected)
    share = (other["max_rung"] >= 5).mean() - (base["max_rung"] >= 5).mean()
    assert d.loc["p_rung5", "difference"] == pytest.approx(share)
    assert (d["ci_low"] <= d["difference"]).all() and (d["difference"] <= d["ci_high"]).all()
    with pytest.raises(ConfigError, match="metric = 'nope'"):
        doctrines.differences(["nope"])


# --- figures ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_methods_return_figures(crisis, doctrines):
    replicate = int(crisis.events["replicate"].iloc[0])
    figures = [
        crisis.plot_timeline(replicate),
        crisis.plot_map(replicate),
        crisis.plot_distributions(),
        crisis.plot_survival("first_us_death"),
        crisis.plot_survival("rung5"),
        crisis.plot_quantiles("attacks"),
        doctrines.plot(),
        doctrines.plot_distributions(),
        doctrines.plot_survival("rung5"),
        doctrines.plot_differences(),
    ]
    assert all(_drawn(fig) for fig in figures)
    with pytest.raises(ValueError, match="column = 'nope'"):
        crisis.plot_quantiles("nope")


def test_a_figure_of_a_replicate_whose_events_were_not_kept_is_refused():
    """Only the first ``output.event_sample`` replicates keep their events: a timeline of
    another would be empty, so it is refused with a way to keep it."""
    ensemble = sim.run(replicates=120, days=20, seed=1)
    with pytest.raises(ConfigError, match=r"replicate = 110: its events were not kept .*"
                       r"'output.events=all', or 'output.event_sample=111'"):  # fmt: skip
        ensemble.plot_timeline(replicate=110)
    with pytest.raises(ConfigError, match=r"replicate = 500: not a replicate of this run"):
        ensemble.plot_map(replicate=500)
    assert isinstance(ensemble.plot_timeline(replicate=99), Figure)


def test_kaplan_meier_without_censoring_is_the_share_still_waiting():
    rng = np.random.default_rng(0)
    durations = rng.integers(0, 50, size=200).astype(float)
    days, surv, low, high = kaplan_meier(durations, np.ones(200, bool))
    for day, s in zip(days[1:], surv[1:], strict=True):
        assert s == pytest.approx((durations > day).mean())
    assert (low <= surv + 1e-12).all() and (surv <= high + 1e-12).all()


def test_kaplan_meier_with_censoring_at_the_horizon_only_is_still_the_plain_share():
    """Every replicate is followed to the same horizon, so censoring removes no information."""
    rng = np.random.default_rng(1)
    day = rng.integers(0, 200, size=300).astype(float)
    observed = day < 120
    duration = np.where(observed, day, 120.0)
    days, surv, _, _ = kaplan_meier(duration, observed)
    assert surv[-1] == pytest.approx(1 - observed.mean())
    assert kaplan_meier(np.full(5, 120.0), np.zeros(5, bool))[1].tolist() == [1.0, 1.0]


# --- sweeps and the command line ----------------------------------------------------------------


def command_line(argv: list[str], monkeypatch) -> None:
    """``escalation-sim ARGV``, run by its ``main`` in this process (test_cli.py runs the
    command in processes of its own)."""
    monkeypatch.setattr(sys, "argv", ["escalation-sim", *argv])  # main sets it for Hydra
    cli.main(argv)


@pytest.mark.slow
def test_a_run_gives_what_the_command_line_gives(tmp_path, monkeypatch):
    args = ["scenario=dec2019_crisis", "doctrine/us=syria_only", "seed=5", "days=90"]
    command_line(
        [*args, f"hydra.run.dir={tmp_path}", "output.quiet=true", "output.figures=false"],
        monkeypatch,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    ensemble = sim.run(*args)
    row = ensemble.replicates.iloc[0]
    assert summary["doctrines"]["us"] == "syria_only"
    assert summary["counts"]["attacks"] == row["attacks"]
    assert summary["counts"]["killed_us"] == row["killed_us"]
    assert summary["highest_rung"]["level"] == row["max_rung"]
    events = pd.read_parquet(tmp_path / "events.parquet")
    assert len(events) == len(ensemble.events)


@pytest.mark.slow
def test_load_sweep_reads_a_multirun(tmp_path, monkeypatch):
    sweep_dir = tmp_path / "sweep"
    monkeypatch.chdir(tmp_path)
    command_line(
        ["-m", "experiment=deterrence_threshold", "replicates=4", "days=30",
         "doctrine.us.kill_threshold=1,3", "doctrine.us.response_lag_days=0,14",
         f"hydra.sweep.dir={sweep_dir}", "output.quiet=true"],
        monkeypatch,
    )  # fmt: skip
    sweep = sim.load_sweep(sweep_dir)
    assert sweep.keys == ("doctrine.us.kill_threshold", "doctrine.us.response_lag_days")
    assert len(sweep.table) == 4 * 4
    assert sweep.table.groupby(list(sweep.keys)).size().eq(4).all()
    assert sim.load_sweep(sweep_dir / "sweep.parquet").table.equals(sweep.table)
    regimes = sweep.regimes()
    assert len(regimes) == 4 and np.allclose(regimes.sum(axis=1), 1.0)
    assert "4/4 jobs finished" in repr(sweep)
    figures = [sweep.plot_heatmaps(), sweep.plot_regimes(),
               *[sweep.plot_lines(k) for k in sweep.keys]]  # fmt: skip
    assert all(_drawn(fig) for fig in figures)
    with pytest.raises(ConfigError, match="key = 'seed'"):
        sweep.plot_lines("seed")


# --- the reference page -------------------------------------------------------------------------

API_DOC = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()


@pytest.mark.slow
def test_api_doc_examples_run_and_show_what_they_print(capsys):
    blocks = re.findall(r"```python\n(.*?)```", API_DOC, flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert "Ensemble: scenario dec2019_crisis, 150 days from 2019-10-01, seed 0" in printed
    assert namespace["crisis"].config.doctrine.us.name == "syria_only"
    assert set(namespace["table"]["metric"]) == {
        "max_rung", "attacks_per_month", "killed_us", "p_rung5"
    }  # fmt: skip
    quoted = re.search(r"prints ``(.*?)``", API_DOC, flags=re.S).group(1)
    assert " ".join(quoted.split()) in printed


@pytest.mark.slow
def test_api_doc_posterior_example_runs_on_a_calibrations_folder(tmp_path):
    """The posterior example, on a folder laid out as escalation-calibrate leaves it."""
    block = next(
        b
        for b in re.findall(r"```python no-run\n(.*?)```", API_DOC, flags=re.S)
        if "load_posterior" in b
    )
    folder = tmp_path / "public"
    folder.mkdir()
    pd.DataFrame(
        {"actors.convoys_per_day": [0.5, 2.0], "weight": [0.25, 0.75], "generation": [3, 3]}
    ).to_parquet(folder / "posterior.parquet")
    namespace: dict = {}
    code = block.replace('"results/calibration/public"', repr(str(folder)))
    exec(compile(code, "docs/api.md", "exec"), namespace)  # noqa: S102
    assert set(namespace["draws"]) == {"actors.convoys_per_day"}
    assert set(namespace["draws"]["actors.convoys_per_day"]) == {0.5, 2.0}
    assert len(namespace["result"].replicates) == 1000


def test_api_doc_sweep_example_names_what_a_sweep_has():
    block = re.search(r"```python no-run\n(.*?)```", API_DOC, flags=re.S).group(1)
    for name in re.findall(r"(?:^|= )sweep\.(\w+)", block, flags=re.M):
        assert hasattr(sim.Sweep, name) or name in {"table", "summary"}, name
    for name in re.findall(r"sim\.(\w+)\(", API_DOC):
        assert hasattr(sim, name), name


# --- figures of a sweep over a config group (options with no order) ------------------------------


def _group_sweep_table() -> pd.DataFrame:
    """A sweep.parquet-like table over a number and a config group with long option names."""
    rng = np.random.default_rng(3)
    outcomes = ["chronic_harassment", "spiral", "war"]
    rows = [
        {
            "doctrine.us.decapitation_probability": p,
            "doctrine/iran": iran,
            "replicate": r,
            "max_rung": int(rng.integers(2, 8)),
            "attacks_per_month": float(rng.uniform(4, 11)),
            "outcome": str(rng.choice(outcomes)),
        }
        for p in (0.0, 0.3)
        for iran in ("calibrated", "restrain_proxies", "revenge", "talks_first")
        for r in range(20)
    ]
    return pd.DataFrame(rows)


def test_regime_bars_of_a_config_group_have_labels_that_do_not_overlap():
    from sim.plots.ensemble import regime_figure

    table = _group_sweep_table()
    keys = ["doctrine.us.decapitation_probability", "doctrine/iran"]
    shares = pd.crosstab([table[k] for k in keys], table["outcome"], normalize="index")
    fig = regime_figure(shares)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].get_xticklabels()]
    assert len(boxes) == 8
    for left, right in zip(boxes[:-1], boxes[1:], strict=True):
        assert not left.overlaps(right), (left, right)


def test_interval_plot_joins_numbers_with_a_line_and_options_not():
    from sim.plots.ensemble import sweep_interval_figure

    table = _group_sweep_table()
    joined = sweep_interval_figure(table, "doctrine.us.decapitation_probability")
    assert all(
        any(line.get_linestyle() == "-" and len(line.get_xdata()) == 2 for line in ax.lines)
        for ax in joined.axes
    )
    options = sweep_interval_figure(table, "doctrine/iran")
    for ax in options.axes:
        for line in ax.lines:  # markers and error bars only: no line from one option to the next
            assert line.get_linestyle() == "None" or len(line.get_xdata()) <= 2
            xs = np.asarray(line.get_xdata(), float)
            assert line.get_linestyle() == "None" or len(set(xs)) == 1
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "calibrated", "restrain_proxies", "revenge", "talks_first"
        ]  # fmt: skip
