"""The compiled loops compute what the NumPy core computes, to the last bit."""

from __future__ import annotations

import copy
import dataclasses
import importlib

import numpy as np
import pandas as pd
import pytest
from conftest import config
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim import core, fused
from sim.engine import Simulation, run
from sim.kernels import categorical_from_uniform, poisson_from_uniform
from sim.metrics import QUANTILES, quantiles
from sim.state import NEVER

pytestmark = pytest.mark.skipif(not fused.AVAILABLE, reason="numba is not installed")


def _both(cfg):
    """The run with the compiled loops and with the NumPy core alone."""
    results = {}
    for enabled in (True, False):
        fused.ENABLED = enabled
        try:
            results[enabled] = run(cfg)
        finally:
            fused.ENABLED = fused.AVAILABLE
    return results[True], results[False]


@pytest.mark.parametrize(
    "overrides",
    [
        ("replicates=300", "output.events=all", "output.daily=full"),
        ("replicates=400", "days=120", "output.events=all"),  # daily quantiles
        ("replicates=200", "doctrine/us=max_pressure", "output.events=all", "output.daily=full"),
        ("replicates=200", "doctrine/us=decapitation", "scenario=summer2020_convoys"),
        ("replicates=1", "days=200"),
    ],
)
def test_runs_are_identical_with_and_without_the_compiled_loops(overrides):
    compiled, numpy_only = _both(config(*overrides))
    assert len(compiled.events) > 0
    for name in ("events", "daily", "replicates"):
        pd.testing.assert_frame_equal(
            getattr(compiled, name), getattr(numpy_only, name), check_exact=True
        )
    if compiled.daily_quantiles is not None:
        pd.testing.assert_frame_equal(
            compiled.daily_quantiles, numpy_only.daily_quantiles, check_exact=True
        )


def _with(enabled, func, *args):
    fused.ENABLED = enabled
    try:
        return func(*args)
    finally:
        fused.ENABLED = fused.AVAILABLE


@pytest.mark.parametrize(
    "overrides",
    [("doctrine/us=max_pressure",), ("scenario=summer2020_convoys", "doctrine/us=decapitation")],
)
def test_hazards_target_choice_and_capacity_match_numpy_every_day(overrides):
    """Bit for bit on the states of a real run: the opportunities and rates, the (target,
    weapon) drawn for every group on random uniforms, the munitions fired, interceptions
    and expected casualties of random attacks, casualty draws, mean capability, the day's
    values of the daily series and the day's supply."""
    sim = Simulation(config("replicates=300", *overrides))
    rng = np.random.default_rng(0)
    params, M = sim.params, sim.params.n_militias
    while not sim.done:
        state, day = sim.state, sim.day
        compiled = _with(True, core._hazards, state, params, day)
        numpy_only = _with(False, core._hazards, state, params, day)
        for a, b in zip(compiled, numpy_only, strict=True):
            np.testing.assert_array_equal(a, b)
        _, cap, opportunity, _ = compiled
        rows, militia = np.nonzero(state.active[:, None] & np.ones(M, dtype=bool))
        u = rng.random(len(rows))
        weights = np.repeat(opportunity[rows], cap.shape[2], axis=1)
        weights *= params.attack_weight.reshape(M, -1)[militia]
        weights *= np.tile(cap[rows, militia], opportunity.shape[1])
        np.testing.assert_array_equal(
            fused.choose_target_weapon(
                u, rows, militia, opportunity, params.attack_weight.reshape(M, -1), cap
            ),
            categorical_from_uniform(u, weights),
        )
        # every group fires at a random target with a random weapon and salvo
        target = rng.integers(0, opportunity.shape[1], len(rows))
        weapon = rng.integers(0, cap.shape[2], len(rows))
        salvo = rng.integers(1, 40, len(rows))
        fired = []
        for enabled in (True, False):
            copy = dataclasses.replace(state, stock=state.stock.copy())
            out = _with(
                enabled, core.attack_exposure, copy, params, rows, militia, target, weapon, salvo, u
            )
            fired.append((*out, copy.stock))
        for a, b in zip(*fired, strict=True):
            np.testing.assert_array_equal(a, b)
        means = fired[0][2]
        np.testing.assert_array_equal(
            _with(True, poisson_from_uniform, u, means[0] * 50.0),
            _with(False, poisson_from_uniform, u, means[0] * 50.0),
        )
        out = np.empty((2, state.replicates))
        _with(True, core.mean_capability, state, params, out[0])
        _with(False, core.mean_capability, state, params, out[1])
        np.testing.assert_array_equal(out[0], out[1])
        # the day's values of every daily series, to the bit (signs of zeros included)
        values = [_with(e, core.daily_values, state, params) for e in (True, False)]
        np.testing.assert_array_equal(values[0].view(np.int64), values[1].view(np.int64))
        stocks = []
        for enabled in (True, False):
            copy = dataclasses.replace(
                state, stock=state.stock.copy(), transfer_recent=state.transfer_recent.copy()
            )
            _with(enabled, core.supply, copy, params, day)
            stocks.append(copy.stock.view(np.int64))
        np.testing.assert_array_equal(*stocks)
        sim.step()


@pytest.mark.parametrize(
    "overrides",
    [
        ("doctrine/us=max_pressure",),
        ("scenario=summer2020_convoys", "doctrine/us=decapitation"),
        ("scenario=dec2019_crisis",),
        ("doctrine/iraq=crackdown",),
    ],
)
def test_every_state_array_is_identical_day_by_day(overrides):
    """Two ensembles on the same draws, one with the compiled loops and one without,
    stepped side by side: every array of their states agrees to the bit every day."""
    cfg = config("replicates=200", "days=150", *overrides)
    compiled, numpy_only = Simulation(cfg), Simulation(cfg)
    while not compiled.done:
        _with(True, compiled.step)
        _with(False, numpy_only.step)
        for f in dataclasses.fields(compiled.state):
            a, b = getattr(compiled.state, f.name), getattr(numpy_only.state, f.name)
            assert np.array_equal(a, b), f"{f.name} differs on day {compiled.day - 1}"
            if a.dtype.kind == "f":  # and to the sign of zero
                assert np.array_equal(np.signbit(a), np.signbit(b)), f.name


def _rows(elements):
    return hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 300)),
        elements=elements,
    )


WHOLE = st.integers(0, 5000).map(float)
ANY = st.floats(allow_nan=True, allow_infinity=True)
SMALL = st.sampled_from([0.0, 1.0, 2.0, 0.5, -0.0, -1.0, 1e-300, 7.25])


@given(st.one_of(_rows(WHOLE), _rows(ANY), _rows(SMALL), _rows(st.floats(-1e6, 1e6))))
def test_quantiles_match_numpy_to_the_bit(values):
    expected = np.quantile(values, QUANTILES, axis=1)
    got = quantiles(values.copy())
    with np.errstate(invalid="ignore"):
        same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    assert same.all(), (values, got, expected)


def test_quantiles_of_a_day_match_numpy_on_realistic_rows():
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.3, (4, 10_000)).astype(float)  # counted
    levels = rng.lognormal(0.0, 2.0, (4, 10_000))  # bucketed
    mixed = np.where(rng.random((2, 10_000)) < 0.9, 0.0, rng.random((2, 10_000)))
    # most replicates at one level (full resolve, the starting troops): a bucket of one
    # repeated value, taken without a sort
    spread = 0.4 * rng.random((2, 10_000)) + 0.6 * (rng.random((2, 10_000)) < 0.5)
    held = np.where(rng.random((2, 10_000)) < [[0.7], [0.3]], 0.5, spread)
    values = np.vstack([counts, levels, mixed, held])
    expected = np.quantile(values, QUANTILES, axis=1)
    assert np.array_equal(quantiles(values.copy()), expected)


@pytest.mark.parametrize(
    "n", [2, 100, fused.SORT_LIMIT, fused.SORT_LIMIT + 1, 3 * fused.SORT_LIMIT]
)
def test_quantiles_match_numpy_on_both_sides_of_the_sort_limit(n):
    """Short rows of other numbers are sorted whole, longer ones bucketed: both give
    NumPy's quantiles, for spread values, one value repeated and a few values."""
    rng = np.random.default_rng(n)
    values = np.vstack(
        [
            rng.lognormal(0.0, 2.0, n),
            np.where(rng.random(n) < 0.7, 0.5, rng.random(n)),
            rng.poisson(0.3, n) + 0.25,
            np.where(rng.random(n) < 0.5, -0.0, rng.normal(size=n)),
        ]
    )
    expected = np.quantile(values, QUANTILES, axis=1)
    assert np.array_equal(quantiles(values.copy()), expected)


@pytest.mark.parametrize(
    "spoiler", [0.5, -0.0, -1.0, np.nan, np.inf, float(fused.COUNT_LIMIT), 1e300]
)
@pytest.mark.parametrize("where", [0, fused.CHECK_BLOCK - 1, fused.CHECK_BLOCK, 2_999])
def test_rows_of_whole_numbers_spoiled_after_the_first_block_are_not_counted(spoiler, where):
    """A row of small whole numbers with one value that is not one (a fraction, a zero
    of the wrong sign, a NaN, an infinity, a value past the count's limit) in a later
    block of the check: its quantiles still match NumPy's, NaN and -0.0 included."""
    rng = np.random.default_rng(where)
    row = rng.poisson(0.4, 3_000).astype(float)
    row[where] = spoiler
    values = np.vstack([row, rng.poisson(2.0, 3_000).astype(float)])
    expected = np.quantile(values, QUANTILES, axis=1)
    got = quantiles(values.copy())
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_quantiles_of_rows_laid_out_in_columns_match_numpy():
    """A day's values taken from a table (replicates x series, transposed) are rows with a
    stride: the bit-pattern reductions read them as they are."""
    rng = np.random.default_rng(5)
    table = np.column_stack([rng.poisson(0.7, 2_500), rng.random(2_500), rng.poisson(3, 2_500)])
    values = table.astype(float).T  # (3, 2500), Fortran order
    assert not values[0].flags.c_contiguous
    assert np.array_equal(quantiles(values), np.quantile(values, QUANTILES, axis=1))


def test_bit_pattern_helpers_give_numbers_and_ranges():
    row = np.array([3.0, -2.5, 7.25, -0.0, 1e-300, -1e300])
    assert fused._finite_range(row) == (-1e300, 7.25, True)
    assert not fused._finite_range(np.array([1.0, np.nan]))[2]
    assert not fused._finite_range(np.array([-np.inf, 1.0]))[2]
    assert fused._whole_top(np.array([0.0, 3.0, 17.0, 2.0])) == 17
    for spoiled in ([0.0, 1.5], [0.0, -0.0], [np.nan], [float(fused.COUNT_LIMIT)]):
        assert fused._whole_top(np.array(spoiled)) == -1


@pytest.mark.parametrize("n", [8, 9, 12, 15, 16, 17, 63, 64, 100, 127, 128])
def test_pairwise_sum_is_numpys_sum(n):
    rng = np.random.default_rng(n)
    for _ in range(200):
        row = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
        assert 0.0 + fused._pairwise_sum(row, n) == row.sum()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 29, 63, 64, 100, 128])
def test_column_sums_add_each_column_as_numpy_adds_a_row(n):
    rng = np.random.default_rng(n)
    rows = rng.standard_normal((300, n)) * 10.0 ** rng.integers(-8, 8, (300, n))
    rows[:7] = -0.0  # a column of negative zeros sums to +0.0, as NumPy's does
    out = np.empty(300)
    fused.column_sums(np.ascontiguousarray(rows.T), n, out)
    expected = rows.sum(axis=1)
    assert np.array_equal(out, expected) and np.array_equal(np.signbit(out), np.signbit(expected))


def test_the_environment_can_turn_the_loops_off(monkeypatch):
    monkeypatch.setenv("ESCALATION_KERNELS", "numpy")
    try:
        assert not importlib.reload(fused).ENABLED
    finally:
        monkeypatch.delenv("ESCALATION_KERNELS")
        importlib.reload(fused)
    assert fused.ENABLED


@pytest.mark.parametrize("n", [1, 5, 8, 9, 12, 16, 31, 64, 128, 129, 200])
def test_sum_last_is_numpys_sum_in_every_layout(n):
    from sim.kernels import sum_last

    rng = np.random.default_rng(n)
    for shape in [(50, n), (3, 7, n), (1, n)]:
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)
        for arr in (a, np.asfortranarray(a), a[::2]):
            assert np.array_equal(sum_last(arr), arr.sum(axis=-1))


def test_random_streams_hash_the_same_numbers_compiled_or_not():
    from sim.rng import RandomStreams, Stream

    streams = RandomStreams(7, np.arange(500))
    rng = np.random.default_rng(0)

    def draws(day, stream, slots, rows, pairs):
        return (
            streams.uniform(day, stream, slots),
            streams.uniform(day, stream, slots, rows),
            streams.uniform_at(day, stream, *pairs),
            streams.uniform_at(day, stream, pairs[0], 2),  # one slot for every row
            streams.uniforms_at(day, (stream, Stream.SALVO), *pairs),
        )

    for day in (0, 1, 364, 5000):
        for stream in Stream:
            for slots in (1, 4, 9):
                args = (day, stream, slots, rng.integers(0, 500, 50))
                args += ((rng.integers(0, 500, 100), rng.integers(0, 9, 100)),)
                compiled = _with(True, draws, *args)
                for a, b in zip(compiled, _with(False, draws, *args), strict=True):
                    np.testing.assert_array_equal(a, b)
                rows, slots = args[-1]
                full = streams.uniform(day, stream, 9)
                np.testing.assert_array_equal(compiled[2], full[rows, slots])
                np.testing.assert_array_equal(compiled[3], full[rows, 2])
                np.testing.assert_array_equal(compiled[4][0], compiled[2])


def test_draws_below_a_threshold_pick_the_cells_numpy_picks():
    """``RandomStreams.below`` (draw, compare, mask and collect in one loop) gives the
    cells of ``np.nonzero(where & (uniform < threshold))``, for every way a doctrine
    broadcasts its threshold and mask."""
    from sim.rng import RandomStreams, Stream

    R, M = 2 * fused.HASH_BLOCK + 37, 4  # blocks of rows (several slots), the last one short
    streams = RandomStreams(3, np.arange(R))
    rng = np.random.default_rng(1)
    thresholds = [0.3, rng.random((R, 1)), rng.random(M), rng.random((R, M)), np.nan]
    masks = [True, rng.random((R, 1)) < 0.5, rng.random((R, M)) < 0.7, False]
    row_masks = [True, rng.random(R) < 0.6]
    for slots in (1, M):
        for threshold in thresholds:
            if np.ndim(threshold) and np.shape(threshold)[-1] != 1 and slots == 1:
                continue
            for where in masks:
                if np.ndim(where) and np.shape(where)[-1] != 1 and slots == 1:
                    continue
                for row_where in row_masks:
                    args = (9, Stream.IRAQ_RELEASE, slots, threshold, where, row_where)
                    compiled = _with(True, streams.below, *args)
                    numpy_only = _with(False, streams.below, *args)
                    rows_ok = np.reshape(row_where, (-1, 1))
                    u = streams.uniform(*args[:3])
                    expected = np.nonzero(where & rows_ok & (u < threshold))
                    for a, b, c in zip(compiled, numpy_only, expected, strict=True):
                        np.testing.assert_array_equal(a, c)
                        np.testing.assert_array_equal(b, c)
                        assert a.dtype == np.int64
                    hits = len(compiled[0])
                    assert (hits > 0) == (threshold is not np.nan and where is not False)


@given(
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 3)), max_size=60),
    st.booleans(),
)
def test_response_learning_and_casualties_match_numpy(strikes, in_order):
    """The compiled response learning (rows in order, or handed back to NumPy when they
    are not) and US casualty tallies give NumPy's arrays, repeated replicates included."""
    from sim.kernels import learn_response, record_us_casualties

    if in_order:
        strikes = sorted(strikes)
    rows = np.array([r for r, _ in strikes], dtype=np.int64)
    militia = np.array([m for _, m in strikes], dtype=np.int64)
    sim = Simulation(config("replicates=30", "days=5"))
    rng = np.random.default_rng(len(strikes))
    sim.state.perceived_risk[:] = rng.random(sim.state.perceived_risk.shape)
    sim.state.first_us_death_day[::3] = 2
    killed, wounded = rng.poisson(0.7, len(rows)), rng.poisson(1.5, len(rows))

    def apply():
        state = dataclasses.replace(
            sim.state,
            **{f.name: getattr(sim.state, f.name).copy() for f in dataclasses.fields(sim.state)},
        )
        learn_response(state, sim.params, rows, militia)
        record_us_casualties(state, sim.params, rows, killed, wounded, 4)
        return state

    compiled, numpy_only = _with(True, apply), _with(False, apply)
    for name in ("perceived_risk", "killed_us_today", "wounded_us_today", "us_resolve"):
        assert np.array_equal(getattr(compiled, name), getattr(numpy_only, name)), name
    assert np.array_equal(compiled.first_us_death_day, numpy_only.first_us_death_day)
    first_deaths = {r for r, k in zip(rows, killed, strict=True) if k > 0 and r % 3}
    assert set(np.flatnonzero(compiled.first_us_death_day == 4)) == first_deaths


def _stressed(sim, rng):
    """A copy of ``sim``'s state pushed into every branch of the doctrines: closure
    threats, high sovereignty pressure, detainees, assaults, leaders and strikes due."""
    s = copy.deepcopy(sim.state)
    R, day = s.replicates, sim.day
    some = rng.random(R) < 0.5
    s.closure_threat_day[some] = day - rng.integers(0, 40, some.sum())
    s.sovereignty[:] = rng.uniform(
        0.0, 2.0 * sim.params.config.doctrine.iraq.expulsion_vote_threshold, R
    )
    s.last_vote_day[rng.random(R) < 0.3] = day - rng.integers(0, 60)
    s.detained[:] = np.where(
        rng.random(s.detained.shape) < 0.5, rng.uniform(0, 30, s.detained.shape), 0.0
    )
    s.assault_today[:] = rng.random(R) < 0.2
    s.truce_until[rng.random(R) < 0.3] = day + rng.integers(-10, 10)
    s.recent_attacks[:] = rng.integers(0, 4, s.recent_attacks.shape)  # ties for the raids
    s.decapitated_today[:] = rng.random(R) < 0.3
    s.retaliation_due[(rng.random(R) < 0.2)] = day  # direct strikes today
    s.talks_open[:] = rng.random(R) < 0.5
    s.responses_today[:] = rng.integers(0, 2, R)
    s.iran_restraint_until[rng.random(R) < 0.3] = day + rng.integers(-5, 5)
    s.tension[:] = rng.uniform(0, 20, R)
    s.recent_attacks[rng.random(R) < 0.2] += 10  # campaigns past the count trigger
    s.response_due[rng.random(s.response_due.shape) < 0.2] = day  # strikes due today
    s.strikes_on_group[:] = rng.integers(0, 5, s.strikes_on_group.shape)
    s.attacks_today[:] = rng.integers(0, 2, s.attacks_today.shape)
    s.recent_baghdad_attacks[:] = rng.uniform(0, 10, R)
    s.assault_until[rng.random(R) < 0.5] = day + rng.integers(-3, 3)
    s.protection[:, sim.params.theatre.embassy_sites] = rng.random((R, 1))
    s.assault_militia[:] = rng.integers(0, s.leadership.shape[1], R)
    s.leadership[:] = np.where(
        rng.random(s.leadership.shape) < 0.5, 1.0, rng.random(s.leadership.shape)
    )
    s.decapitation_due[rng.random(R) < 0.5] = NEVER
    # posture changes: a first death today, consolidation under way, a drawdown starting
    s.first_us_death_day[rng.random(R) < 0.2] = day
    s.consolidation_start[rng.random(R) < 0.3] = day - rng.integers(0, 30)
    s.drawdown_start[rng.random(R) < 0.3] = day - rng.integers(0, 3)
    s.upgrade_due[rng.random(R) < 0.2] = day
    return s


DOCTRINE_STRESS = (
    "replicates=400",
    "doctrine.iraq.raid_rate=0.3",
    "doctrine.iraq.raid_rate_under_closure_threat=0.6",
    "doctrine.iraq.release_rate=0.2",
    "doctrine.iraq.expulsion_vote_probability=0.5",
    "doctrine.iraq.truce_probability=0.5",
    "doctrine.israel.interdiction_rate=0.3",
    "doctrine.iran.direct_retaliation_probability=0.5",
    "doctrine.iran.talks_collapse_probability=0.5",
)


@pytest.mark.parametrize(
    "rule, overrides",
    [
        ("iraq_act", ()),
        ("israel_interdict", ()),
        ("israel_interdict", ("doctrine/israel=interdict_syria",)),
        ("militia_attacks", ()),
        ("militia_attacks", ("scenario=summer2020_convoys", "doctrine/us=max_pressure")),
        ("embassy_assault", ()),
        ("iran_act", ()),
        ("iran_act", ("scenario=biden2021",)),  # talks open on a day of the run
        ("us_respond", ()),
        ("us_respond", ("doctrine/us=max_pressure",)),  # escalating strikes
        ("us_respond", ("doctrine/us=proportional",)),
        ("us_respond", ("doctrine/us=restraint",)),  # no closure threat, no signals
        ("us_respond", ("doctrine/us=decapitation",)),  # leadership strikes after assaults
        # a posture change begun at the first death starts its moves the same day
        ("us_respond", ("doctrine/us=max_pressure", "doctrine.us.consolidation_lag_days=0")),
    ],
)
def test_compiled_doctrines_do_what_their_numpy_rules_do(rule, overrides):
    """Each compiled rule, on states pushed into all its branches over a run: the same
    state arrays to the bit, the same events in the same order, the same rungs."""
    from sim import doctrines
    from sim.events import EventLog
    from sim.kernels import Today

    sim = Simulation(config(*overrides, *DOCTRINE_STRESS))
    rng = np.random.default_rng(1)
    logged = 0
    while not sim.done:
        start = _stressed(sim, rng)
        args = ()
        if rule == "us_respond":  # it answers the day's attacks
            today = Today(start, sim.params, sim.streams, sim.day, EventLog(start.replicates))
            args = (core.militia_attacks(today),)
        after = []
        for enabled in (True, False):
            state = copy.deepcopy(start)
            log = EventLog(state.replicates)
            today = Today(state, sim.params, sim.streams, sim.day, log)
            _with(enabled, getattr(doctrines, rule, getattr(core, rule, None)), today, *args)
            after.append((state, log.columns()))
        (s1, e1), (s2, e2) = after
        for f in dataclasses.fields(s1):
            a, b = getattr(s1, f.name), getattr(s2, f.name)
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), f"{f.name}, day {sim.day}"
        assert e1.keys() == e2.keys()
        for name in e1:
            np.testing.assert_array_equal(e1[name], e2[name], err_msg=name)
        logged += len(e1["replicate"])
        sim.step()
    assert logged > 1000
