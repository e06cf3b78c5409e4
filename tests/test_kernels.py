"""Inverse-CDF samplers against their distributions."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.kernels import categorical_from_uniform, geometric_from_uniform, poisson_from_uniform


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
