"""The numerical layer (``sim.numerics``) held to plain NumPy, bit for bit.

Each compiled helper is compared with the NumPy expression it replaces; those expressions
(the references below) live here and nowhere else. Samplers are also checked against
their distributions. The last tests hold the layer to its wall: it imports nothing of the
model and names no actor, doctrine or weapon.
"""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import sim.numerics
from sim.daily import QUANTILES, daily_stats
from sim.numerics import hashing
from sim.numerics import quantiles as qmod
from sim.numerics.quantiles import (
    CHECK_BLOCK,
    COUNT_LIMIT,
    SORT_LIMIT,
    order_statistics,
    quantiles,
)
from sim.numerics.reductions import (
    MATMUL_ROWS,
    PAIRWISE_BLOCK,
    _pairwise_sum,
    _row_sum,
    _small_sum,
    add_at,
    add_at_cells,
    any_last,
    cells_where_equal,
    column_sums,
    count_last,
    maximum_at,
    repeat_last,
    row_range,
    row_sums,
    rows_where_equal,
    rowwise_matmul,
    subtract_at,
    sum_last,
    sum_last_where,
)
from sim.numerics.sampling import (
    POISSON_MAX_COUNT,
    categorical_from_product,
    confidence_from_uniform,
    geometric_from_uniform,
    negative_binomial_from_uniform,
    poisson_count,
    poisson_from_uniform,
)
from sim.numerics.tallies import tally
from sim.rng import RandomStreams, Stream

# --- plain NumPy references: what each helper must compute, to the bit -----------------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def ref_splitmix(z) -> np.ndarray:
    """splitmix64's finaliser on a copy of a uint64 array."""
    z = np.array(z, dtype=np.uint64, ndmin=1)
    with np.errstate(over="ignore"):
        z = z ^ (z >> np.uint64(30))
        z = z * _M1
        z = z ^ (z >> np.uint64(27))
        z = z * _M2
        return z ^ (z >> np.uint64(31))


def ref_unit(z) -> np.ndarray:
    """Keyed counters to uniforms in [0, 1): the finaliser twice, the top 53 bits."""
    with np.errstate(over="ignore"):
        z = ref_splitmix(ref_splitmix(z) + _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def ref_salts(base, slots) -> np.ndarray:
    counters = np.uint64(base) | np.arange(slots, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return ref_splitmix(counters * _GOLDEN)


def ref_uniforms(keys, base, slots) -> np.ndarray:
    """(len(keys), slots): ``unit(keys[:, None] ^ mix(counter * GOLDEN)[None, :])``."""
    return ref_unit(keys[:, None] ^ ref_salts(base, slots)[None, :]).reshape(len(keys), slots)


def ref_uniforms_at(keys, rows, bases, slots) -> np.ndarray:
    slots = np.broadcast_to(np.asarray(slots).astype(np.uint64), rows.shape)
    out = np.empty((len(bases), len(rows)))
    for k, base in enumerate(bases):
        with np.errstate(over="ignore"):
            salt = ref_splitmix((np.uint64(base) | slots) * _GOLDEN)
        out[k] = ref_unit(keys[rows] ^ salt)
    return out


def ref_below(keys, base, slots, threshold, where, row_where):
    u = ref_uniforms(keys, base, slots)
    return np.nonzero(where & np.reshape(row_where, (-1, 1)) & (u < threshold))


def ref_poisson(u, mean, max_count=POISSON_MAX_COUNT) -> np.ndarray:
    """Inverse CDF of Poisson(mean) at u, a step of the running total at a time."""
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
    pmf = np.exp(-mean)
    count = np.zeros(u.shape, dtype=np.int64)
    cdf = pmf.copy()
    for k in range(1, max_count + 1):
        below = u >= cdf
        if not below.any():
            break
        count += below
        pmf = pmf * mean / k
        cdf = cdf + pmf
    return count


def ref_tally(rows, kinds, day, counted, category, by_kind, by_category, columns, values, sums):
    """The tallies of one batch as a sequence of ``np.add.at`` calls."""
    n = len(rows)
    kinds = np.broadcast_to(kinds, n)
    counted = np.broadcast_to(counted, n)
    category = np.broadcast_to(category, n)
    np.add.at(by_kind[:, :, 0], (kinds, rows), 1)
    # a (kind, row) counts a day once, however many items it has that day
    first = by_kind[kinds, rows, 2] != day
    by_kind[kinds[first], rows[first], 1] += 1  # fancy += does not accumulate
    by_kind[kinds, rows, 2] = day
    c = category[counted]
    last = by_category.shape[1] - 1
    np.add.at(by_category, (rows[counted], np.where(c < 0, last, c)), 1)
    for j, column in enumerate(columns):
        np.add.at(sums[:, column], rows, values[j])


def same_bits(a, b) -> bool:
    """Equal shapes, dtypes and bytes (so -0.0 is not +0.0, and NaNs compare)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return np.array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
    )


# --- samplers -------------------------------------------------------------------------


def test_poisson_inverse_matches_scipy_exactly():
    rng = np.random.default_rng(0)
    u = rng.random(5000)
    mean = rng.uniform(0, 6, 5000)
    expected = stats.poisson.ppf(u, mean).astype(np.int64)
    np.testing.assert_array_equal(poisson_from_uniform(u, mean), expected)


def test_poisson_of_zero_mean_is_zero():
    assert poisson_from_uniform(np.array([0.0, 0.5, 0.999]), 0.0).tolist() == [0, 0, 0]


def test_poisson_draws_are_the_running_total_search_of_numpy():
    """Every shape and layout of ``u``, a mean for all or one each, the largest uniform
    below 1 and means past the count's limit."""
    rng = np.random.default_rng(7)
    u = rng.random((40, 60))
    u[0, :5] = [0.0, np.nextafter(1.0, 0.0), 0.5, 1e-300, np.nan]
    mean = rng.uniform(0, 8, (40, 60))
    mean[1, :4] = [0.0, 150.0, 400.0, 1e-12]
    for uu, mm in [(u, mean), (u, 2.5), (u[:, ::3], mean[:, ::3]), (u.T, mean.T), (u[0], 0.7)]:
        assert same_bits(poisson_from_uniform(uu, mm), ref_poisson(uu, mm))
    assert same_bits(poisson_from_uniform(u, mean, 5), ref_poisson(u, mean, 5))
    assert poisson_from_uniform(np.array([0.99]), 400.0, 50)[0] == 50
    for ui, mi in zip(u[:3].ravel(), mean[:3].ravel(), strict=True):
        count = poisson_count(ui, mi, np.exp(-np.array([mi]))[0], POISSON_MAX_COUNT)
        assert count == ref_poisson(np.array([ui]), mi)[0]


@given(
    hnp.arrays(np.float64, st.integers(0, 50), elements=st.floats(0.0, 1.0, exclude_max=True)),
    st.floats(0.0, 60.0),
)
def test_poisson_draws_match_numpy_for_any_uniforms(u, mean):
    assert same_bits(poisson_from_uniform(u, mean), ref_poisson(u, mean))


def test_geometric_has_the_requested_mean_and_support():
    u = np.random.default_rng(1).random(200_000)
    counts = geometric_from_uniform(u, np.full(u.shape, 6.0))
    assert counts.min() == 1
    assert abs(counts.mean() - 6.0) < 4 * np.sqrt(30.0 / u.size)  # variance (1-p)/p^2 = 30
    assert (geometric_from_uniform(u[:100], np.ones(100)) == 1).all()


def test_geometric_is_scipys_inverse_cdf():
    rng = np.random.default_rng(8)
    u = rng.random(50_000)
    mean = rng.uniform(1.0, 30.0, 50_000)
    expected = stats.geom.ppf(u, 1.0 / mean).astype(np.int64)
    np.testing.assert_array_equal(geometric_from_uniform(u, mean), expected)
    # a mean of at most one is one try (scipy's p = 1 gives 0 there)
    assert (geometric_from_uniform(u[:50], rng.uniform(0.0, 1.0, 50)) == 1).all()


def test_categorical_follows_weights_and_skips_zeros():
    u = np.random.default_rng(2).random(100_000)
    ones = np.ones((u.size, 1))
    weights = np.tile([0.0, 1.0, 3.0, 0.0], (u.size, 1))[:, :, None]  # J = 4, K = 1
    idx = categorical_from_product(u, np.ones((u.size, 4)), weights, ones)
    assert set(np.unique(idx)) == {1, 2}
    assert abs((idx == 2).mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / u.size)


# --- the counter-based hash -----------------------------------------------------------


def _splitmix_int(z: int) -> int:
    """splitmix64's finaliser on a Python int: the constants, independently of NumPy."""
    mask = (1 << 64) - 1
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & mask
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_the_hash_is_splitmix64():
    # the first two outputs of the splitmix64 generator seeded with 0
    assert _splitmix_int(0x9E3779B97F4A7C15) == 0xE220A8397B1DCDAF
    assert _splitmix_int(2 * 0x9E3779B97F4A7C15 % 2**64) == 0x6E789E6AA1B965F4
    z = np.random.default_rng(0).integers(0, 2**64, 1000, dtype=np.uint64, endpoint=False)
    z[:3] = [0, 2**64 - 1, 0x9E3779B97F4A7C15]
    expected = ref_splitmix(z)
    assert [int(x) for x in expected[:50]] == [_splitmix_int(int(x)) for x in z[:50]]
    inplace = z.copy()
    assert hashing.splitmix(inplace) is inplace  # NumPy's, in place
    assert same_bits(inplace, expected)
    assert same_bits(hashing.unit(z.copy()), ref_unit(z))  # it hashes its argument in place
    for x in z[:20]:
        assert int(hashing._mix(x)) == int(ref_splitmix(x)[0])
        assert hashing._unit(x) == ref_unit(x)[0]


def _keys(n, seed=0):
    return np.random.default_rng(seed).integers(0, 2**64, n, dtype=np.uint64, endpoint=False)


def _base(day, stream):
    return np.uint64((day << 32) | (stream << 20))


@pytest.mark.parametrize(
    "R", [0, 1, 7, hashing.HASH_BLOCK, hashing.HASH_BLOCK + 1, 2 * hashing.HASH_BLOCK + 37]
)
@pytest.mark.parametrize("slots", [1, 2, 9])
def test_uniforms_and_salts_are_the_numpy_hash(R, slots):
    keys = _keys(R, R)
    for base in (_base(0, 1), _base(5000, 25), np.uint64(0xFFFFFFFFFFF00000)):
        assert same_bits(hashing.salts(base, slots), ref_salts(base, slots))
        out = np.full((R, slots), np.nan)
        hashing.uniforms(keys, base, slots, out)
        assert same_bits(out, ref_uniforms(keys, base, slots))
        assert ((out >= 0.0) & (out < 1.0)).all()
        every_other = np.full((len(keys[::2]), slots), np.nan)
        hashing.uniforms(keys[::2], base, slots, every_other)  # keys with a stride
        assert same_bits(every_other, out[::2])
        salts = hashing.salts(base, slots)
        for i in range(min(R, 3)):
            for j in range(slots):
                assert hashing.drawn(keys[i], salts[j]) == out[i, j]


def test_hash_keys_writes_only_the_first_places():
    keys, salt = _keys(300, 3), np.uint64(0x1234_5678_9ABC_DEF0)
    out = np.full(310, -1.0)
    hashing._hash_keys(keys, salt, out)
    assert same_bits(out[:300], ref_unit(keys ^ salt))
    assert (out[300:] == -1.0).all()


def test_uniforms_at_read_the_full_table():
    """Per-row slots or one slot for every row, several bases at once, no rows."""
    R, S = 600, 9
    keys = _keys(R, 4)
    rng = np.random.default_rng(4)
    bases = np.array([_base(d, s) for d, s in [(0, 1), (7, 3), (364, 25), (5000, 2)]])
    tables = [ref_uniforms(keys, b, S) for b in bases]
    for n in (0, 1, 500):
        rows = rng.integers(0, R, n)
        for slots in (rng.integers(0, S, n), np.array([2]), np.array([S - 1])):
            out = np.full((len(bases), n), np.nan)
            hashing.uniforms_at(keys, rows, bases, slots, out)
            assert same_bits(out, ref_uniforms_at(keys, rows, bases, slots))
            for k, table in enumerate(tables):
                assert same_bits(out[k], table[rows, np.broadcast_to(slots, rows.shape)])


R_BELOW, S_BELOW = 2 * hashing.HASH_BLOCK + 37, 4  # blocks of rows, the last one short


@pytest.mark.parametrize("S", [1, S_BELOW])
def test_below_picks_the_cells_numpy_picks(S):
    """``below`` against ``np.nonzero(where & row_where[:, None] & (u < threshold))`` for
    every shape a threshold and a mask broadcast from: (1, 1), (R, 1), (1, S), (R, S)."""
    R = R_BELOW
    keys, base = _keys(R, 5), _base(9, 20)
    rng = np.random.default_rng(S)
    thresholds = [
        np.array([[0.3]]),
        rng.random((R, 1)),
        rng.random((1, S)),
        rng.random((R, S)),
        np.array([[np.nan]]),
        np.array([[1.0]]),
        np.array([[0.0]]),
        np.where(rng.random((R, S)) < 0.95, rng.choice([0.0, -0.5, np.nan], (R, S)), 0.9),
    ]
    masks = [
        np.array([[True]]),
        rng.random((R, 1)) < 0.5,
        rng.random((1, S)) < 0.6,
        rng.random((R, S)) < 0.7,
        rng.random((R, S)) < 0.03,  # few cells can hit: only theirs are drawn
        np.array([[False]]),
    ]
    row_masks = [np.array([True]), rng.random(R) < 0.6, rng.random(R) < 0.05, np.array([False])]
    for threshold in thresholds:
        for where in masks:
            for row_where in row_masks:
                rows = np.full(R * S, -7, dtype=np.int64)
                slots = np.full(R * S, -7, dtype=np.int64)
                n = hashing.below(keys, base, S, threshold, where, row_where, rows, slots)
                expected = ref_below(keys, base, S, threshold, where, row_where)
                assert same_bits(rows[:n], expected[0])
                assert same_bits(slots[:n], expected[1])


def test_random_streams_hash_the_numpy_hash():
    """The streams' draws (whole tables, rows of them, cells, cells of several streams)
    are the NumPy hash of (key, day, stream, slot)."""
    streams = RandomStreams(7, np.arange(500))
    keys = streams.keys
    rng = np.random.default_rng(0)
    for day in (0, 1, 364, 5000):
        for stream in Stream:
            base = _base(day, int(stream))
            full = ref_uniforms(keys, base, 9)
            for slots in (1, 4, 9):
                rows = rng.integers(0, 500, 50)
                assert same_bits(streams.uniform(day, stream, slots), full[:, :slots])
                assert same_bits(streams.uniform(day, stream, slots, rows), full[rows, :slots])
            rows, slots = rng.integers(0, 500, 100), rng.integers(0, 9, 100)
            assert same_bits(streams.uniform_at(day, stream, rows, slots), full[rows, slots])
            assert same_bits(streams.uniform_at(day, stream, rows, 2), full[rows, 2])
            both = streams.uniforms_at(day, (stream, Stream.SALVO), rows, slots)
            salvo = ref_uniforms(keys, _base(day, int(Stream.SALVO)), 9)
            assert same_bits(both, np.stack([full[rows, slots], salvo[rows, slots]]))
            assert same_bits(streams.salts(day, stream, 9), ref_salts(base, 9))


def test_uniform_at_reads_the_same_numbers_as_the_full_table():
    streams = RandomStreams(11, np.array([0, 5, 9, 400]))
    rows = np.array([0, 0, 2, 3, 1])
    slots = np.array([3, 0, 2, 3, 1])
    table = streams.uniform(7, Stream.SALVO, 4, rows)
    np.testing.assert_array_equal(
        streams.uniform_at(7, Stream.SALVO, rows, slots), table[np.arange(len(rows)), slots]
    )


def test_random_streams_draw_below_a_threshold_where_numpy_does():
    """``RandomStreams.below`` with a threshold and masks given as scalars, columns, rows
    of slots or whole tables: the cells of ``np.nonzero(where & rows_ok & (u < t))``."""
    R, M = R_BELOW, S_BELOW
    streams = RandomStreams(3, np.arange(R))
    rng = np.random.default_rng(1)
    thresholds = [0.3, rng.random((R, 1)), rng.random(M), rng.random((R, M)), np.nan]
    masks = [True, rng.random((R, 1)) < 0.5, rng.random((R, M)) < 0.7, False]
    row_masks = [True, rng.random(R) < 0.6]
    for slots in (1, M):
        u = ref_uniforms(streams.keys, _base(9, int(Stream.TRUCE)), slots)
        for threshold in thresholds:
            if np.ndim(threshold) and np.shape(threshold)[-1] != 1 and slots == 1:
                continue
            for where in masks:
                if np.ndim(where) and np.shape(where)[-1] != 1 and slots == 1:
                    continue
                for row_where in row_masks:
                    got = streams.below(9, Stream.TRUCE, slots, threshold, where, row_where)
                    rows_ok = np.reshape(row_where, (-1, 1))
                    expected = np.nonzero(where & rows_ok & (u < threshold))
                    for a, b in zip(got, expected, strict=True):
                        assert same_bits(a, b.astype(np.int64))
                    hits = len(got[0])
                    assert (hits > 0) == (threshold is not np.nan and where is not False)


# --- reductions -----------------------------------------------------------------------


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


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 12, 16, 31, 64, 127, 128, 129, 200])
def test_sum_last_is_numpys_sum_in_every_layout(n):
    """C order, Fortran order, every other row; float64, float32 and ints; -0.0 rows."""
    rng = np.random.default_rng(n)
    for shape in [(50, n), (3, 7, n), (1, n), (n,)]:
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)
        if a.ndim > 1:
            a[..., 0, :] = -0.0  # a row of negative zeros
        for arr in (a, np.asfortranarray(a), a[::2], a.astype(np.float32)):
            assert same_bits(sum_last(arr), arr.sum(axis=-1)), (shape, arr.flags, arr.dtype)
        ints = rng.integers(-5, 5, shape)
        assert same_bits(sum_last(ints), ints.sum(axis=-1))


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 29, PAIRWISE_BLOCK])
def test_sum_last_where_is_the_sum_of_the_masked_copy(n):
    """Bit for bit ``sum_last(np.where(where, a, 0.0))``, -0.0 and strided views included."""
    rng = np.random.default_rng(n)
    a = rng.standard_normal((300, n)) * 10.0 ** rng.integers(-8, 8, (300, n))
    a[:3] = -0.0
    where = rng.random((300, n)) < 0.7
    where[3] = False
    for arr, mask in ((a, where), (a[::2], where[::2]), (np.asfortranarray(a), where)):
        want = sum_last(np.where(mask, arr, 0.0))
        assert same_bits(sum_last_where(arr, mask), want), (n, arr.flags)


@pytest.mark.parametrize("k", [0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 100, PAIRWISE_BLOCK])
def test_row_sums_add_each_row_as_numpy_adds_it(k):
    rng = np.random.default_rng(k)
    a = rng.standard_normal((200, k)) * 10.0 ** rng.integers(-8, 8, (200, k))
    a[:3] = -0.0
    for arr in (a, np.asfortranarray(a)):
        out = np.full(200, np.nan)
        row_sums(arr, out)
        assert same_bits(out, np.array([row.sum() for row in arr]))
    longer = np.hstack([a, np.full((200, 5), np.nan)])  # terms past k are not read
    for i in range(20):
        assert same_bits(_row_sum(longer[i], k), a[i].sum())
        if 0 < k < 8:
            assert same_bits(_small_sum(longer[i], k), a[i].sum())


@pytest.mark.parametrize("n", [8, 9, 12, 15, 16, 17, 63, 64, 100, 127, 128])
def test_pairwise_sum_is_numpys_sum(n):
    rng = np.random.default_rng(n)
    for _ in range(200):
        row = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
        assert same_bits(0.0 + _pairwise_sum(row, n), row.sum())
        longer = np.concatenate([row, [np.nan, 1e300]])
        assert same_bits(0.0 + _pairwise_sum(longer, n), row.sum())


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 29, 63, 64, 100, 128])
def test_column_sums_add_each_column_as_numpy_adds_a_row(n):
    rng = np.random.default_rng(n)
    rows = rng.standard_normal((300, n)) * 10.0 ** rng.integers(-8, 8, (300, n))
    rows[:7] = -0.0  # a column of negative zeros sums to +0.0, as NumPy's does
    terms = np.vstack([rows.T, np.full((3, 300), np.nan)])  # rows past n are not read
    out = np.full(300, np.nan)
    column_sums(terms, n, out)
    assert same_bits(out, np.array([terms[:n, r].sum() for r in range(300)]))
    assert same_bits(out, rows.sum(axis=1))


@pytest.mark.parametrize("columns", [12, 15, 40])  # 19 x 15 x 4096 is above SMALL_PRODUCT
def test_rowwise_matmul_gives_each_row_the_same_bits_at_any_batch_size(columns):
    rng = np.random.default_rng(4)
    a = rng.random((3 * MATMUL_ROWS + 17, 19)) * (rng.random((3 * MATMUL_ROWS + 17, 19)) < 0.7)
    b = rng.random((19, columns)) * (rng.random((19, columns)) < 0.5)
    whole = rowwise_matmul(a, b)
    for rows in (1, 2, 100, MATMUL_ROWS, MATMUL_ROWS + 1, 2 * MATMUL_ROWS + 1):
        np.testing.assert_array_equal(rowwise_matmul(a[:rows], b), whole[:rows])
    np.testing.assert_array_equal(rowwise_matmul(a[7:8], b), whole[7:8])
    np.testing.assert_array_equal(rowwise_matmul(a[:500], b), a[:500] @ b)
    np.testing.assert_allclose(whole, a @ b, rtol=1e-13)


_SMALL_INTS = st.integers(-3, 3)


@given(
    hnp.arrays(np.int64, st.tuples(st.integers(0, 40), st.integers(1, 5)), elements=_SMALL_INTS),
    st.integers(-3, 3),
    st.data(),
)
def test_rows_and_cells_where_equal_are_numpys_nonzero(a, value, data):
    active = data.draw(hnp.arrays(np.bool_, len(a)))
    col = np.ascontiguousarray(a[:, 0])
    assert same_bits(rows_where_equal(col, value, active), np.flatnonzero(active & (col == value)))
    rows, cols = cells_where_equal(a, value, active)
    expected = np.nonzero(active[:, None] & (a == value))
    assert same_bits(rows, expected[0].astype(np.int64))
    assert same_bits(cols, expected[1].astype(np.int64))


def test_rows_and_cells_where_equal_on_floats_and_days():
    rng = np.random.default_rng(9)
    never = np.iinfo(np.int64).max
    days = np.where(rng.random((1000, 4)) < 0.3, 17, never)
    active = rng.random(1000) < 0.8
    assert same_bits(
        rows_where_equal(days[:, 0].copy(), 17, active), np.flatnonzero(active & (days[:, 0] == 17))
    )
    assert same_bits(
        rows_where_equal(days[:, 1], 17, active), np.flatnonzero(active & (days[:, 1] == 17))
    )
    got = cells_where_equal(days, 17, active)
    for a, b in zip(got, np.nonzero(active[:, None] & (days == 17)), strict=True):
        assert same_bits(a, b.astype(np.int64))
    levels = np.where(rng.random(1000) < 0.5, 0.5, rng.random(1000))
    levels[:3] = [np.nan, -0.0, 0.0]
    for value in (0.5, 0.0, np.nan):
        expected = np.flatnonzero(active & (levels == value))
        assert same_bits(rows_where_equal(levels, value, active), expected)


@given(
    st.lists(st.integers(0, 9), max_size=40),
    st.booleans(),
    st.sampled_from([np.int64, np.int32]),
    st.integers(0, 2**32 - 1),
)
def test_maximum_at_is_numpys_maximum_at(rows, one_value, dtype, seed):
    """Repeated rows, one value for all or one each, integers of either width."""
    rng = np.random.default_rng(seed)
    rows = np.array(rows, dtype=np.int64)
    a = rng.integers(-5, 5, 10).astype(dtype)
    values = rng.integers(-6, 6, 1 if one_value else len(rows)).astype(dtype)
    expected = a.copy()
    np.maximum.at(expected, rows, np.broadcast_to(values, rows.shape))
    maximum_at(a, rows, values)
    assert same_bits(a, expected)


def test_maximum_at_refuses_floats():
    """NaNs and signed zeros would need NumPy's rules: floats are not raised here."""
    with pytest.raises(TypeError, match="integer arrays only"):
        maximum_at(np.zeros(3), np.array([0]), np.array([1.0]))


@given(hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(-(2**62), 2**62)))
def test_row_range_is_min_and_max(rows):
    assert row_range(rows) == (rows.min(), rows.max())
    assert row_range(rows[::2]) == (rows[::2].min(), rows[::2].max())


# --- quantiles ------------------------------------------------------------------------


SHORT = st.integers(1, 300)


def _rows(elements, lengths=SHORT):
    """(1 to 4, n) arrays: most values one repeated value, or every value drawn alike."""
    shape = st.tuples(st.integers(1, 4), lengths)
    return st.one_of(
        hnp.arrays(np.float64, shape, elements=elements),
        hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()),
    )


WHOLE = st.integers(0, 5000).map(float)
SIGNED = st.integers(-3000, 3000).map(float)  # whole numbers below zero: counted from the least
ANY = st.floats(allow_nan=True, allow_infinity=True)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
SMALL = st.sampled_from([0.0, 1.0, 2.0, 0.5, -0.0, -1.0, 1e-300, 7.25])
LONG = st.integers(SORT_LIMIT + 1, 3 * SORT_LIMIT)


def _numpy_quantiles(values, probabilities=QUANTILES):
    return np.quantile(values, probabilities, axis=1)


def _zeros_of_both_signs(row) -> bool:
    zero = row == 0.0
    return bool((zero & np.signbit(row)).any() and (zero & ~np.signbit(row)).any())


def assert_quantiles(got, expected, values):
    """Each row's quantiles to the bit; for a row holding both +0.0 and -0.0, to the value
    (NaN as NaN), the sign of a zero quantile being held in
    ``test_quantiles_of_zeros_of_both_signs_have_numpys_signs``."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    for c, row in enumerate(values):
        if _zeros_of_both_signs(row):
            assert np.array_equal(got[:, c], expected[:, c], equal_nan=True), row
        else:
            assert same_bits(got[:, c], expected[:, c]), row


@given(
    st.one_of(
        _rows(WHOLE),
        _rows(SIGNED),
        _rows(ANY),
        _rows(SMALL),
        _rows(st.floats(-1e6, 1e6)),
        _rows(FINITE),
    )
)
def test_quantiles_match_numpy_to_the_bit(values):
    expected = _numpy_quantiles(values)
    assert_quantiles(quantiles(values.copy(), QUANTILES), expected, values)
    assert_quantiles(quantiles(values.copy(), QUANTILES, overwrite=True), expected, values)


@given(st.one_of(_rows(WHOLE, LONG), _rows(SIGNED, LONG), _rows(SMALL, LONG), _rows(FINITE, LONG)))
def test_quantiles_of_long_rows_match_numpy_to_the_bit(values):
    """Rows past the sort limit: counted or bucketed, ranges up to the largest floats."""
    assert_quantiles(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values), values)


@given(
    _rows(st.one_of(WHOLE, st.floats(-10.0, 10.0))),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
)
def test_quantiles_at_any_probabilities_match_numpy(values, probabilities):
    expected = _numpy_quantiles(values, probabilities)
    assert_quantiles(quantiles(values.copy(), tuple(probabilities)), expected, values)


@pytest.mark.parametrize("n", [16, SORT_LIMIT, 1000])
def test_quantiles_of_zeros_of_both_signs_have_numpys_signs(n):
    rng = np.random.default_rng(n)
    values = np.vstack(
        [
            np.r_[0.0, np.full(n - 1, -0.0)],
            np.where(rng.random(n) < 0.5, 0.0, -0.0),
            np.where(rng.random(n) < 0.5, 0.0, -0.0) + (rng.random(n) < 0.1),
        ]
    )
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


def test_quantiles_of_no_rows_are_numpys():
    values = np.zeros((0, 40))
    assert same_bits(quantiles(values, QUANTILES), _numpy_quantiles(values))


def test_quantiles_of_a_day_match_numpy_on_realistic_rows():
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.3, (4, 10_000)).astype(float)  # counted
    levels = rng.lognormal(0.0, 2.0, (4, 10_000))  # bucketed
    mixed = np.where(rng.random((2, 10_000)) < 0.9, 0.0, rng.random((2, 10_000)))
    # most replicates at one level (full resolve, the starting troops): a bucket of one
    # repeated value, taken without a sort
    spread = 0.4 * rng.random((2, 10_000)) + 0.6 * (rng.random((2, 10_000)) < 0.5)
    held = np.where(rng.random((2, 10_000)) < [[0.7], [0.3]], 0.5, spread)
    # zeros and values decayed towards zero, with a few large ones (the street's outrage):
    # thousands of different values in the lowest bucket, selected there, not sorted
    decayed = np.where(rng.random((2, 10_000)) < 0.25, 0.0, rng.exponential(1e-3, (2, 10_000)))
    decayed[:, :5] = 1.5
    values = np.vstack([counts, levels, mixed, held, decayed])
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


@pytest.mark.parametrize("n", [1, 2, 100, SORT_LIMIT, SORT_LIMIT + 1, 3 * SORT_LIMIT])
def test_quantiles_match_numpy_on_both_sides_of_the_sort_limit(n):
    """Short rows of other numbers are sorted whole, longer ones bucketed: both give
    NumPy's quantiles, for spread values, one value repeated, a few values, zeros of
    both signs, a range wider than the largest float and one of a few subnormals."""
    rng = np.random.default_rng(n)
    values = np.vstack(
        [
            rng.lognormal(0.0, 2.0, n),
            np.where(rng.random(n) < 0.7, 0.5, rng.random(n)),
            rng.poisson(0.3, n) + 0.25,
            np.where(rng.random(n) < 0.5, -0.0, rng.normal(size=n)),
            np.where(rng.random(n) < 0.5, -1.7e308, 1.7e308) * rng.random(n),
            rng.integers(0, 4, n) * 5e-324,
        ]
    )
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


@pytest.mark.parametrize("spoiler", [0.5, -0.0, -1.0, np.nan, np.inf, float(COUNT_LIMIT), 1e300])
@pytest.mark.parametrize("where", [0, CHECK_BLOCK - 1, CHECK_BLOCK, 2_999])
def test_rows_of_whole_numbers_spoiled_after_the_first_block_are_not_counted(spoiler, where):
    """A row of small whole numbers with one value that is not one (a fraction, a zero
    of the wrong sign, a NaN, an infinity, a value past the count's limit) in a later
    block of the check: its quantiles still match NumPy's, NaN and -0.0 included."""
    rng = np.random.default_rng(where)
    row = rng.poisson(0.4, 3_000).astype(float)
    row[where] = spoiler
    top = rng.poisson(2.0, 3_000).astype(float)
    top[where] = COUNT_LIMIT - 1  # the largest value still counted
    values = np.vstack([row, top])
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


def test_whole_numbers_below_zero_are_counted_within_the_count_limit():
    """Scores of de-escalation are whole numbers below zero: such a row is counted from
    its least value when it spans less than ``COUNT_LIMIT`` and starts above -2**52 (else
    bucketed), NumPy's quantiles either way."""
    rng = np.random.default_rng(11)
    near = rng.integers(-6, 3, 3_000).astype(float)
    wide = near.copy()
    wide[17] = COUNT_LIMIT  # spans the limit and more
    values = np.vstack([near, wide, near - 1e6, near - 2.0**60])
    ranks = np.array([0, 150, 1_499, 2_850, 2_999])
    counts = np.zeros((max(COUNT_LIMIT, qmod.BUCKETS), qmod.LANES), dtype=np.int64)
    counted = []
    for row in values:
        out = np.zeros(len(ranks))
        counted.append(qmod._count_whole(row, ranks, out, counts))
        if counted[-1]:
            assert same_bits(out, np.sort(row)[ranks])
    assert counted == [True, False, True, False]  # the last: past what an int64 holds
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


def test_whole_numbers_are_counted_one_distinct_value_a_pass_when_few_reach_the_ranks():
    """Rows of whole numbers whose wanted ranks lie within a few distinct values from the
    least (no attacks, a few; scores below zero before the many at zero; sites open, none
    at zero; every value at the top) are counted a value a pass; rows of many distinct
    values (the scores summed since the start), or whose bulk lies past the passes, are
    given up to the count value by value. The sorted values either way."""
    rng = np.random.default_rng(12)
    n = 10_000
    rare_low = np.where(rng.random(n) < 0.99, 0.0, rng.choice([-4.0, -2.0, 28.0], n))
    rows = {
        # row: (least value counted from, counted by passes)
        "attacks": (rng.poisson(0.1, n).astype(float), 0, True),
        "scores": (rare_low, -4, True),
        "sites open": (rng.choice([8.0, 9.0, 10.0, 11.0], n, p=[0.05, 0.05, 0.1, 0.8]), 0, True),
        "at the top": (np.full(n, 7.0), 0, True),
        "summed scores": (rng.integers(300, 4_000, n).astype(float), 0, False),
        "bulk past the passes": (rng.choice(np.arange(12.0), n, p=[0.01] * 11 + [0.89]), 0, False),
    }
    ranks = np.array([0, 499, 500, 2_499, 2_500, 4_999, 5_000, 7_499, 7_500, 9_499, 9_500])
    counts = np.zeros((max(COUNT_LIMIT, qmod.BUCKETS + 2), qmod.LANES), dtype=np.int64)
    for name, (row, lo, passes) in rows.items():
        out = np.full(len(ranks), np.nan)
        assert qmod._count_up(row, ranks, out, lo, row.max()) == passes, name
        if passes:
            assert same_bits(out, np.sort(row)[ranks]), name
        out = np.full(len(ranks), np.nan)
        assert qmod._count_whole(row, ranks, out, counts), name
        assert same_bits(out, np.sort(row)[ranks]), name
        assert not counts.any()
    values = np.vstack([row for row, _, _ in rows.values()])
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


def test_quantiles_of_rows_laid_out_in_columns_match_numpy():
    """A day's values taken from a table (replicates x series, transposed) are rows with a
    stride: the bit-pattern reductions read them as they are."""
    rng = np.random.default_rng(5)
    table = np.column_stack([rng.poisson(0.7, 2_500), rng.random(2_500), rng.poisson(3, 2_500)])
    values = table.astype(float).T  # (3, 2500), Fortran order
    assert not values[0].flags.c_contiguous
    assert same_bits(quantiles(values, QUANTILES), _numpy_quantiles(values))
    short = values[:, :SORT_LIMIT]
    assert same_bits(quantiles(short, QUANTILES), _numpy_quantiles(short))


def test_daily_stats_in_place_equals_numpy_on_a_copy():
    rng = np.random.default_rng(6)
    values = np.vstack([rng.poisson(0.3, (5, 4001)), rng.random((4, 4001))]).astype(float)
    expected = np.vstack([np.quantile(values, QUANTILES, axis=1), values.mean(axis=1)])
    np.testing.assert_array_equal(daily_stats(values.copy()), expected)
    np.testing.assert_array_equal(daily_stats(values.copy(), overwrite=True), expected)


def _buckets(row):
    """The bucket of each value of a long row as the bucketing cuts its range (the least
    and the largest value in buckets of their own), in NumPy: to check what a test's rows
    hold."""
    lo, hi = row.min(), row.max()
    inner = min(qmod.BUCKETS, len(row))
    cut = np.minimum(((row - lo) * (inner / (hi - lo))).astype(np.int64), inner - 1)
    return (row > lo) + cut + (row == hi)


def _crowded_at(row, rank):
    """The values of the bucket holding the value at ``rank``, if it is crowded (more
    than ``SELECT_LIMIT`` values, not all one), else None."""
    index = _buckets(row)
    part = row[index == index[np.argsort(row, kind="stable")[rank]]]
    crowded = len(part) > qmod.SELECT_LIMIT and len(np.unique(part)) > 1
    return part if crowded else None


def _ranks_near(n, centre, spread=5):
    return np.unique(np.clip(np.r_[0, centre - spread : centre + spread, n - 1], 0, n - 1))


def test_a_crowded_bucket_is_bucketed_again_over_its_own_range():
    """Zeros, values decayed towards zero and a few large ones (the street's outrage):
    the values above zero up to the median crowd the lowest bucket but the zeros', and
    are bucketed again over their own range, where none crowds (NumPy's quantiles)."""
    rng = np.random.default_rng(21)
    row = np.where(rng.random(10_000) < 0.25, 0.0, rng.exponential(1e-3, 10_000))
    row[:5] = 1.5
    part = _crowded_at(row, 5_000)
    assert part is not None and len(part) > 5_000
    assert all(_crowded_at(part, r) is None for r in range(0, len(part), 97))
    values = np.vstack([row, rng.permutation(row)])
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))
    ranks = _ranks_near(10_000, 5_000)
    out = np.zeros((2, len(ranks)))
    done = np.zeros(2, dtype=bool)
    order_statistics(values.copy(), ranks, out, done)
    assert done.all() and same_bits(out, np.sort(values)[:, ranks])


def test_a_bucket_still_crowded_at_the_second_level_is_partitioned():
    """A cluster a thousandth wide crowding a bucket, and within it one a billionth wide
    (at the first quartile) crowding a bucket of the second level: its ranks are
    selected by a partition."""
    rng = np.random.default_rng(22)
    row = np.concatenate(
        [
            0.4 * rng.random(1_000),
            0.5 + 1e-9 * rng.random(4_000),
            0.5 + 1e-3 * rng.random(3_000),
            0.6 + 0.4 * rng.random(2_000),
        ]
    )
    rng.shuffle(row)
    part = _crowded_at(row, 2_500)
    assert part is not None
    assert _crowded_at(part, 2_500 - int((row < part.min()).sum())) is not None
    values = row[None, :]
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))
    ranks = _ranks_near(10_000, 2_500, 50)
    out = np.zeros((1, len(ranks)))
    done = np.zeros(1, dtype=bool)
    order_statistics(values.copy(), ranks, out, done)
    assert done.all() and same_bits(out[0], np.sort(row)[ranks])


def test_a_crowded_bucket_a_few_ulps_wide():
    """A crowded bucket of four neighbouring floats is cut again (each its own bucket of
    the second level); one of four neighbouring subnormals cannot be (its range is too
    narrow for a bucket's width to be a float) and is partitioned: NumPy's quantiles
    either way."""
    rng = np.random.default_rng(23)
    near_one = 1.0 + rng.integers(0, 4, 6_000) * np.finfo(float).eps
    subnormal = rng.integers(1, 5, 6_000) * 5e-324
    rows = []
    for cluster in (near_one, subnormal):
        spread = np.r_[0.0, rng.uniform(0.1, 0.9, 2_000), rng.uniform(1.1, 2.0, 1_999)]
        row = rng.permutation(np.concatenate([spread, cluster]))
        part = _crowded_at(row, 5_000)
        assert part is not None and np.array_equal(np.unique(part), np.unique(cluster))
        rows.append(row)
    values = np.vstack(rows)
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))
    # the second level on its own: it cuts the first, and leaves the second undone
    counts = np.zeros((max(COUNT_LIMIT, qmod.BUCKETS + 2), qmod.LANES), dtype=np.int64)
    bucket = np.empty(len(near_one), dtype=np.uint16)
    ranks = np.array([0, 1_499, 1_500, 3_000, 5_999])
    for cluster, cut in ((near_one, True), (subnormal, False)):
        out = np.full(len(ranks), np.nan)
        assert qmod._select_in_bucket(cluster.copy(), ranks, out, counts, bucket) == cut
        if cut:
            assert same_bits(out, np.sort(cluster)[ranks])
        else:
            assert np.isnan(out).all()
        assert not counts.any()


@st.composite
def _clustered_rows(draw):
    """Long rows of values spread over a range, part of them in a cluster within it, and
    part of those in a narrower cluster within that (widths down to a few ulps), some
    rounded to a grid (repeated values), in any order."""
    n = draw(st.integers(SORT_LIMIT + 1, 4_000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    centre = draw(st.floats(-1e6, 1e6))
    width = 10.0 ** draw(st.integers(-3, 6))
    row = centre + width * rng.random(n)
    for narrower in draw(st.lists(st.integers(1, 15), max_size=3)):
        inside = rng.random(n) < draw(st.floats(0.05, 0.9))
        centre = row[inside][0] if inside.any() else centre
        width *= 10.0**-narrower
        row[inside] = centre + width * rng.random(int(inside.sum()))
    if draw(st.booleans()):
        grid = width * 10.0 ** draw(st.integers(-3, 0))
        row = np.round(row / grid) * grid
    return row[None, :]


@given(_clustered_rows())
def test_quantiles_of_clustered_rows_match_numpy_to_the_bit(values):
    """Crowded buckets bucketed again, and crowded again: NumPy's quantiles."""
    assert same_bits(quantiles(values.copy(), QUANTILES), _numpy_quantiles(values))


@given(
    st.one_of(_rows(WHOLE), _rows(SMALL), _rows(ANY), _rows(FINITE, LONG), _rows(SMALL, LONG)),
    st.data(),
)
def test_order_statistics_are_the_sorted_values(values, data):
    """The values at the wanted ranks are those of ``np.sort``; rows with a NaN, an
    infinity or a -0.0 are left undone (to NumPy), every other row of whole numbers or up
    to the sort limit is done."""
    R = values.shape[1]
    ranks = np.array(sorted(data.draw(st.sets(st.integers(0, R - 1), min_size=1))))
    out = np.full((len(values), len(ranks)), np.nan)
    done = np.zeros(len(values), dtype=bool)
    order_statistics(values, ranks, out, done)
    for c, row in enumerate(values):
        negative_zero = ((row == 0) & np.signbit(row)).any()
        if not np.isfinite(row).all() or negative_zero:
            assert not done[c]
            continue
        whole = (row == np.floor(row)).all() and (row >= 0).all() and (row < COUNT_LIMIT).all()
        if whole or R <= SORT_LIMIT:
            assert done[c]
        if done[c]:
            assert same_bits(out[c], np.sort(row)[ranks])


def test_bit_pattern_helpers_give_numbers_and_ranges():
    row = np.array([3.0, -2.5, 7.25, -0.0, 1e-300, -1e300])
    assert qmod._extremes(row) == (-1e300, 7.25, True, True)
    assert qmod._extremes(row[:3]) == (-2.5, 7.25, True, False)
    assert not qmod._extremes(np.array([1.0, np.nan]))[2]
    assert not qmod._extremes(np.array([-np.inf, 1.0]))[2]
    assert qmod._whole_top(np.array([0.0, 3.0, 17.0, 2.0])) == 17
    for spoiled in ([0.0, 1.5], [np.nan], [float(COUNT_LIMIT)], []):
        assert qmod._whole_top(np.array(spoiled)) == -1
    for signed in ([0.0, -0.0], [4.0, -3.0]):  # counted from the least, if at all
        assert qmod._whole_top(np.array(signed)) == qmod._NEGATIVE
    assert qmod._whole_span(np.array([4.0, -3.0, 0.0])) == (-3, 7)
    for spoiled in ([0.0, -0.0], [-3.0, 0.5], [-1.0, float(COUNT_LIMIT)], [-np.inf, 0.0]):
        assert qmod._whole_span(np.array(spoiled)) == (0, -1)


@given(hnp.arrays(np.float64, st.integers(1, 2 * CHECK_BLOCK + 5), elements=st.one_of(SMALL, ANY)))
def test_bit_pattern_helpers_match_numpy(row):
    lo, hi, finite, negative_zero = qmod._extremes(row)
    assert finite == bool(np.isfinite(row).all())
    assert negative_zero == bool(((row == 0) & np.signbit(row)).any())
    if finite:
        assert lo == row.min() and hi == row.max()
    bits = row.view(np.int64)
    negative, fraction, top = qmod._whole_block(row, bits)
    assert negative == np.bitwise_or.reduce(bits) and top == max(0, bits.max())
    with np.errstate(invalid="ignore"):
        assert fraction == int((np.floor(row) != row).any())
    whole = (
        np.isfinite(row).all()
        and (row == np.floor(row)).all()
        and not np.signbit(row).any()
        and (row < COUNT_LIMIT).all()
    )
    top = qmod._whole_top(row)
    assert top == int(row.max()) if whole else top in (-1, qmod._NEGATIVE)
    if top == qmod._NEGATIVE:  # only for a sign bit in a block of whole numbers
        assert np.signbit(row).any()
    with np.errstate(invalid="ignore"):
        span = (
            np.isfinite(row).all()
            and (row == np.floor(row)).all()
            and not (np.signbit(row) & (row == 0)).any()
            and row.min() >= -(2.0**52)
            and row.max() - row.min() < COUNT_LIMIT
        )
    assert qmod._whole_span(row) == (
        (int(row.min()), int(row.max() - row.min())) if span else (0, -1)
    )
    repeated = (row == row[0]).all() and (np.signbit(row) == np.signbit(row[0])).all()
    assert qmod._repeated(row) == repeated


@given(st.integers(-(2**63), 2**63 - 1))
def test_as_float_reads_a_bit_pattern(bits):
    assert same_bits(np.float64(qmod._as_float(np.int64(bits))), np.int64(bits).view(np.float64))


# --- tallies --------------------------------------------------------------------------

KINDS, ROWS, CATEGORIES, COLUMNS = 5, 12, 4, 5


@st.composite
def _batches(draw):
    """A run of batches, a few a day: their sizes, which arguments hold one value for the
    batch, which sums they add into and a seed for their numbers."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, 1),  # days to move on
                st.integers(0, 30),  # items
                st.booleans(),  # one kind for the batch
                st.booleans(),  # one counted flag for the batch
                st.booleans(),  # one category for the batch
                st.sets(st.integers(0, COLUMNS - 1)),  # columns added
                st.integers(0, 2**32 - 1),
            ),
            max_size=12,
        )
    )


@given(_batches())
def test_tally_is_a_sequence_of_numpy_add_at(batches):
    tables = []
    for _ in range(2):
        by_kind = np.zeros((KINDS, ROWS, 3), dtype=np.int64)
        by_kind[:, :, 2] = -1
        by_category = np.zeros((ROWS, CATEGORIES + 1), dtype=np.int64)
        sums = np.zeros((ROWS, COLUMNS))
        tables.append((by_kind, by_category, sums))
    day = 0
    for moved, n, one_kind, one_counted, one_category, columns, seed in batches:
        day += moved
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, ROWS, n)
        kinds = rng.integers(0, KINDS, 1 if one_kind else n)
        counted = rng.random(1 if one_counted else n) < 0.6
        category = rng.integers(-2, CATEGORIES, 1 if one_category else n)  # < 0: the last
        columns = np.array(sorted(columns), dtype=np.int64)
        values = rng.standard_normal((len(columns), n)) * 10.0 ** rng.integers(-5, 5, n)
        args = (rows, kinds, day, counted, category)
        tally(*args, *tables[0][:2], columns, values, tables[0][2])
        ref_tally(*args, *tables[1][:2], columns, values, tables[1][2])
        for got, expected in zip(*tables, strict=True):
            assert same_bits(got, expected)


def test_tally_of_realistic_batches():
    """Many items a batch, rows in order, most items of one kind: counts, days and sums."""
    rng = np.random.default_rng(11)
    R = 2000
    tables = []
    for _ in range(2):
        by_kind = np.zeros((KINDS, R, 3), dtype=np.int64)
        by_kind[:, :, 2] = -1
        tables.append((by_kind, np.zeros((R, CATEGORIES + 1), dtype=np.int64), np.zeros((R, 5))))
    for day in range(30):
        for _ in range(3):
            n = int(rng.integers(0, 800))
            rows = np.sort(rng.integers(0, R, n))
            kinds = (
                np.array([rng.integers(0, KINDS)])
                if rng.random() < 0.5
                else rng.integers(0, KINDS, n)
            )
            counted = np.array([True]) if rng.random() < 0.5 else rng.random(n) < 0.5
            category = rng.integers(-1, CATEGORIES, n)
            columns = np.array([0, 2, 4], dtype=np.int64)
            values = rng.poisson(0.5, (3, n)).astype(float) * rng.random((3, n))
            args = (rows, kinds, day, counted, category)
            tally(*args, *tables[0][:2], columns, values, tables[0][2])
            ref_tally(*args, *tables[1][:2], columns, values, tables[1][2])
    for got, expected in zip(*tables, strict=True):
        assert same_bits(got, expected)
    assert tables[0][0][:, :, 0].sum() > 10_000


# --- the wall: nothing of the model below it ------------------------------------------

NUMERICS = Path(sim.numerics.__file__).parent
MODULES = sorted(NUMERICS.rglob("*.py"))

#: words the layer must not name (with their plurals), whole words of identifiers and of
#: string constants, in any case; an identifier must not start with ``us_`` either
MODEL_WORDS = (
    "militia", "iran", "iranian", "israel", "israeli", "iraq", "iraqi", "rocket", "ied",
    "drone", "doctrine", "weapon",
)  # fmt: skip
#: a docstring may use the general nouns, as the package's own says what it does not name
DOCSTRING_WORDS = tuple(w for w in MODEL_WORDS if w not in ("doctrine", "weapon"))


def _words_named(text: str, words) -> list[str]:
    """The forbidden words among the identifier-like tokens of ``text``: each token split
    at underscores, digits and lower-to-upper case changes, plus a ``us_`` prefix."""
    pattern = re.compile(rf"(?:{'|'.join(words)})s?", re.IGNORECASE)
    found = []
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
        if token.lstrip("_").lower().startswith("us_"):
            found.append(token)
        for part in re.split(r"_+|\d+|(?<=[a-z])(?=[A-Z])", token):
            if part and pattern.fullmatch(part):
                found.append(token)
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a module and its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0] if node.body else None
        value = first.value if isinstance(first, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.add(id(value))
    return found


def _imported(node: ast.AST, package: str) -> list[str]:
    """The dotted names an import statement brings in (``from a import b`` as ``a.b``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if node.level:
            parent = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join([*parent, module] if module else parent)
        return [f"{module}.{alias.name}" for alias in node.names]
    return []


def wall_breaches(source: str, package: str = "sim.numerics") -> list[str]:
    """What in ``source`` breaks the wall: imports of ``sim`` outside ``sim.numerics``,
    names of the model in identifiers and strings (in docstrings and comments, of an actor
    or a particular weapon only), and strings naming a ``sim`` module outside the layer."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    breaches = []
    for node in ast.walk(tree):
        for name in _imported(node, package):
            if (name == "sim" or name.startswith("sim.")) and not (
                name == "sim.numerics" or name.startswith("sim.numerics.")
            ):
                breaches.append(f"imports {name}")
        identifiers = []
        if isinstance(node, ast.Name):
            identifiers = [node.id]
        elif isinstance(node, ast.arg):
            identifiers = [node.arg]
        elif isinstance(node, ast.Attribute):
            identifiers = [node.attr]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            identifiers = [node.name]
        elif isinstance(node, ast.alias):
            identifiers = [node.name, node.asname or ""]
        elif isinstance(node, ast.keyword):
            identifiers = [node.arg or ""]
        elif isinstance(node, ast.Global | ast.Nonlocal):
            identifiers = list(node.names)
        for identifier in identifiers:
            breaches += [f"names {w}" for w in _words_named(identifier, MODEL_WORDS)]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                breaches += [
                    f"docstring names {w}" for w in _words_named(node.value, DOCSTRING_WORDS)
                ]
                continue
            breaches += [f"string names {w}" for w in _words_named(node.value, MODEL_WORDS)]
            for module in re.findall(r"\bsim\.\w+", node.value):
                if module != "sim.numerics":
                    breaches.append(f"string names {module}")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:  # prose, as a docstring
            breaches += [f"comment names {w}" for w in _words_named(token.string, DOCSTRING_WORDS)]
    return breaches


def test_the_wall_check_finds_what_it_looks_for():
    source = '''
"""Counts of rockets, for the doctrine."""
import sim.rules
from sim import events
from .. import params
from sim.numerics.compiled import jit
from . import hashing


def f(weapon_kind, droneCount, us_troops):  # for each drone
    """Only the Iraqi side."""
    _us_x = "militia_attacks"
    return weapon_kind.IED, importlib.import_module("sim.state")
'''
    breaches = wall_breaches(source)
    for expected in [
        "imports sim.rules", "imports sim.events", "imports sim.params", "names weapon_kind",
        "names droneCount", "names us_troops", "names _us_x", "string names militia_attacks",
        "names IED", "string names sim.state", "docstring names rockets",
        "docstring names Iraqi", "comment names drone",
    ]:  # fmt: skip
        assert expected in breaches, (expected, breaches)
    assert not [b for b in breaches if "doctrine" in b or "numerics" in b or "hashing" in b]
    assert wall_breaches("def copied(status, plus_one, bus_): return 'applied'") == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_layer_imports_nothing_of_the_model_and_names_none_of_it(path):
    """Identifiers, strings and comments of every module are read; docstrings and comments
    may use the general nouns "doctrine" and "weapon" (the package's docstring says it
    names neither) but name no actor and no particular weapon."""
    assert wall_breaches(path.read_text(encoding="utf-8")) == []
    assert not _words_named(path.stem, MODEL_WORDS)


def test_importing_the_layer_loads_nothing_of_the_model():
    modules = [f"sim.numerics.{p.stem}" for p in MODULES if p.stem != "__init__"]
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sim.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    assert loaded and all(m.startswith("sim.numerics") for m in loaded), loaded


@given(st.integers(0, 2**32 - 1))
def test_categorical_from_product_draws_what_the_built_weights_give(seed):
    """The product sampler picks what a cumulative search of the (n, J, K) weights built
    by NumPy picks, zero rows, zero factors and extreme uniforms included."""
    rng = np.random.default_rng(seed)
    n, J, K = 200, 7, 3
    a = rng.random((n, J)) * (rng.random((n, J)) < 0.6)
    b = rng.random((n, J, K)) * (rng.random((n, J, K)) < 0.5)
    c = rng.random((n, K)) * (rng.random((n, K)) < 0.8)
    a[:3] = 0.0
    u = rng.random(n)
    u[3:6] = [0.0, np.nextafter(1.0, 0.0), 0.5]
    weights = (a[:, :, None] * b) * c[:, None, :]
    cum = np.cumsum(weights.reshape(n, -1), axis=1)
    expected = np.minimum((cum < (u * cum[:, -1])[:, None]).sum(axis=1), J * K - 1)
    np.testing.assert_array_equal(categorical_from_product(u, a, b, c), expected)
    # b as a table of a few rows, read through an index: the same draws as b gathered
    table, which = b[:5], rng.integers(0, 5, n)
    np.testing.assert_array_equal(
        categorical_from_product(u, a, table, c, b_rows=which),
        categorical_from_product(u, a, table[which], c),
    )


@given(st.integers(0, 2**32 - 1), st.sampled_from([np.float64, np.int64, np.bool_]))
def test_add_at_and_subtract_at_are_numpys(seed, kind):
    """Repeated rows accumulate in order; integer and boolean values are cast as NumPy casts
    them; one value serves every row."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=50) * 10.0 ** rng.integers(-3, 3, size=50)
    a[:3] = [0.0, -0.0, np.inf]
    rows = rng.integers(0, 50, size=200)
    values = (rng.normal(size=200) * 5).astype(kind)
    for mine, numpys in ((add_at, np.add.at), (subtract_at, np.subtract.at)):
        for v in (values, kind(values[0])):
            got, expected = a.copy(), a.copy()
            mine(got, rows, v)
            numpys(expected, rows, v)
            np.testing.assert_array_equal(got, expected)
            assert (np.signbit(got) == np.signbit(expected)).all()


@pytest.mark.parametrize("seed", range(3))
def test_add_at_cells_is_numpys_add_at_on_two_indices(seed):
    """Cells met repeatedly accumulate in order, to the bit; one value serves every cell."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(40, 5)) * 10.0 ** rng.integers(-3, 3, size=(40, 5))
    rows, columns = rng.integers(0, 40, size=300), rng.integers(0, 5, size=300)
    for values in (rng.normal(size=300) * 7, 1.0, rng.integers(0, 4, size=300)):
        got, expected = a.copy(), a.copy()
        add_at_cells(got, rows, columns, values)
        np.add.at(expected, (rows, columns), values)
        assert same_bits(got, expected)
    with pytest.raises(ValueError, match="C-contiguous"):
        add_at_cells(a.T, rows % 5, columns, 1.0)


@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_repeat_last_is_numpys_repeat_in_every_layout(k):
    """Floats (with -0.0 and NaN), ints and bools; C order, Fortran order, a strided view,
    a 1-d row and an empty one: ``np.repeat`` then reshape, bit for bit, made whole."""
    rng = np.random.default_rng(k)
    a = rng.standard_normal((30, 4))
    a[0, :2] = -0.0, np.nan
    ints = np.nan_to_num(a * 9).astype(int)
    for arr in (a, np.asfortranarray(a), a[::3, 1:], a[:, 2], a[:0], a > 0, ints):
        got = repeat_last(arr, k)
        assert same_bits(got, np.repeat(arr, k).reshape(*arr.shape, k)), (arr.flags, arr.dtype)
        assert got.flags.c_contiguous and got.dtype == arr.dtype


@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, max_side=12)))
def test_any_and_count_last_are_numpys(a):
    """``any_last`` and ``count_last``: NumPy's reductions over the last axis, in any
    layout (a view of every other column, Fortran order)."""
    for arr in (a, a[:, ::2], np.asfortranarray(a)):
        assert same_bits(any_last(arr), arr.any(axis=-1))
        assert same_bits(count_last(arr), np.count_nonzero(arr, axis=-1).astype(np.int64))


@pytest.mark.parametrize(("mean", "dispersion"), [(2.0, 0.5), (10.0, 0.5), (5.0, 0.0), (0.5, 2.0)])
def test_negative_binomial_lags_are_scipys_quantiles(mean, dispersion):
    u = np.random.default_rng(7).random(20000)
    if dispersion > 0:
        r = 1.0 / dispersion
        expected = stats.nbinom.ppf(u, r, r / (r + mean))
    else:
        expected = stats.poisson.ppf(u, mean)
    np.testing.assert_array_equal(negative_binomial_from_uniform(u, mean, dispersion), expected)


def ref_negative_binomial(u, mean, dispersion, max_count):
    """The running total of the negative binomial's probabilities in NumPy, each step
    taken for the draws whose total has not yet passed their uniform."""
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
    phi = np.broadcast_to(np.asarray(dispersion, dtype=np.float64), u.shape)
    spread = 1.0 + phi * mean
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p0 = np.where(phi > 0, -np.log1p(phi * mean) / phi, -mean)
    pmf = np.exp(log_p0)
    total = pmf.copy()
    count = np.zeros(u.shape, dtype=np.int64)
    going = u >= total
    k = 0
    while k < max_count and going.any():
        pmf = np.where(going, pmf * mean * (1.0 + phi * k) / ((k + 1) * spread), pmf)
        k += 1
        total = np.where(going, total + pmf, total)
        count[going] = k
        going &= u >= total
    return count


@given(st.integers(0, 2**32 - 1), st.sampled_from([3650, 7]))
def test_negative_binomial_counts_as_the_numpy_running_total(seed, max_count):
    """The compiled count takes the NumPy running total's steps, to the same count, for
    means and dispersions one per draw or one for all, uniforms at the ends, NaNs and a
    cap on the count."""
    rng = np.random.default_rng(seed)
    n = 300
    u = rng.random(n)
    u[:4] = [0.0, np.nextafter(1.0, 0.0), np.nan, 1.0 - 1e-15]
    means = [rng.gamma(2.0, 3.0, n), 4.0, np.where(rng.random(n) < 0.2, 0.0, 30 * rng.random(n))]
    dispersions = [rng.choice([0.0, 0.1, 0.5, 2.0], n), 0.0, 0.7]
    for mean in means:
        for dispersion in dispersions:
            got = negative_binomial_from_uniform(u, mean, dispersion, max_count)
            assert same_bits(got, ref_negative_binomial(u, mean, dispersion, max_count))
    assert negative_binomial_from_uniform(np.zeros(0), 2.0, 0.5).shape == (0,)


def test_negative_binomial_of_zero_mean_is_zero():
    assert negative_binomial_from_uniform(np.array([0.0, 0.5, 0.99]), 0.0, 0.5).tolist() == [0] * 3


@pytest.mark.parametrize("mean", [0.8, 0.5, 0.3])
def test_confidence_is_the_power_beta_and_its_mirror(mean):
    u = np.random.default_rng(8).random(5000)
    a = mean / (1 - mean) if mean >= 0.5 else (1 - mean) / mean
    expected = stats.beta(a, 1).ppf(u) if mean >= 0.5 else 1 - stats.beta(a, 1).ppf(1 - u)
    np.testing.assert_allclose(confidence_from_uniform(u, mean), expected, rtol=1e-12, atol=1e-14)
    assert confidence_from_uniform(u, 1.0).tolist() == [1.0] * len(u)
    assert confidence_from_uniform(u, 0.0).tolist() == [0.0] * len(u)
