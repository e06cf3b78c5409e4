"""The scorecard statistics on synthetic records whose true values are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import config
from scipy import stats

from sim.config import compose
from sim.engine import Simulation
from sim.record import ACTIONS, ACTORS, COLUMNS, COUNTRIES, TARGETS, load_events
from sim.scorecard import (
    DAYS_PER_MONTH,
    MIN_ATTACKS_WITH_CASUALTY_FIGURES,
    MIN_HAWKES_EVENTS,
    STATISTICS,
    Parts,
    Statistic,
    Window,
    _excitation,
    attacks,
    attacks_per_month,
    branching_ratio,
    burstiness,
    casualty_share,
    events_to_record,
    fit_hawkes,
    hawkes_branching_se,
    hawkes_loglik,
    highest_rung,
    lag_death_to_strike,
    lag_strike_to_attack,
    monthly_attacks,
    p_strike_after_death,
    pooled_reference,
    scorecard,
)
from sim.validate import Ensemble, compare

START = pd.Timestamp("2020-01-01")


def row(day: int, actor="militia", action="rocket", target="taji", country="iraq", k="", w=""):
    date = (START + pd.Timedelta(days=day)).date().isoformat()
    return [date, actor, action, target, country, str(k), str(w), "", "test"]


def record(tmp_path, rows) -> pd.DataFrame:
    """Write rows as a record file and load it through the validating loader."""
    path = tmp_path / f"record_{len(list(tmp_path.iterdir()))}.csv"
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame.to_csv(path, index=False)
    return load_events(path)


def window(days: int) -> Window:
    return Window(START, START + pd.Timedelta(days=days - 1))


def attack_rows(days) -> list[list[str]]:
    return [row(int(d)) for d in days]


# --- burstiness and branching on a Poisson record ----------------------------------------------


def poisson_days(seed: int, rate: float, days: int) -> np.ndarray:
    """Day numbers of a Poisson process of ``rate`` per day, binned to days."""
    rng = np.random.default_rng(seed)
    return np.sort(np.floor(rng.uniform(0, days, rng.poisson(rate * days))))


def test_burstiness_of_poisson_record_is_near_zero(tmp_path):
    days = poisson_days(0, 0.2, 3000)
    stat = burstiness(record(tmp_path, attack_rows(days)), window(3000))
    # exponential gaps: the sample CV has standard error about 1/sqrt(n) and
    # dB/dCV = 2/(CV+1)^2 = 1/2 at CV = 1; binning to days moves a 5-day mean gap little
    se = 0.5 / math.sqrt(stat.n)
    assert abs(stat.value) <= 3 * se


def test_burstiness_of_a_regular_beat_is_minus_one_and_of_bursts_positive(tmp_path):
    beat = burstiness(record(tmp_path, attack_rows(range(0, 100, 5))), window(100))
    assert beat.value == pytest.approx(-1.0)
    bursts = [d for start in (0, 200, 400) for d in range(start, start + 5)]
    # gaps: twelve of 1 day, two of 196: mu = 404/14, sigma = sqrt(76844/14 - mu^2)
    mu = 404 / 14
    sigma = math.sqrt(76844 / 14 - mu**2)
    stat = burstiness(record(tmp_path, attack_rows(bursts)), window(500))
    assert stat.value == pytest.approx((sigma - mu) / (sigma + mu))
    assert stat.value > 0


@pytest.mark.slow
def test_branching_ratio_of_poisson_records_is_near_zero():
    # the decay is not identified when n = 0, so the fit takes the best of all decays:
    # that inflates the one-sided tail, hence 3.5 standard errors rather than 3
    for seed in range(10):
        counts = np.random.default_rng(seed).poisson(0.3, 3000)
        fit = fit_hawkes(counts)
        excitation = _excitation(counts, fit.decay)
        # Fisher information of n at n = 0 with the background rate profiled out
        se = math.sqrt(counts.mean() / np.sum((excitation - excitation.mean()) ** 2))
        assert fit.branching <= 3.5 * se, (seed, fit)


def simulate_hawkes(baseline: float, branching: float, decay: float, days: int, seed: int):
    """Daily counts of the discrete-time Hawkes process the fit assumes."""
    rng = np.random.default_rng(seed)
    counts = np.zeros(days)
    excitation = 0.0
    for t in range(days):
        if t:
            excitation = decay * excitation + (1 - decay) * counts[t - 1]
        counts[t] = rng.poisson(baseline + branching * excitation)
    return counts


def test_hawkes_branching_ratio_is_recovered_within_its_standard_error(tmp_path):
    true_n = 0.5
    counts = simulate_hawkes(0.15, true_n, 0.8, 3000, seed=0)
    fit = fit_hawkes(counts)
    x = np.array([fit.baseline, fit.branching, fit.decay])
    # observed information: the numerical Hessian of the log-likelihood at the optimum
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)

    def ll(i: int, j: int, di: int, dj: int) -> float:
        y = x.copy()
        y[i] += di * h[i]
        y[j] += dj * h[j]
        return hawkes_loglik(counts, *y)

    hess = np.array(
        [
            [
                (ll(i, j, 1, 1) - ll(i, j, 1, -1) - ll(i, j, -1, 1) + ll(i, j, -1, -1))
                / (4 * h[i] * h[j])
                for j in range(3)
            ]
            for i in range(3)
        ]
    )
    se = math.sqrt(np.linalg.inv(-hess)[1, 1])
    assert abs(fit.branching - true_n) <= 3 * se
    # the same through a record file and the scorecard
    days = np.repeat(np.arange(3000), counts.astype(int))
    stat = branching_ratio(record(tmp_path, attack_rows(days)), window(3000))
    assert stat.value == pytest.approx(fit.branching, abs=1e-6)


# --- attack rates ----------------------------------------------------------------------------


def test_attacks_per_month_by_weapon_on_a_hand_made_record(tmp_path):
    rows = (
        [row(d) for d in range(0, 60, 6)]  # 10 rockets
        + [row(d, action="ied_convoy", target="convoy") for d in (1, 13, 25, 37, 49)]
        + [row(d, action="drone", target="erbil") for d in (7, 50)]
        + [row(30, action="assault", target="baghdad_embassy")]  # not an attack
        + [row(31, actor="us", action="airstrike", target="militia_site")]
    )
    rec, w = record(tmp_path, rows), window(61)
    months = 61 / DAYS_PER_MONTH
    expected = {None: 17, "rocket": 10, "ied_convoy": 5, "drone": 2}
    for weapon, n in expected.items():
        stat = attacks_per_month(rec, w, weapon)
        assert (stat.value, stat.n) == (pytest.approx(n / months), n), weapon
    short = attacks_per_month(rec, window(20))
    assert math.isnan(short.value) and "days in the window" in short.reason


def test_attacks_per_month_of_a_poisson_record_is_its_rate(tmp_path):
    rate, days = 0.3, 3000  # a day
    stat = attacks_per_month(
        record(tmp_path, attack_rows(poisson_days(1, rate, days))), window(days)
    )
    # a Poisson count of mean rate * days has standard deviation sqrt(rate * days)
    se = math.sqrt(rate * days) / days * DAYS_PER_MONTH
    assert abs(stat.value - rate * DAYS_PER_MONTH) <= 3 * se


def test_attacks_whose_weapon_the_record_does_not_name_count_in_the_total_alone(tmp_path):
    days = poisson_days(2, 0.3, 200)
    rec = record(tmp_path, [row(int(d), action="other", target="other") for d in days])
    w = window(200)
    total = attacks_per_month(rec, w)
    assert (total.value, total.n) == (pytest.approx(len(days) / (200 / DAYS_PER_MONTH)), len(days))
    for weapon in ("rocket", "ied_convoy", "drone"):
        by_weapon = attacks_per_month(rec, w, weapon)
        assert math.isnan(by_weapon.value) and by_weapon.reason == "the record names no weapons"
    card = scorecard(rec, w, config().ladder)
    assert card["burstiness"].n == len(days) - 1  # the gaps between these attacks
    assert card["highest_rung"].value == 2  # base attacks, as a rocket's
    # once one attack names its weapon, the rates by weapon are supported
    named = record(tmp_path, [row(0), *(row(int(d), action="other") for d in days)])
    assert attacks_per_month(named, w, "rocket").n == 1


# --- lags, probabilities, shares on hand-made records -----------------------------------------


def lags_record(tmp_path) -> pd.DataFrame:
    rows = [
        row(0, k=1),  # killed: strike 3 days later
        row(3, actor="us", action="airstrike", target="militia_site"),
        row(5),  # next attack 2 days after the strike
        row(20, k=2, w=1),  # killed: next strike 20 days later (outside 14)
        row(28),  # 8 days after... no strike before it: not a strike-to-attack lag
        row(40, actor="us", action="airstrike", target="syria_site", country="syria"),
        row(44),  # 4 days after the strike
        row(60, k=1),  # killed; a strike the same day does not count as its answer
        row(60, actor="us", action="airstrike", target="militia_site"),
        row(61, actor="us", action="airstrike", target="militia_site"),
        row(62),  # 1 day after the last strike
    ]
    return record(tmp_path, rows)


def test_strike_after_death_probability_and_lags(tmp_path):
    rec, w = lags_record(tmp_path), window(70)
    p = p_strike_after_death(rec, w)
    assert (p.value, p.n) == (pytest.approx(2 / 3), 3)
    assert lag_death_to_strike(rec, w).value == 3.0  # lags 3, 20, 1
    # strikes on days 3, 40, 60, 61 -> next attacks on 5, 44, 62, 62: lags 2, 4, 2, 1
    assert lag_strike_to_attack(rec, w).value == 2.0


def test_too_few_lethal_attacks_is_unsupported_with_a_reason(tmp_path):
    rec = record(tmp_path, [row(0, k=1), row(3, actor="us", action="airstrike")])
    stat = p_strike_after_death(rec, window(10))
    assert math.isnan(stat.value)
    assert stat.reason == "too few attacks that kill US nationals: n = 1 < 3"


def test_casualty_share_counts_only_attacks_with_known_figures(tmp_path):
    known = [row(d, k=0, w=0) for d in range(7)] + [row(7, w=2), row(8, k=1), row(9, k=1, w=0)]
    unknown = [row(d) for d in range(10, 15)]
    stat = casualty_share(record(tmp_path, known + unknown), window(20))
    assert (stat.value, stat.n) == (pytest.approx(0.3), 10)
    few = casualty_share(record(tmp_path, known[:5] + unknown), window(20))
    assert math.isnan(few.value)
    assert f"< {MIN_ATTACKS_WITH_CASUALTY_FIGURES}" in few.reason


def test_embassy_assault_is_not_an_attack(tmp_path):
    rec = record(tmp_path, [row(0), row(1, action="assault", target="baghdad_embassy")])
    assert len(attacks(rec)) == 1


def test_highest_rung_follows_the_ladder(tmp_path):
    ladder = config().ladder
    rec = record(tmp_path, [row(0, target="convoy", action="ied_convoy")])
    assert highest_rung(rec, window(10), ladder).value == 1
    rec = record(tmp_path, [row(0), row(1, actor="us", action="airstrike", country="syria")])
    assert highest_rung(rec, window(10), ladder).value == 4
    rec = record(tmp_path, [row(0, w=3), row(2, actor="iran", action="ballistic_missile")])
    assert highest_rung(rec, window(10), ladder).value == 7


def test_every_statistic_says_why_on_a_tiny_record(tmp_path):
    card = scorecard(record(tmp_path, attack_rows([0, 1])), window(10), config().ladder)
    for name, stat in card.items():
        if name != "highest_rung":
            assert math.isnan(stat.value) and stat.reason, name
    assert f"< {MIN_HAWKES_EVENTS}" in card["branching_ratio"].reason


def test_monthly_attacks_cover_partial_edge_months(tmp_path):
    rec = record(tmp_path, attack_rows([0, 1, 40, 40, 75]))
    counts = monthly_attacks(rec, Window(START, pd.Timestamp("2020-03-20")))
    assert counts.tolist() == [2, 2, 1]
    assert str(counts.index[0]) == "2020-01"


# --- simulated events in the record schema -----------------------------------------------------


@pytest.mark.slow
def test_simulated_events_become_a_valid_record(tmp_path):
    # with groups splitting (a split is neither an attack nor a row of the record)
    split = ("actors.dynamics.splinter_probability=1", "doctrine.us.decapitation_probability=1")
    cfg = compose("replicates=12", "days=200", "output.events=all", *split)
    result = Simulation(cfg).run()
    assert (result.events.kind == "splinter_formed").any()
    rec = events_to_record(result.events, cfg.theatre)
    assert set(rec["actor"]) <= set(ACTORS)
    assert set(rec["action"]) <= set(ACTIONS)
    assert set(rec["target"]) <= set(TARGETS)
    assert set(rec["country"]) <= set(COUNTRIES)
    # every simulated attack is a record attack, replicate by replicate
    per_replicate = attacks(rec).groupby("replicate").size()
    expected = result.replicates.set_index("replicate")["attacks"]
    assert per_replicate.reindex(expected.index, fill_value=0).tolist() == expected.tolist()
    # and the converted events pass the record loader
    path = tmp_path / "simulated.csv"
    rec[rec["replicate"] == 0].drop(columns="replicate").assign(
        date=lambda f: f["date"].dt.strftime("%Y-%m-%d")
    ).to_csv(path, index=False)
    assert len(load_events(path)) == int((rec["replicate"] == 0).sum())


# --- the simulated reference: pooled over replicates -------------------------------------------


def _parts(**given) -> Parts:
    empty = np.zeros(0)
    fields = {"casualty_known": 0, "casualty_hit": 0, "strike_followed": empty.astype(bool),
              "death_strike_lags": empty, "strike_attack_lags": empty,
              "daily": np.zeros(10, dtype=np.int64)}  # fmt: skip
    return Parts(**(fields | given))


def test_a_rare_share_is_pooled_over_replicates_and_judged_at_the_observed_n():
    # one lethal attack per replicate: no replicate supports the share on its own (< 3),
    # the ensemble does: 70 of 100 are answered within 14 days
    pieces = [_parts(strike_followed=np.array([i < 70])) for i in range(100)]
    observed = Statistic(0.2, 5)  # 1 of 5 observed lethal attacks answered
    ref = pooled_reference("p_strike_after_death", observed, pieces)
    assert ref.value == pytest.approx(0.7) and ref.n == 100
    low, high = stats.binom.ppf([0.05, 0.95], 5, 0.7) / 5
    assert (ref.low, ref.high) == (pytest.approx(low), pytest.approx(high))
    assert not ref.low <= observed.value <= ref.high
    # and the whole row is judged although every replicate's own value is undefined
    ensemble = Ensemble(
        pd.DataFrame({name: [np.nan] * 100 for name in STATISTICS}), pd.DataFrame(), 0.0, pieces
    )
    observed_all = {name: Statistic(math.nan, 0, "none") for name in STATISTICS}
    observed_all["p_strike_after_death"] = observed
    row = {r["statistic"]: r for r in compare(observed_all, ensemble)}["p_strike_after_death"]
    assert row["inside"] is False and row["observed_n"] == 5 and row["simulated_n"] == 100
    assert row["method"] == "pooled_share"


def test_casualty_share_pools_the_attacks_with_figures():
    pieces = [_parts(casualty_known=4, casualty_hit=1), _parts(casualty_known=6, casualty_hit=0)]
    ref = pooled_reference("casualty_share", Statistic(0.1, 10), pieces)
    assert ref.value == pytest.approx(0.1) and ref.n == 10
    too_few = pooled_reference("casualty_share", Statistic(0.1, 10), pieces[:1])
    assert too_few.value is None and "too few attacks with casualty figures" in too_few.reason


def test_a_pooled_lag_median_is_judged_by_medians_of_the_observed_number_of_lags():
    lags = np.array([1.0, 2.0, 3.0, 4.0, 30.0])
    pieces = [_parts(strike_attack_lags=lags) for _ in range(20)]
    ref = pooled_reference("lag_strike_to_attack", Statistic(3.0, 1), pieces)
    # the median of one lag drawn from the pooled lags is one of them, each a fifth of the time
    assert ref.value == 3.0 and (ref.low, ref.high) == (1.0, 30.0)
    many = pooled_reference("lag_strike_to_attack", Statistic(3.0, 201), pieces)
    # the median of 201 draws is 3 unless at least 101 of them fall on one side of it
    # (P = 2 P(Binomial(201, 0.4) >= 101) ~ 0.002), within 2 and 4 always
    assert 2.0 <= many.low <= 3.0 <= many.high <= 4.0


@pytest.mark.slow
def test_the_branching_ratio_pooled_over_replicates_and_its_interval():
    # 40 short records of a Hawkes process with n = 0.5: each alone holds ~110 attacks
    truth, days = 0.5, 365
    records = np.stack([simulate_hawkes(0.15, truth, 0.8, days, 100 + s) for s in range(40)])
    pooled = fit_hawkes(records)
    se_pooled = hawkes_branching_se(records, pooled)
    assert abs(pooled.branching - truth) < 3 * se_pooled, (pooled, se_pooled)
    # the observed record's standard error reads the spread of fits to records like it:
    # across 40 records the sd of the fits is known to about 1 / sqrt(2 x 39) = 11%
    fits = [fit_hawkes(r) for r in records]
    ses = np.array([hawkes_branching_se(r, f) for r, f in zip(records, fits, strict=True)])
    spread = np.std([f.branching for f in fits], ddof=1)
    assert 0.6 < np.nanmedian(ses) / spread < 1.5, (np.nanmedian(ses), spread)
    # and the interval (pooled value +/- 1.645 observed s.e.) covers records of the
    # process about 90% of the time: at least the 1% lower quantile of Binomial(40, 0.9)
    pieces = [_parts(daily=r) for r in records]
    inside = 0
    for r, f, se in zip(records, fits, ses, strict=True):
        ref = pooled_reference("branching_ratio", Statistic(f.branching, int(r.sum()), se=se),
                               pieces)  # fmt: skip
        inside += ref.low is not None and ref.low <= f.branching <= ref.high
    assert inside >= stats.binom.ppf(0.01, len(records), 0.9), inside


def test_at_a_branching_ratio_of_zero_the_standard_error_is_the_expected_information():
    # on a Poisson record the fit often sits at n = 0, where the decay is not identified;
    # the standard error is then that of n with the rate profiled out (as in the test of
    # Poisson records above): sqrt(mu / sum (S_t - mean S)^2)
    for seed in range(10):
        counts = np.random.default_rng(seed).poisson(0.3, 3000)
        fit = fit_hawkes(counts)
        se = hawkes_branching_se(counts, fit)
        assert np.isfinite(se) and se > 0, (seed, fit)
        if fit.branching < 1e-6:
            s = _excitation(counts, fit.decay)
            assert se == pytest.approx(math.sqrt(fit.baseline / np.sum((s - s.mean()) ** 2)))
