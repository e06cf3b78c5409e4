"""Counter-based random streams: every uniform is a hash of (replicate key, day, stream, slot).

Each replicate's key comes from its own ``SeedSequence`` spawned from the run seed
(``SeedSequence(seed, spawn_key=(k,))`` is the k-th child of ``SeedSequence(seed)``),
so replicate k draws the same numbers whether it runs alone or among 10,000 others,
in any batch or process. Each kind of decision has its own stream (common random
numbers, as in Starsim): two scenarios that differ in one rule share every other draw.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim import fused
from sim.fused import GOLDEN as _GOLDEN
from sim.fused import TO_UNIT as _TO_UNIT
from sim.fused import splitmix as _mix


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


def replicate_keys(seed: int, replicates: np.ndarray) -> np.ndarray:
    """64-bit keys of the given replicate numbers of a run seeded with ``seed``."""
    return np.array(
        [
            np.random.SeedSequence(seed, spawn_key=(int(k),)).generate_state(1, np.uint64)[0]
            for k in replicates
        ],
        dtype=np.uint64,
    )


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
        if fused.ENABLED:
            out = np.empty((len(keys), slots))
            fused.uniforms(keys, _counter(day, stream, 0), slots, out)
            return out
        counter = _counter(day, stream, np.arange(slots, dtype=np.uint64))
        return _unit(keys[:, None] ^ _mix(counter * _GOLDEN)[None, :])

    def below(
        self, day: int, stream: Stream, slots: int, threshold, where=True
    ) -> tuple[np.ndarray, np.ndarray]:
        """``np.nonzero(where & (uniform(day, stream, slots) < threshold))``: the (row,
        slot) pairs whose uniform falls below ``threshold``, among the cells ``where``
        allows (both broadcast to (replicates, slots)), drawn and compared in one pass."""
        shape = (len(self.keys), slots)
        if not fused.ENABLED:
            return np.nonzero(where & (self.uniform(day, stream, slots) < threshold))
        threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), shape)
        where = np.broadcast_to(np.asarray(where, dtype=bool), shape)
        rows = np.empty(shape[0] * slots, dtype=np.int64)
        hit_slots = np.empty_like(rows)
        n = fused.below(self.keys, _counter(day, stream, 0), threshold, where, rows, hit_slots)
        return rows[:n], hit_slots[:n]

    def uniform_at(self, day: int, stream: Stream, rows: np.ndarray, slots: np.ndarray):
        """One uniform per (row, slot) pair: ``uniform(...)[i, slots[i]]`` for rows[i],
        without hashing the slots nobody reads."""
        if fused.ENABLED:
            rows = np.asarray(rows, dtype=np.int64)
            slots = np.broadcast_to(np.asarray(slots, dtype=np.int64), rows.shape)
            out = np.empty(len(rows))
            fused.uniforms_at(self.keys, rows, _counter(day, stream, 0), slots, out)
            return out
        counter = _counter(day, stream, np.asarray(slots).astype(np.uint64))
        return _unit(self.keys[rows] ^ _mix(counter * _GOLDEN))


def _counter(day: int, stream: Stream, slots):
    """The 64-bit counter of (day, stream, slot)."""
    return (np.uint64(day) << np.uint64(32)) | (np.uint64(int(stream)) << np.uint64(20)) | slots


def _unit(z: np.ndarray) -> np.ndarray:
    """Hash keyed counters to uniforms in [0, 1) with 53 random bits."""
    z = _mix(_mix(z) + _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT
