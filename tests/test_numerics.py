"""Inverse-CDF samplers against their distributions; fast paths against plain NumPy."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.metrics import QUANTILES, daily_stats
from sim.numerics.reductions import MATMUL_ROWS, rowwise_matmul, sum_last
from sim.numerics.sampling import (
    categorical_from_uniform,
    geometric_from_uniform,
    poisson_from_uniform,
)
from sim.rng import RandomStreams, Stream


def test_poisson_inverse_matches_scipy_exactly():
    rng = np.random.default_rng(0)
    u = rng.random(5000)
    mean = rng.uniform(0, 6, 5000)
    expected = stats.poisson.ppf(u, mean).astype(np.int64)
    np.testing.assert_array_equal(poisson_from_uniform(u, mean), expected)


def test_poisson_of_zero_mean_is_zero():
    assert poisson_from_uniform(np.array([0.0, 0.5, 0.999]), 0.0).tolist() == [0, 0, 0]


def test_geometric_has_the_requested_mean_and_support():
    u = np.random.default_rng(1).random(200_000)
    counts = geometric_from_uniform(u, np.full(u.shape, 6.0))
    assert counts.min() == 1
    assert abs(counts.mean() - 6.0) < 4 * np.sqrt(30.0 / u.size)  # variance (1-p)/p^2 = 30
    assert (geometric_from_uniform(u[:100], np.ones(100)) == 1).all()


def test_categorical_follows_weights_and_skips_zeros():
    u = np.random.default_rng(2).random(100_000)
    weights = np.tile([0.0, 1.0, 3.0, 0.0], (u.size, 1))
    idx = categorical_from_uniform(u, weights)
    assert set(np.unique(idx)) == {1, 2}
    assert abs((idx == 2).mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / u.size)


# --- the fast paths of a day: the same numbers as the plain NumPy they replace ---------


def test_sum_last_is_numpys_sum_to_the_last_bit():
    rng = np.random.default_rng(3)
    for n in range(1, 12):
        a = rng.normal(size=(2000, n)) * 10.0 ** rng.integers(-6, 6, size=(2000, n))
        np.testing.assert_array_equal(sum_last(a), a.sum(axis=-1))
        strided = rng.normal(size=(300, 5, n, 3))[:, :, :, 1]  # not contiguous
        np.testing.assert_array_equal(sum_last(strided), strided.sum(axis=-1))
        zeros = np.full((4, n), -0.0)
        assert not np.signbit(sum_last(zeros)).any()  # NumPy's sum of -0.0 is +0.0
    counts = rng.integers(0, 5, size=(50, 4))
    np.testing.assert_array_equal(sum_last(counts), counts.sum(axis=-1))


def test_rowwise_matmul_gives_each_row_the_same_bits_at_any_batch_size():
    rng = np.random.default_rng(4)
    a = rng.random((3 * MATMUL_ROWS + 17, 19)) * (rng.random((3 * MATMUL_ROWS + 17, 19)) < 0.7)
    b = rng.random((19, 12)) * (rng.random((19, 12)) < 0.5)
    whole = rowwise_matmul(a, b)
    for rows in (1, 2, 100, MATMUL_ROWS, MATMUL_ROWS + 1, 2 * MATMUL_ROWS + 1):
        np.testing.assert_array_equal(rowwise_matmul(a[:rows], b), whole[:rows])
    np.testing.assert_array_equal(rowwise_matmul(a[7:8], b), whole[7:8])
    np.testing.assert_array_equal(rowwise_matmul(a[:500], b), a[:500] @ b)
    np.testing.assert_allclose(whole, a @ b, rtol=1e-13)


def test_uniform_at_reads_the_same_numbers_as_the_full_table():
    streams = RandomStreams(11, np.array([0, 5, 9, 400]))
    rows = np.array([0, 0, 2, 3, 1])
    slots = np.array([3, 0, 2, 3, 1])
    table = streams.uniform(7, Stream.SALVO, 4, rows)
    np.testing.assert_array_equal(
        streams.uniform_at(7, Stream.SALVO, rows, slots), table[np.arange(len(rows)), slots]
    )


def test_categorical_equals_a_row_by_row_cumulative_search():
    rng = np.random.default_rng(5)
    weights = rng.random((3000, 57)) * (rng.random((3000, 57)) < 0.4)
    u = rng.random(3000)
    cum = np.cumsum(weights, axis=1)
    expected = np.minimum((cum < (u * cum[:, -1])[:, None]).sum(axis=1), 56)
    np.testing.assert_array_equal(categorical_from_uniform(u, weights), expected)


def test_daily_stats_in_place_equals_numpy_on_a_copy():
    rng = np.random.default_rng(6)
    values = np.vstack([rng.poisson(0.3, (5, 4001)), rng.random((4, 4001))]).astype(float)
    expected = np.vstack([np.quantile(values, QUANTILES, axis=1), values.mean(axis=1)])
    np.testing.assert_array_equal(daily_stats(values.copy()), expected)
    np.testing.assert_array_equal(daily_stats(values.copy(), overwrite=True), expected)
