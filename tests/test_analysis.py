"""The analyses of sim.analysis: sensitivity (SALib), the doctrine tournament, scenario
discovery (PRIM), on functions and designs whose answers are known, and their commands."""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from sim.analysis import discover, sensitivity, tournament
from sim.analysis.factors import Factor, check_factors, latin_hypercube, to_values
from sim.analysis.outputs import per_replicate
from sim.analysis.sensitivity import function_evaluator
from tests.conftest import config

# --- sensitivity -------------------------------------------------------------------------------

#: the Ishigami function's indices for a = 7, b = 0.1 (Ishigami and Homma 1990; Saltelli et
#: al. 2008): S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
#: its second-order indices: only x1 and x3 interact (S2 = S_T3 - S_3 = 0.2437)
ISHIGAMI_S2 = {("x1", "x2"): 0.0, ("x1", "x3"): 0.2437, ("x2", "x3"): 0.0}


def test_sobol_recovers_the_ishigami_indices():
    factors = [Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    result = sensitivity.sensitivity(
        factors, function_evaluator(Ishigami.evaluate), "sobol", n=2048, seed=1
    )
    table = result.indices.set_index("parameter")
    assert len(result.points) == 2048 * (3 + 2)
    np.testing.assert_allclose(table["S1"], ISHIGAMI_S1, atol=0.04)
    np.testing.assert_allclose(table["ST"], ISHIGAMI_ST, atol=0.04)
    assert (table["S1_conf"] < 0.1).all() and (table["ST_conf"] < 0.1).all()
    assert table.loc["x1", "rank"] == 1  # the largest total index


def test_the_same_seed_gives_the_same_intervals_seed_0_included():
    """SALib reads a bootstrap seed of 0 as none; the run seed 0 (the default) must still
    give the same confidence intervals at every run."""
    factors = [Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    runs = [
        sensitivity.sensitivity(factors, function_evaluator(Ishigami.evaluate), "sobol", 256, 0)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].indices, runs[1].indices, check_exact=True)


def test_sobol_recovers_the_ishigami_second_order_indices():
    factors = [Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    result = sensitivity.sensitivity(
        factors, function_evaluator(Ishigami.evaluate), "sobol", n=1024, seed=1, second_order=True
    )
    assert len(result.points) == 1024 * (2 * 3 + 2)
    pairs = result.second_order.set_index(["parameter_a", "parameter_b"])
    assert list(result.second_order.columns) == list(sensitivity.SECOND_ORDER_COLUMNS)
    assert set(pairs.index) == set(ISHIGAMI_S2)
    known = pd.Series(ISHIGAMI_S2).reindex(pairs.index)
    # at N = 1,024 the estimates of 20 seeds stayed within 0.035 of the known values
    np.testing.assert_allclose(pairs["S2"], known, atol=0.05)
    assert ((pairs["S2"] - known).abs() <= pairs["S2_conf"]).all()  # each interval covers it
    assert (pairs["S2_conf"] < 0.15).all()
    top = result.interactions("y").iloc[0]
    assert (top.parameter_a, top.parameter_b) == ("x1", "x3")
    # the first-order and total indices of the same sample are still right
    table = result.indices.set_index("parameter")
    np.testing.assert_allclose(table["ST"], ISHIGAMI_ST, atol=0.05)


def test_morris_ranks_a_planted_influential_parameter_first():
    factors = [Factor(f"p{i}", 0.0, 1.0) for i in range(6)]

    def planted(x: np.ndarray) -> np.ndarray:  # p3 matters most, p0 a little, p5 by interaction
        return 10 * x[:, 3] + 1.0 * x[:, 0] + 0.5 * x[:, 1] * x[:, 5]

    result = sensitivity.sensitivity(factors, function_evaluator(planted), "morris", n=20, seed=3)
    ranked = result.indices.sort_values("rank")["parameter"].tolist()
    assert ranked[:2] == ["p3", "p0"]
    assert result.indices.set_index("parameter").loc["p3", "mu_star"] == pytest.approx(10, rel=0.01)


def test_an_output_that_does_not_vary_gets_no_indices():
    factors = [Factor("a", 0.0, 1.0), Factor("b", 0.0, 1.0)]
    flat = function_evaluator(lambda x: np.zeros(len(x)))
    result = sensitivity.sensitivity(factors, flat, "sobol", n=8, seed=0)
    assert result.indices["ST"].isna().all()


def test_log_factors_and_whole_numbers_are_sampled_in_their_range():
    factors = check_factors(
        [
            Factor("doctrine.us.response_lag_days", 0, 10),
            Factor("actors.convoys_per_day", 0.25, 4.0, log=True),
        ],
        config(),
    )
    values = latin_hypercube(factors, 200, seed=0)
    lags = values["doctrine.us.response_lag_days"]
    assert lags.dtype == np.int64 and lags.min() == 0 and lags.max() == 10
    convoys = values["actors.convoys_per_day"]
    assert convoys.between(0.25, 4.0).all()
    assert (np.log(convoys) < 0).mean() == pytest.approx(0.5, abs=0.01)  # log-uniform: median 1
    same = to_values(factors, np.array([[3.4, 0.0]]))
    assert same.iloc[0].tolist() == [3, 1.0]


def test_days_to_the_first_us_death_are_censored_at_the_horizon():
    table = pd.DataFrame(
        {
            "point": [0, 0],
            "replicate": [0, 1],
            "first_us_death_day": [12, -1],
            "killed_us": [2, 0],
            "outcome": ["war", "spiral"],
            "max_rung": [8, 5],
        }
    )
    values = per_replicate(table, 90, ["days_to_first_us_death", "p_war", "p_rung7", "us_deaths"])
    assert values["days_to_first_us_death"].tolist() == [12, 90]
    assert values["p_war"].tolist() == [1, 0]
    assert values["p_rung7"].tolist() == [1, 0]


# --- the tournament ----------------------------------------------------------------------------


def test_regret_and_robustness_by_hand():
    # two US doctrines, one Iranian doctrine, two worlds
    points = pd.DataFrame(
        {
            "us": ["A", "B", "A", "B"],
            "iran": ["I"] * 4,
            "world": [0, 0, 1, 1],
            "us_deaths": [1.0, 2.0, 5.0, 3.0],
            "p_war": [0.0, 0.0, 0.1, 0.0],
            "days_to_first_us_death": [100.0, 80.0, 50.0, 200.0],  # more is better
        }
    )
    outputs = ["us_deaths", "p_war", "days_to_first_us_death"]
    pairs, ranking = tournament.score(points, outputs, {"us_deaths": 3, "p_war": 0.05})
    ranking = ranking.set_index("us")
    # world 0: A best in deaths (regret A 0, B 1); world 1: B best (A 2, B 0)
    assert (
        ranking.loc["A", "max_regret_us_deaths"] == 2
        and ranking.loc["A", "mean_regret_us_deaths"] == 1
    )
    assert (
        ranking.loc["B", "max_regret_us_deaths"] == 1
        and ranking.loc["B", "mean_regret_us_deaths"] == 0.5
    )
    assert ranking.loc["A", "max_regret_p_war"] == pytest.approx(0.1)
    assert ranking.loc["B", "max_regret_p_war"] == 0
    # days: world 0 best 100 (A), world 1 best 200 (B): regrets A 0 and 150, B 20 and 0
    assert ranking.loc["A", "max_regret_days_to_first_us_death"] == 150
    assert ranking.loc["B", "mean_regret_days_to_first_us_death"] == 10
    # robust: A within both thresholds in world 0 only (5 deaths in world 1); B in both
    assert ranking.loc["A", "robustness"] == 0.5 and ranking.loc["B", "robustness"] == 1.0
    assert ranking.loc["B", "rank"] == 1
    # worst decile of two worlds: the single worst world
    assert ranking.loc["A", "worst_us_deaths"] == 5 and ranking.loc["B", "worst_us_deaths"] == 3
    assert ranking.loc["B", "worst_days_to_first_us_death"] == 80
    assert ranking.loc["A", "mean_us_deaths"] == 3
    assert pairs.set_index("us").loc["A", "robustness"] == 0.5


def test_worst_decile_is_the_mean_of_the_worst_tenth():
    values = np.arange(1, 21, dtype=float)  # 20 worlds: the worst tenth is 2 of them
    assert tournament.worst_mean(values, lower_is_better=True) == 19.5
    assert tournament.worst_mean(values, lower_is_better=False) == 1.5


# --- scenario discovery ------------------------------------------------------------------------


@pytest.mark.slow
def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(0, 1, size=(3000, 3)), columns=["a", "b", "c"])
    inside = (x["a"] > 0.6) & (x["b"] < 0.3)
    noise = rng.uniform(size=len(x)) < 0.03
    y = (inside ^ noise).to_numpy()
    box = discover.find_box(x, y, "war", min_coverage=0.8)
    limits = box.limits.set_index("parameter")
    assert limits.loc["a", "low"] == pytest.approx(0.6, abs=0.05)
    assert limits.loc["b", "high"] == pytest.approx(0.3, abs=0.05)
    assert "c" not in limits.index or limits.loc["c", "high"] - limits.loc["c", "low"] > 0.85
    assert box.stats["coverage"] >= 0.8 and box.stats["density"] > 0.85


@pytest.mark.slow  # the first use of the EMA Workbench and scikit-learn loads them
def test_feature_scores_rank_the_parameter_that_drives_the_outcome():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.uniform(0, 1, size=(300, 3)), columns=["a", "b", "c"])
    shares = pd.DataFrame({"war": x["b"] ** 2 + 0.05 * rng.uniform(size=300)})
    scores = discover.feature_scores(x, shares, seed=0)
    assert scores["war"].idxmax() == "b"
    assert scores["war"].sum() == pytest.approx(1.0)


# --- the commands, end to end at a tiny size ------------------------------------------------------

TINY = ["days=30", "--replicates", "2", "--quiet"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "argv", "files"),
    [
        (
            sensitivity,
            ["--method", "sobol", "--n", "2"],
            [
                "sensitivity_indices.csv",
                "sensitivity_indices.parquet",
                "sensitivity.png",
                "sensitivity.md",
                "sensitivity.json",
                "design_results.parquet",
            ],
        ),
        (
            sensitivity,
            [
                "--method",
                "morris",
                "--n",
                "2",
                "--outputs",
                "p_war,us_deaths",
                "--param",
                "doctrine.us.response_lag_days=0:10",
            ],
            ["sensitivity_indices.csv", "sensitivity.png", "sensitivity.md"],
        ),
        (
            tournament,
            ["--us", "restraint,red_line", "--iran", "calibrated,revenge", "--worlds", "2"],
            [
                "tournament_ranking.csv",
                "tournament_pairs.csv",
                "tournament_worlds.csv",
                "tournament.png",
                "tournament.md",
                "tournament.json",
            ],
        ),
        (
            discover,
            ["--points", "12", "--outcomes", "spiral,chronic_harassment,war"],
            [
                "prim_boxes.csv",
                "prim_trajectories.csv",
                "feature_scores.csv",
                "discovery.md",
                "discovery.json",
                "discovery_points.parquet",
            ],
        ),
    ],
    ids=["sobol", "morris", "tournament", "discover"],
)
def test_each_command_writes_its_files(command, argv, files, tmp_path):
    out = tmp_path / "out"
    command.main([*TINY, *argv, "--out", str(out)])
    for name in files:
        assert (out / name).stat().st_size > 0, name
    report = next(out.glob("*.md")).read_text()
    assert report.startswith("# ") and "seed 0" in report


@pytest.mark.slow
def test_sobol_with_second_order_writes_the_pairs(tmp_path):
    out = tmp_path / "out"
    params = ["doctrine.us.decapitation_probability=0.1:0.6", "actors.convoys_per_day=0.25:4:log"]
    argv = ["--n", "2", "--second-order", "--outputs", "attacks_per_month,p_war"]
    sensitivity.main([*TINY, *argv, *(f"--param={p}" for p in params), "--out", str(out)])
    pairs = pd.read_csv(out / "second_order.csv")
    assert list(pairs.columns) == list(sensitivity.SECOND_ORDER_COLUMNS)
    assert pairs["output"].tolist() == ["attacks_per_month", "p_war"]  # one pair of two
    assert pd.read_parquet(out / "second_order.parquet").shape == pairs.shape
    meta = json.loads((out / "sensitivity.json").read_text())
    assert meta["second_order"] and meta["points"] == 2 * (2 * 2 + 2)
    report = (out / "sensitivity.md").read_text()  # p_war does not vary in 30 days
    assert "Largest interaction: `doctrine.us.decapitation_probability` x `actors." in report


BAD = [
    (
        sensitivity,
        ["--param", "doctrine.us.no_such_thing=0:1"],
        "--param doctrine.us.no_such_thing: not a parameter of the configuration",
    ),
    (
        sensitivity,
        ["--param", "doctrine.us.decapitation_probability=0.1:1.5"],
        "--param doctrine.us.decapitation_probability: high = 1.5: must be a probability in [0, 1]",
    ),
    (
        sensitivity,
        ["--param", "doctrine.us.decapitation_probability=0.6:0.1"],
        "--param doctrine.us.decapitation_probability: low = 0.6 must be below high = 0.1",
    ),
    (sensitivity, ["--param", "actors.convoys_per_day=0:2:log"], "a log scale needs low > 0"),
    (sensitivity, ["--param", "actors.convoys_per_day=1-2"], "must be PATH=LOW:HIGH"),
    (sensitivity, ["--outputs", "p_peace"], "--outputs p_peace: no such output (choose from: "),
    (sensitivity, ["--n", "10"], "--n = 10: Sobol sampling needs a power of 2"),
    (
        sensitivity,
        ["--method", "morris", "--second-order"],
        "--second-order: only with --method sobol (--method morris has no second-order",
    ),
    (sensitivity, ["--parameters", "no/such.yaml"], "--parameters no/such.yaml: no such file"),
    (sensitivity, ["doctrine/us=appeasement"], "doctrine/us: no option 'appeasement'"),
    (tournament, ["--us", "appeasement"], "--us appeasement: no such doctrine (choose from: "),
    pytest.param(
        tournament,
        [
            "--us",
            "restraint",
            "--iran",
            "calibrated,restrain_proxies",
            "--param",
            "doctrine.iran.green_light=0.2:0.9",
        ],
        "doctrine.iran.green_light: the doctrines compared set it to different values",
        marks=pytest.mark.slow,  # composes each pair of doctrines
    ),
    (tournament, ["--max-p-war", "2"], "--max-p-war = 2: must be a probability in [0, 1]"),
    (tournament, ["--worlds", "0"], "--worlds = 0: must be a whole number >= 1"),
    (discover, ["--outcomes", "peace"], "--outcomes peace: no such outcome (choose from: "),
    (
        discover,
        ["--param", "actors.dynamics.learning_rate=-1:0.5"],
        "--param actors.dynamics.learning_rate: low = -1: must be",
    ),
]


@pytest.mark.parametrize(("command", "argv", "message"), BAD)
def test_bad_input_is_one_line_exit_2_and_nothing_written(command, argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        command.main([*argv, "--out", str(out), "--quiet"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert err.startswith(f"{command.PROG}: error: ")
    assert not out.exists()


# --- the README's commands ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "escalation-sensitivity": sensitivity,
    "escalation-tournament": tournament,
    "escalation-discover": discover,
}
#: what shrinks each README command to a test size (later options win)
SHRINK = {
    "escalation-sensitivity": ["--n", "2"],
    "escalation-tournament": ["--worlds", "2", "--us", "restraint", "--iran", "calibrated,revenge"],
    "escalation-discover": ["--points", "10"],
}


def _readme_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Sensitivity, robust doctrines and scenario discovery", 1)[1]
    block = section.split("```", 2)[1].replace("\\\n", " ")
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("escalation-")]


def test_the_readme_shows_each_analysis_command():
    assert {words[0] for words in _readme_commands()} == set(COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize("words", _readme_commands(), ids=lambda words: " ".join(words[:3]))
def test_the_readme_commands_run_at_a_tiny_size(words, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the README names files relative to the project
    out = tmp_path / "out"
    argv = [*words[1:], *TINY, *SHRINK[words[0]], "--out", str(out)]
    COMMANDS[words[0]].main(argv)
    assert any(out.glob("*.md")) and any(out.glob("*.json"))  # figures: where outputs vary


# --- the EMA Workbench adapter -------------------------------------------------------------------


@pytest.mark.slow
def test_ema_experiments_give_the_same_numbers_batched_or_one_at_a_time():
    from ema_workbench import SequentialEvaluator, perform_experiments
    from ema_workbench.em_framework.points import Sample

    from sim import ema

    escalation = ema.model(
        "days=45",
        replicates=3,
        uncertainties=["actors.dynamics.learning_rate=0.02:0.4", "doctrine.iran.red_line=1:4"],
        us_doctrines="restraint,max_pressure",
    )
    assert [u.variable_name[0] for u in escalation.uncertainties] == [
        "actors.dynamics.learning_rate", "doctrine.iran.red_line"
    ]  # fmt: skip
    scenarios = [
        Sample(f"world{i}", actors__dynamics__learning_rate=rate, doctrine__iran__red_line=line)
        for i, (rate, line) in enumerate([(0.05, 1.5), (0.3, 3.5), (0.1, 2.0)])
    ]
    policies = [Sample(name, us_doctrine=name) for name in ("restraint", "max_pressure")]
    with ema.BatchedEvaluator(escalation) as evaluator:
        experiments, batched = perform_experiments(
            escalation, scenarios, policies, evaluator=evaluator
        )
    _, alone = perform_experiments(
        escalation, scenarios, policies, evaluator=SequentialEvaluator(escalation)
    )
    assert len(experiments) == 6 and set(batched) == set(ema.DEFAULT_OUTCOMES)
    for name, values in batched.items():
        np.testing.assert_array_equal(values, alone[name], err_msg=name)
    # the doctrines differ where they should: max pressure deters attacks
    attacks = pd.Series(batched["attacks_per_month"]).groupby(experiments["policy"]).mean()
    assert attacks["max_pressure"] < attacks["restraint"]


@pytest.mark.slow
def test_ema_samples_its_own_experiments_through_the_batched_evaluator():
    from ema_workbench import perform_experiments

    from sim import ema

    escalation = ema.model("days=30", replicates=2, us_doctrines=[])
    assert not list(escalation.levers) and len(escalation.uncertainties) == 10
    with ema.BatchedEvaluator(escalation) as evaluator:
        experiments, outcomes = perform_experiments(escalation, scenarios=6, evaluator=evaluator)
    assert len(experiments) == 6 and all(len(v) == 6 for v in outcomes.values())
    learning = experiments["actors__dynamics__learning_rate"]
    assert learning.between(0.02, 0.4).all() and learning.nunique() == 6


@pytest.mark.slow
def test_the_analysis_benchmark_runs_quickly_and_appends_its_record(tmp_path, capsys):
    from sim import bench_analysis

    results = tmp_path / "analysis.json"
    bench_analysis.main(["--quick", "--results", str(results)])
    records = json.loads(results.read_text())
    assert len(records) == 1 and records[0]["quick"]
    assert set(records[0]["runs"]) == set(bench_analysis.RUNS)
    assert all(run["wall_seconds"] > 0 for run in records[0]["runs"].values())
    assert "Recorded in" in capsys.readouterr().out


@pytest.mark.parametrize("module", [discover, tournament])
def test_a_stopped_analysis_leaves_no_folder_and_one_line(module, tmp_path, monkeypatch, capsys):
    """Ctrl-C while the design runs: one line, exit 130, no folder (nothing half written)."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "_execute", interrupted)
    out = tmp_path / "out"
    few = ["--us", "red_line,restraint", "--iran", "calibrated"] if module is tournament else []
    with pytest.raises(SystemExit) as exit_:
        module.main(["--replicates", "2", "--out", str(out), "days=5", "--quiet", *few])
    assert exit_.value.code == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "stopped" in err
    assert not out.exists()
