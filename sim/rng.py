"""Counter-based random streams: every uniform is a hash of (replicate key, day, stream, slot).

Each replicate's key comes from its own ``SeedSequence`` spawned from the run seed
(``SeedSequence(seed, spawn_key=(k,))`` is the k-th child of ``SeedSequence(seed)``),
so replicate k draws the same numbers whether it runs alone or among 10,000 others,
in any batch or process. Each kind of decision has its own stream (common random
numbers, as in Starsim): two scenarios that differ in one rule share every other draw.
"""

from __future__ import annotations

from enum import IntEnum, unique

import numpy as np

from sim.numerics import hashing


@unique  # two decisions given one number would share their draws
class Stream(IntEnum):
    """One stream per kind of decision. Append new members; never renumber."""

    ATTACK_OCCURS = 1
    ATTACK_CHOICE = 2
    SALVO = 3
    INTERCEPT = 4
    US_KILLED = 5
    US_WOUNDED = 6
    IRAQI_KILLED = 7
    US_RESPONSE = 8
    US_STRIKE_LOCATION = 9
    DECAPITATION = 10
    SHOW_OF_FORCE = 11
    IRAN_RETALIATION = 12
    IRAN_MISSILE_KILLED = 13
    IRAN_MISSILE_WOUNDED = 14
    US_WAR_DECISION = 15
    ISRAEL_STRIKE = 16
    ISRAEL_TARGET = 17
    ISRAEL_BLAME = 18
    IRAQ_RAID = 19
    IRAQ_RELEASE = 20
    EXPULSION_VOTE = 21
    EMBASSY_ASSAULT = 22
    TRUCE = 23
    IRAQI_WOUNDED = 24
    TALKS_COLLAPSE = 25
    US_RESPONSE_LAG = 26
    DECAPITATION_LAG = 27
    IRAN_RETALIATION_LAG = 28
    CLAIM = 29
    ATTRIBUTION = 30
    BLAME = 31
    INTENT = 32
    IRGC_PRESENT = 33
    IRANIANS_STRUCK = 34
    IRAN_WARNING = 35
    ENVOY_VISIT = 36
    SPLINTER = 37


def replicate_keys(seed: int, replicates: np.ndarray) -> np.ndarray:
    """64-bit keys of the given replicate numbers of a run seeded with ``seed``:
    ``SeedSequence(seed, spawn_key=(k,)).generate_state(1, np.uint64)[0]`` for each k.

    NumPy's algorithm, run on whole arrays of replicates at once (a SeedSequence each
    costs about 10 us, a second at 100,000 replicates); replicate numbers of 2**32 and
    more take NumPy's own objects.
    """
    ks = np.asarray(replicates, dtype=np.int64).reshape(-1)
    keys = np.empty(len(ks), dtype=np.uint64)
    small = (ks >= 0) & (ks < 2**32)
    keys[small] = _seed_sequence_keys(int(seed), ks[small].astype(np.uint32))
    for i in np.flatnonzero(~small):
        child = np.random.SeedSequence(seed, spawn_key=(int(ks[i]),))
        keys[i] = child.generate_state(1, np.uint64)[0]
    return keys


# NumPy's SeedSequence constants (numpy/random/bit_generator.pyx): a 4-word pool of uint32
_POOL_SIZE = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_MASK32 = 0xFFFFFFFF


def _uint32_words(n: int) -> list[int]:
    """A non-negative int as little-endian 32-bit words (0 is one word), as NumPy splits it."""
    if n < 0:
        raise ValueError(f"seed must be non-negative, got {n}")
    words = [n & _MASK32]
    while n > _MASK32:
        n >>= 32
        words.append(n & _MASK32)
    return words


def _seed_sequence_keys(seed: int, ks: np.ndarray) -> np.ndarray:
    """``SeedSequence(seed, spawn_key=(k,)).generate_state(1, np.uint64)[0]`` for an array
    of k below 2**32: the same uint32 arithmetic, one word position at a time."""
    n = len(ks)
    run = _uint32_words(seed)
    run += [0] * (_POOL_SIZE - len(run))  # padded to the pool when there is a spawn key
    entropy = [np.full(n, w, dtype=np.uint32) for w in run] + [ks.astype(np.uint32)]
    hash_const = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_A) & _MASK32
        value = value * np.uint32(hash_const)
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> np.uint32(16))

    pool = [hashmix(entropy[i]) for i in range(_POOL_SIZE)]
    for src in range(_POOL_SIZE):
        for dst in range(_POOL_SIZE):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL_SIZE, len(entropy)):
        for dst in range(_POOL_SIZE):
            pool[dst] = mix(pool[dst], hashmix(entropy[src]))
    # generate_state(1, uint64): two 32-bit words from the pool, low word first
    words = []
    hash_const = _INIT_B
    for i in range(2):
        value = pool[i] ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = value * np.uint32(hash_const)
        words.append(value ^ (value >> np.uint32(16)))
    return words[0].astype(np.uint64) | (words[1].astype(np.uint64) << np.uint64(32))


class RandomStreams:
    """Uniform draws in [0, 1) for a batch of replicates, addressed by (day, stream, slot)."""

    def __init__(self, seed: int, replicates: np.ndarray) -> None:
        self.replicates = np.asarray(replicates, dtype=np.int64)
        self.keys = replicate_keys(seed, self.replicates)

    def uniform(
        self, day: int, stream: Stream, slots: int, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Uniforms of shape (len(rows), slots); ``rows`` indexes replicates (default all)."""
        keys = self.keys if rows is None else self.keys[rows]
        out = np.empty((len(keys), slots))
        hashing.uniforms(keys, _counter(day, stream, 0), slots, out)
        return out

    def salts(self, day: int, stream: Stream, slots: int) -> np.ndarray:
        """(slots,) uint64: the slots' counters of the day's ``stream``, mixed; the uniform
        of a replicate at slot j is ``hashing.drawn(key, salts[j])``, as ``uniform`` draws
        it."""
        return hashing.salts(_counter(day, stream, 0), slots)

    def below(
        self, day: int, stream: Stream, slots: int, threshold, where=True, row_where=True
    ) -> tuple[np.ndarray, np.ndarray]:
        """``np.nonzero(where & row_where[:, None] & (uniform(day, stream, slots) <
        threshold))``: the (row, slot) pairs whose uniform falls below ``threshold``, among
        the cells ``where`` allows (both broadcast to (replicates, slots)) in the rows
        ``row_where`` allows (one flag per replicate, or one for all), drawn and compared in
        one pass."""
        shape = (len(self.keys), slots)
        threshold, where = _as_2d(threshold, np.float64), _as_2d(where, np.bool_)
        row_where = np.asarray(row_where, dtype=np.bool_).reshape(-1)
        for a in (threshold, where):
            if a.shape[0] not in (1, shape[0]) or a.shape[1] not in (1, shape[1]):
                raise ValueError(f"threshold and where do not broadcast to {shape}")
        if len(row_where) not in (1, shape[0]):
            raise ValueError(f"row_where has {len(row_where)} flags for {shape[0]} replicates")
        if not row_where.any():  # (a rare event: most days no replicate can have it)
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = np.empty(shape[0] * slots, dtype=np.int64)
        hit_slots = np.empty_like(rows)
        n = hashing.below(
            self.keys, _counter(day, stream, 0), slots, threshold, where, row_where, rows,
            hit_slots,
        )  # fmt: skip
        return rows[:n], hit_slots[:n]

    def uniform_at(self, day: int, stream: Stream, rows: np.ndarray, slots: np.ndarray):
        """One uniform per (row, slot) pair: ``uniform(...)[i, slots[i]]`` for rows[i],
        without hashing the slots nobody reads (``slots``: one per row, or one for all)."""
        return self.uniforms_at(day, (stream,), rows, slots)[0]

    def uniforms_at(self, day: int, streams, rows: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """(len(streams), len(rows)): ``uniform_at`` of each of ``streams``, in one pass."""
        rows = np.asarray(rows, dtype=np.int64)
        slots = np.asarray(slots, dtype=np.int64).reshape(-1)
        if len(slots) not in (1, len(rows)):
            raise ValueError(f"{len(slots)} slots for {len(rows)} rows")
        bases = np.array([_counter(day, s, 0) for s in streams], dtype=np.uint64)
        out = np.empty((len(bases), len(rows)))
        hashing.uniforms_at(self.keys, rows, bases, slots, out)
        return out


def _as_2d(a, dtype) -> np.ndarray:
    """A scalar, (S,) or 2-d array as a 2-d array (a scalar (1, 1), a row (1, S))."""
    a = np.asarray(a, dtype=dtype)
    return a if a.ndim == 2 else a.reshape(1, -1)


def _counter(day: int, stream: Stream, slots):
    """The 64-bit counter of (day, stream, slot)."""
    base = (int(day) << 32) | (int(stream) << 20)  # Python ints: one conversion, not five
    if isinstance(slots, int):
        return np.uint64(base | slots)
    return np.uint64(base) | slots
