"""The counter-based hash behind every random draw: a uniform is a pure function of a
replicate's 64-bit key and a 64-bit counter (splitmix64, twice), so any uniform can be
drawn alone, in any order, in any batch of replicates.

The compiled helpers here draw many at once; ``unit`` is the same hash as NumPy
expressions (``tests/test_numerics.py`` holds each helper to them).
"""

from __future__ import annotations

import numpy as np

from sim.numerics.compiled import inline as _inline
from sim.numerics.compiled import jit as _jit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
TO_UNIT = 2.0**-53


def splitmix(z):
    """splitmix64 finaliser of a uint64 (in place on an array): NumPy's and the loops' hash."""
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


_mix = _jit(splitmix)


@_jit
def _unit(z):
    z = _mix(_mix(z) + GOLDEN)
    return np.float64(z >> np.uint64(11)) * TO_UNIT


@_jit
def uniforms(keys, base, slots, out):
    """``out[i, j]``: the uniform of replicate key ``keys[i]`` at counter ``base | j``.

    A slot at a time down a run of replicates (``_hash_keys``, a loop the compiler turns
    into vector instructions), in blocks of ``HASH_BLOCK`` replicates copied into place."""
    R = len(keys)
    mixed = salts(base, slots)
    if slots == 1:
        _hash_keys(keys, mixed[0], out.reshape(R))
        return
    column = np.empty(min(R, HASH_BLOCK))
    for start in range(0, R, HASH_BLOCK):
        stop = min(start + HASH_BLOCK, R)
        for j in range(slots):
            _hash_keys(keys[start:stop], mixed[j], column)
            for i in range(stop - start):
                out[start + i, j] = column[i]


#: replicates hashed at a time when a draw has several slots
HASH_BLOCK = 256


@_jit
def salts(base, slots):
    """The counter of each slot of a stream's day, mixed: what a replicate's key is xor'ed
    with."""
    out = np.empty(slots, dtype=np.uint64)
    for j in range(slots):
        out[j] = _mix((base | np.uint64(j)) * GOLDEN)
    return out


@_jit
def _hash_keys(keys, salt, out):
    """``out[i] = _unit(keys[i] ^ salt)`` for the first ``len(keys)`` places of ``out``:
    integer arithmetic the compiler vectorizes (a loop of its own, not inlined: it does
    so only then)."""
    for i in range(len(keys)):
        out[i] = _unit(keys[i] ^ salt)


@_jit
def uniforms_at(keys, rows, bases, slots, out):
    """``out[k, i]``: the uniform of replicate key ``keys[rows[i]]`` at counter ``bases[k]
    | slots[i]`` (one stream per base); ``slots`` holds
    one slot for every row or one per row."""
    for k in range(len(bases)):
        base, row = bases[k], out[k]
        if len(slots) > 1:
            for i in range(len(rows)):
                salt = _mix((base | np.uint64(slots[i])) * GOLDEN)
                row[i] = _unit(keys[rows[i]] ^ salt)
        else:
            salt = _mix((base | np.uint64(slots[0])) * GOLDEN)
            for i in range(len(rows)):
                row[i] = _unit(keys[rows[i]] ^ salt)


@_jit
def below(keys, base, S, threshold, where, row_where, rows, slots):
    """The (row, slot) cells, in row-major order, where ``where`` and ``row_where`` hold
    and the uniform of ``keys[row]`` at counter ``base | slot`` is below ``threshold``;
    writes them into ``rows`` and ``slots`` and returns how many
    (``np.nonzero(where & row_where[:, None] & (uniform < threshold))``) for R = len(keys)
    replicates and S slots. ``threshold`` and ``where`` are 2-d, (R, S) or with an axis
    of 1 that broadcasts; ``row_where`` is (R,) or (1,).

    Each slot's uniforms down all replicates first (vector instructions), then one pass
    over the cells row by row, writing the hits."""
    R = len(keys)
    t_rows, t_cols = threshold.shape[0] > 1, threshold.shape[1] > 1
    w_rows, w_cols = where.shape[0] > 1, where.shape[1] > 1
    each_row = len(row_where) > 1
    mixed = salts(base, S)
    u = np.empty((S, R))
    for j in range(S):
        _hash_keys(keys, mixed[j], u[j])
    n = 0
    for i in range(R):
        if not row_where[i if each_row else 0]:
            continue
        for j in range(S):
            t = threshold[i if t_rows else 0, j if t_cols else 0]
            if where[i if w_rows else 0, j if w_cols else 0] and u[j, i] < t:
                rows[n] = i
                slots[n] = j
                n += 1
    return n


def unit(z: np.ndarray) -> np.ndarray:
    """Hash keyed counters (uint64, ``key ^ mix(counter * GOLDEN)``) to uniforms in [0, 1)
    with 53 random bits, in NumPy: what ``drawn`` computes one at a time."""
    z = splitmix(splitmix(z) + GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * TO_UNIT


@_inline
def drawn(key, salt):
    """The uniform of the replicate with ``key`` at the counter mixed into ``salt``
    (``salts``), for compiled callers."""
    return _unit(key ^ salt)
