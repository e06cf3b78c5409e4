"""Counter-based streams: reproducible, uniform, independent across replicates and streams."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.rng import RandomStreams, Stream, replicate_keys


def test_same_address_same_number_and_shape():
    a = RandomStreams(42, np.arange(4))
    b = RandomStreams(42, np.arange(4))
    np.testing.assert_array_equal(
        a.uniform(3, Stream.ATTACK_OCCURS, 5), b.uniform(3, Stream.ATTACK_OCCURS, 5)
    )
    assert a.uniform(0, Stream.SALVO, 7).shape == (4, 7)


def test_replicate_k_is_the_same_alone_or_in_a_batch():
    batch = RandomStreams(9, np.arange(10)).uniform(5, Stream.US_RESPONSE, 3)
    alone = RandomStreams(9, np.array([7])).uniform(5, Stream.US_RESPONSE, 3)
    np.testing.assert_array_equal(batch[7], alone[0])
    rows = RandomStreams(9, np.arange(10)).uniform(5, Stream.US_RESPONSE, 3, rows=np.array([7]))
    np.testing.assert_array_equal(rows[0], alone[0])


def test_keys_are_the_seed_sequence_children():
    child = np.random.SeedSequence(5).spawn(3)[2].generate_state(1, np.uint64)[0]
    assert replicate_keys(5, np.array([2]))[0] == child


def test_draws_are_uniform_and_decorrelated():
    streams = RandomStreams(1, np.arange(2000))
    u = streams.uniform(11, Stream.ATTACK_CHOICE, 50)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    v = streams.uniform(11, Stream.ATTACK_OCCURS, 50)  # another stream, same day
    w = streams.uniform(12, Stream.ATTACK_CHOICE, 50)  # same stream, next day
    for other in (v, w):
        r = np.corrcoef(u.ravel(), other.ravel())[0, 1]
        assert abs(r) < 4 / np.sqrt(u.size)  # four standard errors of a zero correlation


def test_different_seeds_differ():
    a = RandomStreams(1, np.arange(3)).uniform(0, Stream.SALVO, 4)
    b = RandomStreams(2, np.arange(3)).uniform(0, Stream.SALVO, 4)
    assert not np.array_equal(a, b)


@given(
    st.one_of(st.integers(0, 2**32), st.integers(0, 2**140)),
    st.lists(st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**62)), max_size=20),
)
def test_keys_computed_on_whole_arrays_are_numpys_seed_sequence_children(seed, ks):
    expected = [
        np.random.SeedSequence(seed, spawn_key=(k,)).generate_state(1, np.uint64)[0] for k in ks
    ]
    np.testing.assert_array_equal(
        replicate_keys(seed, np.array(ks, dtype=np.int64)), np.array(expected, dtype=np.uint64)
    )
