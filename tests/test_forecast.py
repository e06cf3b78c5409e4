"""``escalation-validate --forecast``: the scoring rules against closed forms, the baselines
on synthetic records whose best forecaster is known, the command end to end, and its
refusals of bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from sim.forecast import (
    SERIES,
    baselines,
    monthly_counts,
    observation_share,
    replicate_counts,
)
from sim.posterior import POSTERIOR_FILE, SUMMARY_FILE
from sim.record import COLUMNS, COUNT_COLUMNS, load_counts, load_events
from sim.scoring import (
    binary,
    crps_ensemble,
    crps_normal,
    crps_pmf,
    empirical_pmf,
    log_score,
    poisson_pmf,
    smoothed_binary,
    smoothed_pmf,
)
from sim.validate import main

OUTPUTS = ("forecast.md", "forecast_scores.csv", "forecast_months.csv", "forecast.json",
           "forecast.png")  # fmt: skip

# --- the scoring rules against closed forms -------------------------------------------------


def test_crps_of_a_point_mass_is_the_absolute_error():
    y = np.array([0, 3, 7, 12])
    point = np.full((5, len(y)), 7)
    np.testing.assert_allclose(crps_ensemble(point, y), np.abs(7 - y))
    np.testing.assert_allclose(crps_pmf(empirical_pmf(point, 20), y), np.abs(7 - y))


def test_crps_of_a_poisson_pmf_is_its_closed_form():
    # Wei and Held (2014): CRPS(Pois(l), y) = (y - l)(2F(y) - 1) + 2 l f(y)
    #                                         - l exp(-2l) (I0(2l) + I1(2l))
    for lam in (0.3, 2.0, 11.5):
        y = np.arange(0, 30)
        closed = (
            (y - lam) * (2 * stats.poisson.cdf(y, lam) - 1)
            + 2 * lam * stats.poisson.pmf(y, lam)
            - lam * math.exp(-2 * lam) * (special.i0(2 * lam) + special.i1(2 * lam))
        )
        pmf = poisson_pmf(np.full(len(y), lam), 200)
        np.testing.assert_allclose(crps_pmf(pmf, y), closed, rtol=1e-9, atol=1e-12)


def test_ensemble_crps_of_a_normal_sample_is_the_normal_crps():
    # the empirical CRPS of m draws has expectation CRPS + E|X - X'| / (2m), and
    # E|X - X'| = 2 sigma / sqrt(pi); its sampling sd is below sqrt(Var|X - y|) / sqrt(m)
    # * 2 <= 2 sqrt(sigma^2 + (y - mu)^2) / sqrt(m) (both terms of the estimator together)
    rng = np.random.default_rng(11)
    m, mu, sigma = 40_000, 1.5, 2.0
    y = np.array([-3.0, 0.0, 1.5, 4.0, 9.0])
    x = rng.normal(mu, sigma, (m, 1)).repeat(len(y), axis=1)
    got = crps_ensemble(x, y)
    expected = crps_normal(mu, sigma, y) + sigma / (math.sqrt(math.pi) * m)
    bound = 4 * 2 * np.sqrt(sigma**2 + (y - mu) ** 2) / math.sqrt(m)
    assert (np.abs(got - expected) < bound).all(), (got, expected, bound)


def test_the_two_ensemble_crps_formulas_agree_on_counts():
    rng = np.random.default_rng(3)
    samples = rng.poisson(4.0, (37, 6))
    y = np.array([0, 2, 4, 5, 9, 15])
    np.testing.assert_allclose(crps_pmf(empirical_pmf(samples, 40), y), crps_ensemble(samples, y))


def test_crps_of_a_binary_forecast_is_the_brier_score():
    pmf = poisson_pmf(np.array([0.2, 1.0, 3.0]), 40)
    p_any = 1 - np.exp(-np.array([0.2, 1.0, 3.0]))
    y = np.array([0, 1, 1])
    np.testing.assert_allclose(crps_pmf(binary(pmf), y), (p_any - y) ** 2)


def test_log_score_and_its_smoothing():
    pmf = poisson_pmf(np.array([2.0]), 50)
    assert log_score(pmf, np.array([3]))[0] == pytest.approx(-stats.poisson.logpmf(3, 2.0))
    # an ensemble that never reached 9 still gives 9 a small positive probability
    samples = np.array([[1], [2], [2], [3]])
    smooth = smoothed_pmf(samples, 30)
    assert smooth.sum() == pytest.approx(1.0, abs=1e-9) and (smooth > 0).all()
    assert smooth[0, 9] < 1 / (len(samples) + 1)
    # and the members' mass is kept: m / (m + 1) of each member's share
    assert smooth[0, 2] >= 2 / 5
    # an ensemble of zeros: any count above zero stays possible
    zeros = smoothed_pmf(np.zeros((10, 1), dtype=int), 10)
    assert zeros[0, 1] > 0 and zeros[0, 0] > 10 / 11
    # months with an event: Jeffreys' (k + 1/2) / (m + 1)
    np.testing.assert_allclose(smoothed_binary(np.array([[0], [2], [0]]))[0], [2.5 / 4, 1.5 / 4])


# --- the baselines on synthetic records --------------------------------------------------------


def _hawkes_days(rng, mu: float, n: float, decay: float, days: int) -> np.ndarray:
    """Daily counts of the discrete Hawkes process the baseline fits (sim/scorecard.py)."""
    s, out = 0.0, np.empty(days, dtype=np.int64)
    for t in range(days):
        out[t] = rng.poisson(mu + n * s)
        s = decay * s + (1 - decay) * out[t]
    return out


def _log_random_walk_days(rng, fit_from: pd.Timestamp, days: int, step: float) -> np.ndarray:
    """Daily counts whose monthly level is a random walk in logs (from 30 a month)."""
    month = pd.date_range(fit_from, periods=days).to_period("M")
    levels = 30.0 * np.exp(np.cumsum(rng.normal(0.0, step, len(month.unique()))))
    level = levels[pd.factorize(month)[0]]
    return rng.poisson(level / 30.0)


def _scores(kind: str, seed: int, fit_from: str, last_month: str) -> dict[str, tuple]:
    """Each baseline's mean CRPS and log score over the months after a fitting window
    ending 30 June 2020, on a synthetic record of ``kind``."""
    start, first = pd.Timestamp("2020-07-01"), pd.Timestamp(fit_from)
    months = pd.period_range("2020-07", last_month, freq="M")
    fit_days = (start - first).days
    days = fit_days + (months[-1].end_time.normalize() - start).days + 1
    rng = np.random.default_rng(seed)
    if kind == "poisson":
        daily = rng.poisson(0.5, days)
    elif kind == "hawkes":
        daily = _hawkes_days(rng, 0.15, 0.7, 0.9, days)
    else:
        daily = _log_random_walk_days(rng, first, days, 0.2)
    history, future = daily[:fit_days], daily[fit_days:]
    month_of = pd.date_range(start, periods=len(future)).to_period("M")
    observed = np.array([future[month_of == m].sum() for m in months])
    fit_month = pd.date_range(first, periods=fit_days).to_period("M")
    last = history[fit_month == fit_month[-1]].sum()
    forecasters, skipped, _ = baselines(history, last, months, start, observed, seed)
    assert not skipped
    return {
        f.name: (crps_pmf(f.pmf, observed).mean(), log_score(f.smooth, observed).mean())
        for f in forecasters
    }


def _wins(results: list[dict], better: str, worse: str, rule: int) -> int:
    return sum(r[better][rule] < r[worse][rule] for r in results)


def _critical(n: int) -> int:
    """Least k with P(X >= k) < 1% for X ~ Binomial(n, 1/2): if the two forecasters were
    equally good, each seed would favour either with probability 1/2."""
    return int(stats.binom.isf(0.01, n, 0.5)) + 1


@pytest.mark.slow
def test_on_a_poisson_record_the_poisson_baseline_scores_best():
    runs = [_scores("poisson", seed, "2018-07-01", "2021-12") for seed in range(40)]
    crps = {name: np.array([r[name][0] for r in runs]) for name in runs[0]}
    # persistence forecasts one month's noisy count; the fitted rate is better, seed by seed
    assert _wins(runs, "poisson", "persistence", 0) >= _critical(len(runs))
    assert crps["poisson"].mean() < crps["persistence"].mean()
    # Hawkes nests Poisson (n = 0): on Poisson data it may tie but must not win beyond
    # noise (the paired mean difference within two standard errors, or in Poisson's favour)
    diff = crps["hawkes"] - crps["poisson"]
    assert diff.mean() > -2 * diff.std(ddof=1) / math.sqrt(len(diff)), diff.mean()


@pytest.mark.slow
def test_on_a_self_exciting_record_the_hawkes_baseline_beats_poisson():
    runs = [_scores("hawkes", seed, "2018-07-01", "2021-12") for seed in range(30)]
    # a constant rate misses the clustering: too narrow in bursts, too wide in calm
    assert _wins(runs, "hawkes", "poisson", 1) >= _critical(len(runs))
    assert _wins(runs, "hawkes", "poisson", 0) >= _critical(len(runs))


@pytest.mark.slow
def test_on_a_random_walk_persistence_beats_both_fitted_baselines():
    # the last level is the best guess of a random walk's next ones; a rate fitted over
    # four years (or a Hawkes process, which reverts to it) is not
    runs = [_scores("random_walk", seed, "2016-07-01", "2020-12") for seed in range(30)]
    assert _wins(runs, "persistence", "poisson", 0) >= _critical(len(runs))
    assert _wins(runs, "persistence", "hawkes", 0) >= _critical(len(runs))


# --- counting and the observation model -----------------------------------------------------


def _record(path: Path, rows: list[str]) -> Path:
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n")
    return path


def test_monthly_counts_of_each_series(tmp_path):
    record = load_events(
        _record(
            tmp_path / "r.csv",
            [
                "2020-07-02,militia,rocket,taji,iraq,0,0,,t",
                "2020-07-09,militia,rocket,biap,iraq,1,2,,t",
                "2020-07-12,us,airstrike,militia_site,iraq,,,,t",
                "2020-08-03,militia,ied_convoy,convoy,iraq,,,,t",
                "2020-08-04,militia,assault,baghdad_embassy,iraq,2,,,t",
                "2020-08-05,israel,airstrike,militia_site,syria,,,,t",
            ],
        )
    )
    months = pd.period_range("2020-07", "2020-09", freq="M")
    assert monthly_counts(record, months, "attacks").tolist() == [2, 1, 0]
    assert monthly_counts(record, months, "us_strikes").tolist() == [1, 0, 0]
    # an assault is no attack (docs/validation.md): its deaths do not count
    assert monthly_counts(record, months, "death_months").tolist() == [1, 0, 0]
    record = record.assign(replicate=[3, 3, 5, 5, 5, 5])
    counts = replicate_counts(record, np.array([5, 3, 9]), months, "attacks")
    assert counts.tolist() == [[0, 1, 0], [2, 0, 0], [0, 0, 0]]


def _tallies(path: Path, rows: list[str]) -> pd.DataFrame:
    path.write_text(",".join(COUNT_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    return load_counts(path)


def test_observation_share_is_the_lowest_share_of_the_tallies_over_a_month(tmp_path):
    record = load_events(
        _record(
            tmp_path / "r.csv",
            [f"2020-07-{d:02d},militia,rocket,taji,iraq,,,,t" for d in (1, 5, 9)]
            + [f"2020-09-{d:02d},militia,other,other,iraq,,,,t" for d in range(1, 13)],
        )
    )
    tallies = _tallies(
        tmp_path / "c.csv",
        [
            "2020-07-01,2020-07-31,militia,attack,any,iraq,6,july,t,",  # 3 of 6
            "2020-07-20,2020-08-10,militia,attack,any,iraq,4,late july,t,",  # 0 of 4
            "2020-09-01,2020-09-30,militia,attack,any,iraq,10,september,t,",  # 12 of 10
            "2020-10-01,2020-10-31,militia,rocket,taji,iraq,9,october rockets,t,",  # not 'any'
        ],
    )
    months = pd.period_range("2020-07", "2020-10", freq="M")
    share, notes = observation_share(record, tallies, months)
    np.testing.assert_allclose(share, [0.0, 0.0, 1.0, 1.0])
    assert notes[3] == "no tally: taken as complete"
    share, _ = observation_share(record, tallies.iloc[[0, 2]], months)
    np.testing.assert_allclose(share, [0.5, 1.0, 1.0, 1.0])


# --- the command end to end -------------------------------------------------------------------


def _posterior(folder, frame: pd.DataFrame, fitted_to: str | None = "2020-06-30"):
    """A calibration's folder holding ``frame`` as its posterior (the format
    ``escalation-calibrate`` writes, read by ``sim.posterior``) and, if ``fitted_to``, the
    summary naming the last day it was fitted on."""
    folder.mkdir()
    frame.to_parquet(folder / POSTERIOR_FILE)
    if fitted_to is not None:
        (folder / SUMMARY_FILE).write_text(json.dumps({"fit_end": fitted_to}))
    return folder


SMALL = ["--forecast", "--replicates", "4", "--from", "2020-07-01", "--to", "2020-12-31"]


@pytest.mark.slow
def test_the_forecast_writes_its_table_and_figure_and_repeats_itself(tmp_path, capsys):
    out, again = tmp_path / "f", tmp_path / "g"
    main([*SMALL, "--out", str(out)])
    printed = capsys.readouterr().out
    assert f"Forecast: {out}" in printed and "no --posterior given" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    scores = pd.read_csv(out / "forecast_scores.csv")
    scored = scores[scores["crps"].notna()]
    assert set(scored["series"]) == set(SERIES)
    attacks = set(scored[scored["series"] == "attacks"]["forecaster"])
    assert attacks == {"model (thinned)", "model", "poisson", "hawkes", "persistence"}
    assert (scored["crps"] >= 0).all() and np.isfinite(scored["log_score"]).all()
    months = pd.read_csv(out / "forecast_months.csv")
    assert len(months[(months.series == "attacks") & (months.forecaster == "poisson")]) == 6
    meta = json.loads((out / "forecast.json").read_text())["meta"]
    assert (meta["start"], meta["end"], meta["fit_end"]) == ("2020-07-01", "2020-12-31",
                                                             "2020-06-30")  # fmt: skip
    assert "no --posterior given" in meta["parameters"]
    text = (out / "forecast.md").read_text()
    assert "| 2020-10 | 1.00 | no tally: taken as complete |" in text
    main([*SMALL, "--out", str(again)])
    assert (again / "forecast_months.csv").read_text() == (out / "forecast_months.csv").read_text()


@pytest.mark.slow
def test_the_forecast_runs_on_posterior_draws(tmp_path, capsys):
    frame = pd.DataFrame({"actors.convoys_per_day": [0.25, 4.0], "weight": [0.5, 0.5]})
    folder = _posterior(tmp_path / "posterior", frame)
    main([*SMALL, "--posterior", str(folder), "--out", str(tmp_path / "p")])
    main([*SMALL, "--out", str(tmp_path / "own")])
    meta = json.loads((tmp_path / "p" / "forecast.json").read_text())["meta"]
    assert "draws from the posterior" in meta["parameters"]
    assert "actors.convoys_per_day" in meta["parameters"]
    with_draws = pd.read_csv(tmp_path / "p" / "forecast_months.csv")
    own = pd.read_csv(tmp_path / "own" / "forecast_months.csv")
    # the draws reach the model (not the baselines, fitted on the record alone)
    model = with_draws.forecaster == "model"
    assert not with_draws[model]["mean"].equals(own[model]["mean"])
    base = with_draws.forecaster == "poisson"
    assert with_draws[base]["mean"].equals(own[base]["mean"])


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--posterior", "{tmp}/nowhere"], "--posterior {tmp}/nowhere: no such folder"),
        (["--posterior", "{file}"], "is a file, not a posterior's folder"),
        (["--from", "2023-01-01", "--to", "2023-12-31"], "after the record's last event"),
        (["--fit-from", "2010-01-01"], "--fit-from = 2010-01-01: before the record's first"),
        (["--from", "2020-07-15"], "--from = 2020-07-15: must be the first day of a month"),
        (["--to", "2021-12-30"], "--to = 2021-12-30: must be the last day of a month"),
        (["--from", "2021-01-01", "--to", "2020-12-31"], "--to = 2020-12-31: before --from"),
        (["--from", "2020-02-30"], "--from = '2020-02-30'"),
        (["--fit-from", "2020-07-01"], "must be before --from"),
        (["--events", "{tmp}/missing.csv"], "--events {tmp}/missing.csv: no such file"),
        (["--counts", "{tmp}/missing.csv"], "--counts {tmp}/missing.csv: no such file"),
        (["--replicates", "0"], "--replicates = 0"),
        (["days=100"], "days=100: the record's window sets it"),
        (["doctrine.us.no_such_key=1"], "no_such_key"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, capsys, args, needle):
    (tmp_path / "file.txt").write_text("x")
    names = {"tmp": tmp_path, "file": tmp_path / "file.txt"}
    out = tmp_path / "out"
    argv = ["--forecast", *[a.format(**names) for a in args], "--out", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("escalation-validate: error:")
    assert needle.format(**names) in err
    assert not out.exists()


def _refused(tmp_path, capsys, argv: list[str]) -> str:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(out)])
    assert exit_.value.code == 2 and not out.exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("escalation-validate: error:")
    return err


def test_a_posterior_folder_without_its_file_is_refused(tmp_path, capsys):
    folder = tmp_path / "posterior"
    folder.mkdir()
    err = _refused(tmp_path, capsys, ["--forecast", "--posterior", str(folder)])
    assert f"--posterior {folder}:" in err and f"{POSTERIOR_FILE}: no posterior here" in err


def test_a_posterior_fitted_on_the_forecast_window_is_refused(tmp_path, capsys):
    frame = pd.DataFrame({"actors.convoys_per_day": [1.0], "weight": [1.0]})
    folder = _posterior(tmp_path / "posterior", frame, fitted_to="2021-03-03")
    err = _refused(tmp_path, capsys, ["--forecast", "--posterior", str(folder)])
    assert "fitted on data to 2021-03-03, not before the forecast's first day 2020-07-01" in err


def test_a_posterior_of_an_unknown_parameter_is_refused(tmp_path, capsys):
    frame = pd.DataFrame({"actors.no_such": [1.0], "weight": [1.0]})
    folder = _posterior(tmp_path / "posterior", frame)
    err = _refused(tmp_path, capsys, ["--forecast", "--posterior", str(folder)])
    assert f"--posterior {folder}:" in err and "no_such" in err
