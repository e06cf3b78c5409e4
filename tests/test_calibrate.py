"""``escalation-calibrate``: the posterior's interface, recovery of known parameters from
the model's own record, resume, refusals, the preset."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import config

from sim import apmc, fitstats
from sim.calibrate import load_parameters, main, model_parameters, with_values
from sim.config import compose, config_dir, parameter_at
from sim.engine import Simulation
from sim.posterior import load_posterior, posterior_draws
from sim.scorecard import Window, events_to_record

#: the model's own record: the default fitted window, one replicate at these values
TRUTH = {
    "actors.dynamics.attack_rate_scale": 1.0,
    "actors.dynamics.momentum_per_success": 2.0,
    "actors.dynamics.momentum_halflife_days": 3.0,
    "actors.dynamics.outbidding": 0.3,
    "actors.convoys_per_day": 1.0,
    "observation.listed_share": 0.6,
}
#: the parameters the record's statistics inform: the attack rate (the tallies count every
#: attack), the listed share (the listed attacks against the tallies) and convoy traffic
#: (the quarters' convoy IED share). Not the self-excitation parameters: over these nine
#: months, one record's burstiness has a spread (5-95%) of about +-0.14 at the true
#: values, while switching momentum off moves its median by 0.12 (measured with 300
#: replicates), and momentum, like the rate, raises the count: one record cannot narrow
#: them much, only keep them covered. (Momentum per attack was first listed here too; the
#: recovery's interval for it spanned 0.89 of its range, as the spread above explains.)
INFORMED = (
    "actors.dynamics.attack_rate_scale",
    "observation.listed_share",
    "actors.convoys_per_day",
)
PRIOR = """parameters:
  - {path: actors.dynamics.attack_rate_scale, low: 0.2, high: 3.0, log: true, why: t}
  - {path: actors.dynamics.momentum_per_success, low: 0.0, high: 6.0, log: false, why: t}
  - {path: actors.dynamics.momentum_halflife_days, low: 0.5, high: 20.0, log: true, why: t}
  - {path: actors.dynamics.outbidding, low: 0.0, high: 1.0, log: false, why: t}
  - {path: actors.convoys_per_day, low: 0.25, high: 4.0, log: true, why: t}
  - {path: observation.listed_share, low: 0.1, high: 1.0, log: false, why: t}
"""
#: the recovery's budget: points kept per generation, generations
PARTICLES, GENERATIONS = 500, 6
START, END = "2019-10-01", "2020-06-30"
CSV = "date,actor,action,target,country,killed_us,wounded_us,notes,source\n"


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> tuple[Path, Path, Path]:
    """One replicate of the model at TRUTH over the default window, as a record (its attacks
    without US casualties listed with probability 0.6, as the observation model says) and
    as tallies (every attack in Iraq of each quarter, as a press count would give), and the
    prior's parameter file."""
    folder = tmp_path_factory.mktemp("model")
    window = Window(pd.Timestamp(START), pd.Timestamp(END))
    cfg = compose(
        "replicates=1", f"days={window.days}", "seed=5", f"scenario.start_date={START}",
        "output.events=all",
        *(f"{k}={v}" for k, v in TRUTH.items() if not k.startswith("observation.")),
    )  # fmt: skip
    record = events_to_record(Simulation(cfg).run().events, cfg.theatre).drop(columns="replicate")
    record = record[record["date"] <= window.end]
    attack = (record["actor"].astype(str) == "militia") & record["action"].astype(str).isin(
        fitstats.ATTACK_ACTIONS
    )
    hit = (record["killed_us"] > 0) | (record["wounded_us"] > 0)
    rng = np.random.default_rng(17)
    listed = ~attack | hit | (rng.random(len(record)) < TRUTH["observation.listed_share"])
    path = folder / "model.csv"
    record[listed].assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d")).to_csv(
        path, index=False
    )
    rows = []
    for q in pd.period_range(START, END, freq="Q"):
        first, last = max(q.start_time, window.start), min(q.end_time.normalize(), window.end)
        inq = attack & (record["country"].astype(str) == "iraq")
        inq &= (record["date"] >= first) & (record["date"] <= last)
        rows.append(f"{first.date()},{last.date()},militia,attack,any,iraq,{int(inq.sum())},"
                    "attacks in Iraq,the model,\n")  # fmt: skip
    counts = folder / "counts.csv"
    counts.write_text("start,end,actor,action,target,country,count,scope,source,note\n"
                      + "".join(rows))  # fmt: skip
    prior = folder / "prior.yaml"
    prior.write_text(PRIOR)
    return path, counts, prior


def calibrate(files, out: Path, particles: int, generations: int, *extra: str) -> str:
    record, counts, prior = files
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main([
            "--events", str(record), "--counts", str(counts), "--name", "model",
            "--particles", str(particles), "--generations", str(generations),
            "--parameters", str(prior), "--out", str(out), *extra,
        ])  # fmt: skip
    return printed.getvalue()


@pytest.fixture(scope="module")
def recovery(model_files, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("recovery") / "cal"
    calibrate(model_files, out, PARTICLES, GENERATIONS)
    return out


@pytest.mark.slow
def test_the_posterior_covers_the_models_own_parameters_and_narrows_the_informed_ones(
    recovery,
):
    """Each parameter's posterior 90% interval covers its true value; for the parameters the
    statistics inform, the interval is narrower than the prior's.

    Bounds. A posterior that is right covers a true value with its 90% interval nine times
    in ten; approximate Bayesian computation at a tolerance above 0 widens the posterior,
    so it covers more often, never less. On a uniform prior the prior's own 90% interval
    spans 0.9 of the range (on its scale, log where log). The posterior's quantiles are
    estimated from the kept points: with an effective sample of n points, the 5% and 95%
    quantiles move by about sqrt(0.05 x 0.95 / n) of the probability each, so "narrower"
    is asked with a margin of three such errors at each end.
    """
    frame = load_posterior(recovery)
    weight = frame["weight"].to_numpy()
    ess = 1.0 / np.sum(weight**2)
    assert ess > 50, ess  # the weights have not collapsed onto a few points
    margin = 3 * 2 * math.sqrt(0.05 * 0.95 / ess)
    box = {p.path: p for p in load_parameters_text(PRIOR)}
    for path, truth in TRUTH.items():
        values = frame[path].to_numpy()
        low = apmc.weighted_quantile(values, weight, 0.05)
        high = apmc.weighted_quantile(values, weight, 0.95)
        assert low <= truth <= high, (path, low, truth, high)
        p = box[path]
        scale = (lambda v: math.log(v)) if p.log else (lambda v: v)
        width = (scale(high) - scale(low)) / (scale(p.high) - scale(p.low))
        if path in INFORMED:
            assert width < 0.9 - margin, (path, width, margin)


def load_parameters_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(text)
        return load_parameters(path)


@pytest.mark.slow
def test_a_calibration_writes_its_posterior_preset_and_record_of_itself(recovery):
    meta = json.loads((recovery / "calibration.json").read_text())
    assert meta["particles"] == PARTICLES and 1 <= meta["generations"] <= GENERATIONS
    assert meta["fit_start"] == START and meta["fit_end"] == END
    assert len(meta["history"]) == meta["generations"]
    frame = pd.read_parquet(recovery / "posterior.parquet")
    assert set(TRUTH) <= set(frame.columns) and {"weight", "generation"} <= set(frame.columns)
    assert len(frame) == PARTICLES and frame["weight"].sum() == pytest.approx(1.0)
    preset = yaml.safe_load((recovery / "calibrated_model.yaml").read_text())
    assert "observation" not in preset  # not a setting of the model
    assert preset["actors"]["dynamics"]["attack_rate_scale"] == pytest.approx(
        meta["posterior"]["actors.dynamics.attack_rate_scale"]["median"], rel=1e-3
    )
    header = (recovery / "calibrated_model.yaml").read_text().splitlines()
    assert header[0] == "# @package _global_"
    assert (recovery / "calibration.png").is_file()


@pytest.mark.slow
def test_a_stopped_calibration_resumes_where_it_stopped(model_files, tmp_path, capsys,
                                                        monkeypatch):  # fmt: skip
    """Ctrl-C in generation 1: one line, exit 130, generation 0 kept; the same command
    continues from it (its file unchanged), and a longer budget continues further."""
    import sim.calibrate

    real, calls = sim.calibrate.simulate_points, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.calibrate, "simulate_points", interrupted)
    out = tmp_path / "cal"
    with pytest.raises(SystemExit) as exit_:
        calibrate(model_files, out, 30, 2)
    assert exit_.value.code == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 generation saved" in err[0] and "run the same command" in err[0]
    first = (out / "generations" / "generation_000.parquet").read_bytes()
    assert not (out / "posterior.parquet").exists()
    monkeypatch.setattr(sim.calibrate, "simulate_points", real)
    calibrate(model_files, out, 30, 2)
    assert (out / "generations" / "generation_000.parquet").read_bytes() == first
    assert json.loads((out / "calibration.json").read_text())["generations"] == 2
    second = (out / "generations" / "generation_001.parquet").read_bytes()
    calibrate(model_files, out, 30, 3, "--min-acceptance", "0.001")  # a larger budget
    state = json.loads((out / "state.json").read_text())
    assert [g["generation"] for g in state["generations"]] == [0, 1, 2]
    assert (out / "generations" / "generation_001.parquet").read_bytes() == second
    # a stopped run resumed gives what an unbroken one gives
    whole = tmp_path / "whole"
    calibrate(model_files, whole, 30, 3, "--min-acceptance", "0.001")
    assert pd.read_parquet(whole / "posterior.parquet").equals(
        pd.read_parquet(out / "posterior.parquet")
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "key"),
    [(["--seed", "1"], "seed"), (["--particles", "25"], "particles"),
     (["--to", "2020-05-31"], "window"), (["actors.dynamics.learning_rate=0.2"], "overrides")],
)  # fmt: skip
def test_a_changed_configuration_refuses_to_resume_naming_the_key(
    model_files, tmp_path, capsys, extra, key
):
    out = tmp_path / "cal"
    calibrate(model_files, out, 20, 1)
    before = sorted(p.name for p in out.rglob("*"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        calibrate(model_files, out, 20, 2, *extra)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"was run with another {key}" in err[0], err
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing written


@pytest.mark.slow
def test_a_changed_parameter_file_refuses_to_resume(model_files, tmp_path, capsys):
    out = tmp_path / "cal"
    calibrate(model_files, out, 20, 1)
    record, counts, _ = model_files
    other = tmp_path / "other.yaml"
    other.write_text(PRIOR.replace("high: 3.0", "high: 4.0"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        calibrate((record, counts, other), out, 20, 2)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "another parameters.actors.dynamics.attack_rate_scale" in err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("parameters: []", "parameters: a list"),
        ("parameters:\n  - {path: actors.convoys_per_day, low: 2, high: 1}", "low < high"),
        ("parameters:\n  - {path: actors.convoys_per_day, low: 2, high: 2}", "low < high"),
        ("parameters:\n  - {path: actors.no_such, low: 1, high: 2}", "not a parameter"),
        ("parameters:\n  - {path: weapons.rocket.kill_per_munition, low: -1, high: 2}", ">= 0"),
        ("parameters:\n  - {path: observation.seen, low: 0.1, high: 0.5}", "observation model"),
        ("parameters:\n  - {path: observation.listed_share, low: 0.1, high: 1.5}", "a share"),
        ("parameters:\n  - {path: actors.militias.0.reach_km, low: 10, high: 90}",
         "one value per replicate"),
    ],
)  # fmt: skip
def test_bad_parameter_files_exit_2_in_one_line_writing_nothing(
    model_files, tmp_path, capsys, text, needle
):
    record, counts, _ = model_files
    params = tmp_path / "p.yaml"
    params.write_text(text)
    with pytest.raises(SystemExit) as exit_:
        calibrate((record, counts, params), tmp_path / "cal", 20, 1)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "cal").exists()


def test_the_statistics_of_a_record_are_those_of_the_scorecard_where_they_overlap():
    """Burstiness, the casualty share and the response probability of one replicate, as
    the calibration computes them over replicates, equal the scorecard's."""
    from sim import scorecard

    window = Window(pd.Timestamp(START), pd.Timestamp(END))
    cfg = compose("replicates=3", f"days={window.days}", "seed=2",
                  f"scenario.start_date={START}", "output.events=all")  # fmt: skip
    record = events_to_record(Simulation(cfg).run().events, cfg.theatre)
    table = fitstats.statistics(fitstats.from_record(record, window, 3), window)
    names = [n for n, _ in fitstats.names(window, None)]
    for r in range(3):
        one = record[record["replicate"] == r].drop(columns="replicate")
        for name, stat in [
            ("burstiness", scorecard.burstiness(one, window)),
            ("US casualty share", scorecard.casualty_share(one, window)),
            ("P(US strike within 14 days of a lethal attack)",
             scorecard.p_strike_after_death(one, window)),
        ]:  # fmt: skip
            got = table[r, names.index(name)]
            if stat.supported:
                assert got == pytest.approx(stat.value, abs=1e-12), (name, r)
            else:
                assert math.isnan(got), (name, r)
        monthly = scorecard.monthly_attacks(one, window).to_numpy()
        assert np.allclose(table[r, : len(monthly)] ** 2, monthly)


def test_the_listed_share_thins_only_attacks_without_us_casualties():
    window = Window(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-03-31"))
    rows = [f"2020-01-{d:02d},militia,rocket,k1,iraq,0,0,x,s\n" for d in range(1, 31)]
    rows += ["2020-02-01,militia,rocket,k1,iraq,1,0,x,s\n"] * 5
    frame = pd.read_csv(io.StringIO(CSV + "".join(rows)), parse_dates=["date"])
    frame = pd.concat([frame.assign(replicate=0), frame.assign(replicate=1)], ignore_index=True)
    events = fitstats.from_record(frame, window, 2)
    keep = fitstats.listed(events, np.array([0.0, 1.0]), np.random.default_rng(0))
    assert keep[events.replicate == 1].all()
    assert keep[events.replicate == 0].sum() == 5 and keep[(events.replicate == 0)
                                                           & events.hit].all()  # fmt: skip


def test_the_committed_preset_composes_and_sets_values_inside_the_ranges():
    preset = Path(config_dir()) / "scenario" / "calibrated_seeds.yaml"
    assert preset.is_file()
    config = compose("scenario=calibrated_seeds")
    assert config.scenario.name == "calibrated_seeds"
    free = load_parameters(Path(config_dir()) / "calibration" / "default.yaml")
    for p in model_parameters(free):
        _, _, node = parameter_at(config, p.path)
        assert p.low <= node <= p.high, p.path
        with_values(config, {p.path: node})  # still a valid configuration


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
    assert marked == {(p.path.split(".")[0], p.path.split(".")[-1]) for p in model_parameters(free)}
    tempo = load_parameters(root / "calibration" / "tempo.yaml")
    assert {p.path for p in tempo} <= {p.path for p in free}
    for p in model_parameters(free):  # every listed path is a setting of the default config
        with_values(config(), {p.path: p.low})


def test_a_posterior_loads_with_weights_summing_to_1_and_draws_by_weight(tmp_path):
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
