"""``escalation-calibrate``: recovery of a known parameter, resume, refusals, the preset."""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
from pathlib import Path

import optuna
import pytest
import yaml
from conftest import config
from scipy import stats

from sim.calibrate import distance, load_parameters, main, with_values
from sim.config import compose, config_dir, parameter_at
from sim.engine import Simulation
from sim.record import load_events
from sim.scorecard import attacks, events_to_record

TRUE_CONVOYS = 2.0
#: trials of the short calibration: TPE draws the first 10 at random, then searches; 14
#: give the rank test below its power against the noise of 5 replicates a trial
SHORT_TRIALS = 14
#: d ln(IED attacks) / d ln(convoys_per_day) near 2 convoys a day, measured with 40
#: replicates of 300 days: 0.88 from 1 to 2 and 0.66 from 2 to 4
IED_ELASTICITY = 0.75


@pytest.fixture(scope="module")
def model_record(tmp_path_factory) -> Path:
    """One replicate of the model itself, with convoys_per_day = 2, as a record file."""
    config = compose(
        "replicates=1", "days=240", "seed=11", "scenario.start_date=2020-01-01",
        "output.events=all", f"actors.convoys_per_day={TRUE_CONVOYS}",
    )  # fmt: skip
    record = events_to_record(Simulation(config).run().events, config.theatre)
    path = tmp_path_factory.mktemp("record") / "model.csv"
    record.drop(columns="replicate").assign(
        date=lambda f: f["date"].dt.strftime("%Y-%m-%d")
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def one_parameter(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("params") / "convoys.yaml"
    path.write_text(
        "parameters:\n  - {path: actors.convoys_per_day, low: 0.25, high: 4.0, log: true, "
        "why: test}\n"
    )
    return path


def calibrate(record: Path, params: Path, out: Path, trials: int, *extra: str) -> None:
    main([
        "--events", str(record), "--name", "model", "--trials", str(trials),
        "--replicates", "5", "--parameters", str(params), "--out", str(out),
        "--storage", f"sqlite:///{out / 'study.db'}", *extra,
    ])  # fmt: skip


@pytest.fixture(scope="module")
def short_calibration(model_record, one_parameter, tmp_path_factory) -> tuple[Path, str]:
    """A calibration of SHORT_TRIALS trials to the model's own record: its folder and printed
    output."""
    out = tmp_path_factory.mktemp("short") / "cal"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        calibrate(model_record, one_parameter, out, SHORT_TRIALS)
    return out, printed.getvalue()


@pytest.mark.slow
def test_a_short_calibration_recovers_the_models_own_parameter(model_record, short_calibration):
    out, printed = short_calibration
    preset = yaml.safe_load((out / "calibrated_model.yaml").read_text())
    fitted = preset["actors"]["convoys_per_day"]
    # the record's IED count fixes its IED rate to about 1/sqrt(n) (Poisson); through the
    # elasticity that is the standard error of ln(convoys_per_day): allow three of them
    n_ied = int((attacks(load_events(model_record))["action"] == "ied_convoy").sum())
    tolerance = 3 / math.sqrt(n_ied) / IED_ELASTICITY
    assert abs(math.log(fitted / TRUE_CONVOYS)) <= tolerance, (fitted, tolerance)
    # and the distance grows away from the truth across the whole search, not only at its
    # best: the rank correlation of the distance with |ln(value / true)| over the trials is
    # positive beyond what a distance unrelated to the parameter shows once in a hundred
    # (one-sided test of Spearman's rho)
    trials = optuna.load_study(study_name="model", storage=f"sqlite:///{out / 'study.db'}").trials
    away = [abs(math.log(t.params["actors.convoys_per_day"] / TRUE_CONVOYS)) for t in trials]
    rank = stats.spearmanr(away, [t.value for t in trials], alternative="greater")
    assert rank.pvalue < 0.01, rank
    assert (out / "calibration.png").is_file()
    meta = json.loads((out / "calibration.json").read_text())
    assert meta["trials"] == SHORT_TRIALS
    assert meta["parameters"]["actors.convoys_per_day"] == pytest.approx(fitted, rel=1e-3)
    header = (out / "calibrated_model.yaml").read_text().splitlines()
    assert header[0] == "# @package _global_"
    assert any("sha256" in line for line in header)
    assert any(f"{SHORT_TRIALS} trials" in line for line in header)
    assert "Preset:" in printed


def test_an_override_the_command_sets_itself_is_refused(
    model_record, one_parameter, tmp_path, capsys
):
    with pytest.raises(SystemExit) as exit_:
        calibrate(
            model_record, one_parameter, tmp_path / "cal", 1, "scenario.start_date=2021-01-01"
        )
    assert exit_.value.code == 2
    assert "scenario.start_date=2021-01-01: the record's window sets it" in capsys.readouterr().err
    assert not (tmp_path / "cal").exists()


@pytest.mark.slow
def test_a_study_run_on_another_record_is_refused(
    model_record, one_parameter, short_calibration, tmp_path, capsys
):
    out = tmp_path / "cal"
    shutil.copytree(short_calibration[0], out)  # a study of the model's record, in its folder
    other = tmp_path / "other.csv"
    other.write_text(model_record.read_text().replace(",simulation", ",another source"))
    with pytest.raises(SystemExit) as exit_:
        calibrate(other, one_parameter, out, 2)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another record_sha256" in err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("parameters: []", "parameters: a list"),
        ("parameters:\n  - {path: actors.convoys_per_day, low: 2, high: 1}", "low < high"),
        ("parameters:\n  - {path: actors.no_such, low: 1, high: 2}", "not a parameter"),
        ("parameters:\n  - {path: weapons.rocket.kill_per_munition, low: -1, high: 2}", ">= 0"),
    ],
)
def test_bad_parameter_files_exit_2(model_record, tmp_path, capsys, text, needle):
    params = tmp_path / "p.yaml"
    params.write_text(text)
    with pytest.raises(SystemExit) as exit_:
        calibrate(model_record, params, tmp_path / "cal", 1)
    assert exit_.value.code == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "cal").exists()


def test_distance_is_the_sum_of_squared_standardised_differences():
    rows = [
        {"statistic": "a", "observed": 3.0, "median": 1.0, "low": 0.0, "high": 3.29},
        {"statistic": "b", "observed": None, "median": 1.0, "low": 0.0, "high": 2.0},
        {"statistic": "c", "observed": 1.0, "median": None, "low": None, "high": None},
    ]
    total, terms = distance(rows)
    assert terms["a"] == pytest.approx(4.0, rel=1e-3)  # 2 / (3.29 / 3.29) = two spreads
    assert "b" not in terms and terms["c"] == 4.0
    assert total == pytest.approx(8.0, rel=1e-3)


def test_the_committed_preset_composes_and_sets_values_inside_the_ranges():
    preset = Path(config_dir()) / "scenario" / "calibrated_seeds.yaml"
    assert preset.is_file()
    config = compose("scenario=calibrated_seeds")
    assert config.scenario.name == "calibrated_seeds"
    for p in load_parameters(Path(config_dir()) / "calibration" / "default.yaml"):
        _, _, node = parameter_at(config, p.path)
        assert p.low <= node <= p.high, p.path
        with_values(config, {p.path: node})  # still a valid configuration


def test_help_gives_the_replicates_default_the_command_uses(capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "ensemble size (default 30)" in text
    seen = {}
    monkeypatch.setattr(
        "sim.calibrate.run_calibration", lambda parser, args: seen.update(vars(args))
    )
    main(["--events", "x.csv", "--name", "x"])
    assert seen["replicates"] == 30


@pytest.mark.slow
def test_a_stopped_study_says_how_to_resume_and_resumes(
    model_record, one_parameter, tmp_path, capsys, monkeypatch
):
    """Ctrl-C in a trial: one line, exit 130, the finished trials kept, no preset yet."""
    import sim.calibrate

    real, calls = sim.calibrate.simulate, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.calibrate, "simulate", interrupted)
    out = tmp_path / "cal"
    with pytest.raises(SystemExit) as exit_:
        calibrate(model_record, one_parameter, out, 3)
    assert exit_.value.code == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "stopped with 1 of 3 trials complete" in err and "run the same command again" in err
    assert not (out / "calibrated_model.yaml").exists()
    storage = f"sqlite:///{out / 'study.db'}"
    complete = optuna.trial.TrialState.COMPLETE
    (first,) = [t.params for t in optuna.load_study(study_name="model", storage=storage).trials
                if t.state == complete]  # fmt: skip
    monkeypatch.setattr(sim.calibrate, "simulate", real)
    calibrate(model_record, one_parameter, out, 3)
    trials = optuna.load_study(study_name="model", storage=storage).trials
    assert [t.state for t in trials].count(complete) == 3
    assert [t.params for t in trials if t.state == complete][0] == first  # kept, not restarted
    assert "3 trials" in (out / "calibrated_model.yaml").read_text()
    calibrate(model_record, one_parameter, out, 3)  # already done: nothing added
    assert len(optuna.load_study(study_name="model", storage=storage).trials) == len(trials)


@pytest.mark.parametrize("storage", ["nonsense", "postgresql://nowhere/study"])
def test_a_storage_that_cannot_be_opened_exits_2(
    model_record, one_parameter, tmp_path, capsys, storage
):
    out = tmp_path / "cal"
    with pytest.raises(SystemExit) as exit_:
        main([
            "--events", str(model_record), "--name", "model", "--trials", "1",
            "--parameters", str(one_parameter), "--out", str(out), "--storage", storage,
        ])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"escalation-calibrate: error: --storage {storage}: cannot be opened")
    assert not out.exists()


@pytest.mark.slow
def test_the_held_out_events_are_named_and_validated(model_record, one_parameter, tmp_path, capsys):
    out = tmp_path / "cal"
    calibrate(model_record, one_parameter, out, 1, "--holdout-from", "2020-08-01")
    record = load_events(model_record)
    held = record[record["date"] >= "2020-08-01"]
    assert 0 < len(held) < len(record)
    meta = json.loads((out / "calibration.json").read_text())
    assert len(meta["held_out_events"]) == len(held)
    assert meta["held_out_events"][0].startswith(held["date"].min().date().isoformat())
    assert meta["fit_end"] == "2020-07-31" and meta["holdout_start"] == "2020-08-01"
    report = (out / "holdout_validation.md").read_text()
    assert all(f"- {line}\n" in report for line in meta["held_out_events"])
    header = (out / "calibrated_model.yaml").read_text()
    assert f"held out: 2020-08-01 to {meta['holdout_end']} ({len(held)} events" in header
    printed = capsys.readouterr().out
    assert f"Held-out part ({len(held)} events, not used in the fit):" in printed


@pytest.mark.parametrize("values", [[808, 853, None, 1173, 565], [52000, 3000, 120, None, 33]])
def test_the_search_is_drawn_by_trial_number_with_plain_distance_labels(values):
    import numpy as np
    import pandas as pd

    from sim.calibrate import fit_figure

    study = optuna.create_study()
    for value in values:
        trial = study.ask()
        if value is None:  # stopped: Optuna keeps its number
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, value)
    months = pd.period_range("2020-01", "2020-03", freq="M")
    fig = fit_figure(
        pd.Series([1, 2, 3], index=months),
        pd.DataFrame(np.ones((4, 3)), columns=months),
        study, "t", None,
    )  # fmt: skip
    fig.canvas.draw()
    history = fig.axes[1]
    numbers = [i for i, v in enumerate(values) if v is not None]
    assert history.lines[0].get_xdata().tolist() == numbers  # as the command prints them
    low, high = history.get_ylim()
    labels = [
        t.get_text()
        for t in history.yaxis.get_majorticklabels() + history.yaxis.get_minorticklabels()
        if low <= t.get_position()[1] <= high and t.get_text()
    ]
    assert labels  # a log axis within one decade still gets labels
    for text in labels:
        float(text.replace(",", ""))  # plain numbers, not 9 x 10^2


@pytest.mark.slow
def test_every_free_parameter_is_marked_in_its_config_and_only_those():
    """The list in configs/calibration/ and the ``free: calibrated`` marks agree."""
    root = Path(config_dir())
    mark = "free: calibrated (configs/calibration/default.yaml)"
    marked = set()
    for path in root.rglob("*.yaml"):
        if path.parent.name == "calibration":
            continue
        for line in path.read_text().splitlines():
            if mark in line.split("#", 1)[-1] and "#" in line:
                group = path.relative_to(root).parts[0]
                marked.add((group, line.split(":", 1)[0].strip()))
    free = load_parameters(root / "calibration" / "default.yaml")
    assert marked == {(p.path.split(".")[0], p.path.split(".")[-1]) for p in free}
    tempo = load_parameters(root / "calibration" / "tempo.yaml")
    assert {p.path for p in tempo} <= {p.path for p in free}
    for p in free:  # every listed path is a setting of the default configuration
        with_values(config(), {p.path: p.low})


def test_a_posterior_loads_with_weights_summing_to_1_and_draws_by_weight(tmp_path):
    import numpy as np
    import pandas as pd

    from sim.calibrate import load_posterior, posterior_draws

    pd.DataFrame({
        "actors.convoys_per_day": [1.0, 2.0, 3.0, 9.0],
        "observation.listed_share": [0.5, 0.6, 0.7, 0.1],
        "weight": [1.0, 0.0, 3.0, 5.0],
        "generation": [1, 1, 1, 0],  # the last generation is the posterior
    }).to_parquet(tmp_path / "posterior.parquet")  # fmt: skip
    frame = load_posterior(tmp_path)
    assert list(frame.columns) == ["actors.convoys_per_day", "observation.listed_share", "weight"]
    assert frame["weight"].sum() == pytest.approx(1.0)
    draws = posterior_draws(frame, 4000, seed=3)
    assert set(draws) == {"actors.convoys_per_day"}  # the observation model's are not settings
    values = draws["actors.convoys_per_day"]
    assert values.shape == (4000,) and set(np.unique(values)) == {1.0, 3.0}
    # P(3.0) = 0.75: 4000 draws put the share within 4 standard errors (0.027) of it
    assert abs((values == 3.0).mean() - 0.75) < 4 * math.sqrt(0.75 * 0.25 / 4000)
    again = posterior_draws(frame, 4000, seed=3)
    assert np.array_equal(again["actors.convoys_per_day"], values)
    assert "observation.listed_share" in posterior_draws(frame, 2, seed=0, observation=True)
    with pytest.raises(FileNotFoundError):
        load_posterior(tmp_path / "none")
