"""Exact quantiles across replicates, faster than a partition: ``np.quantile`` to the bit.

The order statistics come from a count for rows of small whole numbers (attack counts,
rungs) and from sorted slices of the range for the others; NumPy's linear interpolation
between them is then done in NumPy's own operations.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sim.numerics.compiled import inline as _inline
from sim.numerics.compiled import jit as _jit


def quantiles(values: np.ndarray, probabilities: tuple[float, ...], overwrite: bool = False):
    """``np.quantile(values, probabilities, axis=1)`` of a (C, R) array, to the last bit.

    Rows with a NaN or an infinity go to ``np.quantile`` (``overwrite`` lets it reorder
    ``values`` in place).
    """
    C, n = values.shape
    if n == 0 or C == 0:
        return np.quantile(values, probabilities, axis=1, overwrite_input=overwrite)
    wanted, at_previous, at_following, gamma, upper = _interpolation(n, tuple(probabilities))
    order = np.zeros((C, len(wanted)))
    counted = np.empty(C, dtype=bool)
    order_statistics(values, wanted, order, counted)
    a = order[:, at_previous].T
    b = order[:, at_following].T
    diff = b - a
    result = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=result, where=upper)
    if not counted.all():
        rest = ~counted
        result[:, rest] = np.quantile(values[rest], probabilities, axis=1, overwrite_input=True)
    return result


@functools.lru_cache(maxsize=32)
def _interpolation(n: int, probabilities: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """NumPy's "linear" method for ``probabilities`` of ``n`` values, worked out once per
    n: the ranks of the order statistics it reads (sorted, distinct), the places in them
    of each quantile's lower and upper neighbour, the weights (a column) and where a
    weight is at least 1/2 (the quantile is then counted down from the upper neighbour).

    Each quantile's virtual index (n - 1) q lies between the order statistics at its floor
    and the next one (both the last beyond the end), weighted by the remainder."""
    virtual = (n - 1) * np.asarray(probabilities)
    previous = np.floor(virtual)
    following = previous + 1
    past_end = virtual >= n - 1
    previous[past_end] = following[past_end] = -1
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    gamma = (virtual - previous)[:, None]
    wanted = np.unique(np.concatenate([previous % n, following % n]))
    tables = (
        wanted,
        np.searchsorted(wanted, previous % n),
        np.searchsorted(wanted, following % n),
        gamma,
        gamma >= 0.5,
    )
    for table in tables:
        table.setflags(write=False)  # shared by every day of every run with n replicates
    return tables


#: the counts a row of small whole numbers may hold to be counted rather than bucketed
COUNT_LIMIT = 4096
#: buckets of the value range for the order statistics of other rows
BUCKETS = 1024
#: a histogram is counted in this many interleaved copies (a power of two), so that a run
#: of equal values (most replicates at zero attacks, at full resolve) does not wait on one
#: counter
LANES = 4
#: distinct values of a row of whole numbers counted one a pass (from the least up) before
#: it is counted value by value
COUNT_PASSES = 6
#: values checked at a time before a row is known to be of whole numbers or not
CHECK_BLOCK = 1024
#: a bucket holding more values than this (not all one) is not sorted: it is bucketed again
#: over its own range, and a bucket of that second level is partitioned at its ranks
SELECT_LIMIT = 64
#: rows of other numbers up to this long are sorted whole: sweeping the buckets costs more
#: than the sort below a few hundred values (NumPy's sort is not at hand in compiled code,
#: and numba's slows on long rows of repeated values)
SORT_LIMIT = 256


@_jit
def order_statistics(values, ranks, out, done):
    """The values at ``ranks`` (sorted, distinct) of each row of ``values`` (C, R), as a
    sort would place them: exact, whatever the method. Sets ``done[c]`` for rows it
    handles (all but those with a NaN or an infinity, left to NumPy).

    Rows of whole numbers spanning less than ``COUNT_LIMIT`` are counted; other rows of up to
    ``SORT_LIMIT`` values are sorted; longer ones are cut into buckets (up to ``BUCKETS``
    equal slices of their range, a monotone map, so a lower slice holds lower values, and
    the least and the largest value on their own), and only the buckets holding a wanted
    rank are sorted (or, holding more than ``SELECT_LIMIT`` values, bucketed again over
    their own range, and partitioned at those ranks if still crowded).
    """
    C, R = values.shape
    counts = np.zeros((max(COUNT_LIMIT, BUCKETS + 2), LANES), dtype=np.int64)
    bucket = np.empty(R, dtype=np.uint16)
    for c in range(C):
        row = values[c]
        done[c] = _count_whole(row, ranks, out[c], counts)
        if done[c] or R == 0:
            continue
        if R <= SORT_LIMIT:
            done[c] = _sort_select(row, ranks, out[c])
        else:
            done[c] = _bucket_select(row, ranks, out[c], counts, bucket)


#: the bit pattern of -0.0 as an int64
_NEGATIVE_ZERO = np.float64(-0.0).view(np.int64)


@_jit
def _has_negative_zero(row):
    """Whether ``row`` holds a -0.0: a sort places +0.0 and -0.0 as it pleases, so such a
    row is left to NumPy's partition (a loop the compiler vectorizes)."""
    bits = row.view(np.int64)
    found = False
    for i in range(len(bits)):
        found |= bits[i] == _NEGATIVE_ZERO
    return found


@_jit
def _sort_select(row, ranks, out):
    """The values at ``ranks`` of ``row`` sorted (a copy); False, with nothing written, if
    a value is a NaN, an infinity or -0.0."""
    for v in row:
        if not math.isfinite(v):
            return False
    if _has_negative_zero(row):
        return False
    ordered = np.sort(row)
    for j in range(len(ranks)):
        out[j] = ordered[ranks[j]]
    return True


#: the bit pattern of ``COUNT_LIMIT`` as a float64: for a non-negative float (the sign
#: bit clear), ordering by bit pattern as an int64 is ordering by value, with an infinity
#: and a NaN above every number
_COUNT_LIMIT_BITS = np.float64(COUNT_LIMIT).view(np.int64)
#: the bits below the sign of a float64, and the bit patterns of the infinities as keys
_MAGNITUDE = np.int64(0x7FFFFFFFFFFFFFFF)
_INF_KEY = np.float64(np.inf).view(np.int64)
_NEG_INF_KEY = np.float64(-np.inf).view(np.int64) ^ _MAGNITUDE


#: what ``_whole_top`` returns for a row with a negative value (or -0.0) in a block of
#: whole numbers: the row may still be counted from its least value (``_whole_span``)
_NEGATIVE = -2


@_jit
def _whole_top(row):
    """The largest value of ``row`` if every value is a whole number in [0,
    ``COUNT_LIMIT``) and none is -0.0 (a sort would place it as it pleases), else -1
    (``_NEGATIVE`` if a block of whole numbers held a negative value). Checked a block at
    a time, so that a row of other numbers is given up after its first block."""
    bits = row.view(np.int64)
    top = np.int64(0)
    for start in range(0, len(row), CHECK_BLOCK):
        stop = start + CHECK_BLOCK
        negative, fraction, block_top = _whole_block(row[start:stop], bits[start:stop])
        if fraction != 0:
            return -1
        if negative < 0:
            return _NEGATIVE
        top = max(top, block_top)
        if top >= _COUNT_LIMIT_BITS:
            return -1
    return int(_as_float(top)) if len(row) > 0 else -1


@_jit
def _whole_span(row):
    """``(lo, hi - lo)`` for a row of finite whole numbers, none -0.0, spanning less
    than ``COUNT_LIMIT`` from a least value of at least ``-2**52`` (scores below zero,
    say: whole numbers an int64 holds exactly); else ``(0, -1)``."""
    lo, hi, finite, negative_zero = _extremes(row)
    if not finite or negative_zero or lo < -(2.0**52) or hi - lo >= COUNT_LIMIT:
        return 0, -1
    fraction = np.int64(0)
    for i in range(len(row)):
        fraction |= np.int64(np.floor(row[i]) != row[i])
    if fraction != 0:
        return 0, -1
    return int(lo), int(hi - lo)


@_jit
def _whole_block(row, bits):
    """The sign bits of ``row`` or'ed, whether a value has a fraction (or is a NaN), and
    the largest bit pattern: integer reductions over the bit patterns, which vectorize
    (a float maximum does not). For non-negative floats the order of the bit patterns
    is the order of the values, an infinity and a NaN above every number. (A loop of its
    own, not inlined: the compiler vectorizes it only so.)"""
    negative = np.int64(0)
    fraction = np.int64(0)
    top = np.int64(0)
    for i in range(len(row)):
        negative |= bits[i]
        top = max(top, bits[i])
        fraction |= np.int64(np.floor(row[i]) != row[i])
    return negative, fraction, top


@_jit
def _extremes(row):
    """``(lo, hi, finite, negative_zero)``: the least and largest value of ``row``,
    whether every value is finite and whether one is -0.0, in one pass of integer
    reductions over keys that order floats as numbers (the sign bit set: the other bits
    flipped), which vectorize."""
    bits = row.view(np.int64)
    lo = hi = bits[0] ^ ((bits[0] >> 63) & _MAGNITUDE)
    negative_zero = False
    for i in range(len(row)):
        x = bits[i]
        key = x ^ ((x >> 63) & _MAGNITUDE)
        lo = min(lo, key)
        hi = max(hi, key)
        negative_zero |= x == _NEGATIVE_ZERO
    finite = lo > _NEG_INF_KEY and hi < _INF_KEY
    lo ^= (lo >> 63) & _MAGNITUDE
    hi ^= (hi >> 63) & _MAGNITUDE
    return _as_float(lo), _as_float(hi), finite, negative_zero


@_inline
def _as_float(bits):
    """The float64 of an int64 bit pattern."""
    room = np.empty(1, dtype=np.int64)
    room[0] = bits
    return room.view(np.float64)[0]


@_jit
def _count_whole(row, ranks, out, counts):
    n = len(row)
    lo = 0
    top = _whole_top(row) if n > 0 else -1
    if top == _NEGATIVE:
        lo, top = _whole_span(row)
    if top < 0:
        return False
    if _count_up(row, ranks, out, lo, lo + top):
        return True
    # most replicates often share one value (no attacks today, every site open): if the
    # first value is that of two in three, it is counted in one pass and only the others
    # one by one
    common = row[0]
    same = 0
    for i in range(n):
        same += row[i] == common
    if 3 * same >= 2 * n:
        counts[int(common) - lo, 0] += same
        if same < n:
            for i in range(n):
                if row[i] != common:
                    counts[int(row[i]) - lo, i & (LANES - 1)] += 1
    else:
        end = n - n % LANES
        for i in range(0, end, LANES):
            for lane in range(LANES):
                counts[int(row[i + lane]) - lo, lane] += 1
        for i in range(end, n):
            counts[int(row[i]) - lo, 0] += 1
    seen = 0
    j = 0
    for k in range(top + 1):
        for lane in range(LANES):
            seen += counts[k, lane]
            counts[k, lane] = 0
        while j < len(ranks) and ranks[j] < seen:
            out[j] = k + lo
            j += 1
    return True


#: the largest int64, above every key
_TOP_KEY = np.int64(0x7FFFFFFFFFFFFFFF)


@_jit
def _count_up(row, ranks, out, lo, hi):
    """The values at ``ranks`` of a row of whole numbers in [lo, hi] (``lo`` at most its
    least value, ``hi`` its largest) from ``lo`` up, one distinct value a pass: how many
    values are at most it, and the next value. Most counts of a day are zero (no attack,
    no casualty) up to their last wanted rank, or nearly: a pass or two, each a loop the
    compiler vectorizes, instead of a count value by value. False (``out`` written in
    part) when the last rank is not reached in ``COUNT_PASSES`` passes finding values, or
    is not on course to be."""
    bits = row.view(np.int64)
    key = np.float64(lo).view(np.int64)
    key ^= (key >> 63) & _MAGNITUDE
    counted = 0
    found = 0
    j = 0
    for _ in range(COUNT_PASSES + 1):  # and a first pass finding none (from zero)
        at_most, above = _at_most(bits, key)
        value = _as_float(key ^ ((key >> 63) & _MAGNITUDE))
        while j < len(ranks) and ranks[j] < at_most:
            out[j] = value
            j += 1
        if j == len(ranks):
            return True
        if at_most > counted:
            found += 1
            left = COUNT_PASSES - found
            # given up from the third value on if the passes left might not reach the
            # last rank, more whole numbers than passes lying above, nor would at the
            # pace of this one (many distinct values: the scores summed since the
            # start); the first may be a few rare low values (scores below zero) before
            # the many at zero
            slow = ranks[-1] + 1 - at_most > left * (at_most - counted)
            if left == 0 or (found > 2 and hi - value > left and slow):
                return False
        counted = at_most
        key = above
    return False


@_jit
def _at_most(bits, key):
    """How many of the floats with bit patterns ``bits`` have a key (``_extremes``) of at
    most ``key``, and the least key above it (``_TOP_KEY`` if none): integer reductions,
    which vectorize (a loop of its own, not inlined)."""
    count = 0
    above = _TOP_KEY
    for i in range(len(bits)):
        x = bits[i]
        k = x ^ ((x >> 63) & _MAGNITUDE)
        count += k <= key
        above = min(above, k if k > key else _TOP_KEY)
    return count, above


@_jit
def _repeated(part):
    """Whether ``part`` holds one value over and over (zeros of one sign: a sort would
    order +0.0 and -0.0 as it pleases)."""
    first = part[0]
    negative = math.copysign(1.0, first) < 0.0
    for v in part:
        if v != first or (v == 0.0 and (math.copysign(1.0, v) < 0.0) != negative):
            return False
    return True


@_inline
def _bucket(value, lo, hi, scale, inner):
    """The bucket of ``value`` in [lo, hi]: 0 for ``lo``, ``inner + 1`` for ``hi``, and
    between them ``inner`` equal slices of the range, a monotone map (a lower bucket holds
    no higher value: rounding is monotone, and the last slice takes what rounds past it)."""
    return (value > lo) + min(int((value - lo) * scale), inner - 1) + (value == hi)


def _bucket_selector(nested):
    """A compiled ``select(row, ranks, out, counts, bucket)``: the values at ``ranks`` of
    ``row`` (finite, no -0.0, else False with nothing written) from the buckets of its
    range holding them (``order_statistics``); ``counts`` (zeros, left so) and ``bucket``
    (a place for each value) are scratch. A crowded bucket (more than ``SELECT_LIMIT``
    values, not all one) is bucketed again over its own range if ``nested`` (by
    ``_select_in_bucket``, which partitions its own crowded buckets), else partitioned.
    One source for both levels: ``nested`` is a constant of each compiled function, its
    other branch left out."""

    @_jit
    def select(row, ranks, out, counts, bucket):
        n = len(row)
        lo, hi, finite, negative_zero = _extremes(row)
        if not finite or negative_zero:
            return False
        if lo == hi:
            out[:] = lo
            return True
        inner = min(BUCKETS, n)
        scale = inner / (hi - lo)
        if not (0.0 < scale < math.inf):  # a range too narrow to cut, or wider than a float
            return False
        top = inner + 1
        # the least and the largest value have buckets of their own, below and above the
        # others: the zeros of a row (no outrage yet) or the values at its top (full
        # resolve, the starting troops) are often most of it, and are known without a look.
        # (Buckets are unsigned: an unsigned index is not checked for counting from the end)
        for i in range(n):
            bucket[i] = _bucket(row[i], lo, hi, scale, inner)
        end = n - n % LANES
        for i in range(0, end, LANES):
            for lane in range(LANES):
                counts[bucket[i + lane], lane] += 1
        for i in range(end, n):
            counts[bucket[i], 0] += 1
        # the bucket of each wanted rank, how many values lie in lower buckets, and where the
        # values of its bucket will lie: the wanted buckets (but the two ends) laid out one
        # after the other
        m = len(ranks)
        bucket_of = np.empty(m, dtype=np.int64)
        below = np.empty(m, dtype=np.int64)
        start = np.empty(m, dtype=np.int64)
        size_of = np.empty(m, dtype=np.int64)
        wanted = np.zeros(top + 1, dtype=np.bool_)
        fill = np.empty(top + 1, dtype=np.uint64)
        seen = 0
        size = 0
        j = 0
        for b in range(top + 1):
            here = 0
            for lane in range(LANES):
                here += counts[b, lane]
                counts[b, lane] = 0
            first_rank = j
            while j < m and ranks[j] < seen + here:
                bucket_of[j] = b
                below[j] = seen
                start[j] = size
                size_of[j] = here
                j += 1
            if j > first_rank and 0 < b < top:
                wanted[b] = True
                fill[b] = size
                size += here
            seen += here
        # the values of the wanted buckets first kept in the order they come, each written
        # to the next free place and that place moved on only if its bucket is wanted (no
        # branch to predict: which values are wanted follows no pattern), then laid out bucket
        # by bucket
        kept = np.empty(n)
        k = np.uint64(0)
        for i in range(n):
            kept[k] = row[i]
            k += np.uint64(wanted[bucket[i]])
        picked = np.empty(size)
        for i in range(k):
            b = _bucket(kept[i], lo, hi, scale, inner)
            picked[fill[b]] = kept[i]
            fill[b] += np.uint64(1)
        # each wanted bucket on its own: a higher bucket holds no lower value
        j = 0
        while j < m:
            first_rank = j
            b = bucket_of[j]
            while j < m and bucket_of[j] == b:
                j += 1
            if b == 0 or b == top:
                out[first_rank:j] = lo if b == 0 else hi
                continue
            part = picked[start[first_rank] : start[first_rank] + size_of[first_rank]]
            local = ranks[first_rank:j] - below[first_rank:j]
            if _repeated(part):  # one value over and over: no sort
                out[first_rank:j] = part[0]
            elif len(part) <= SELECT_LIMIT:
                part.sort()
                for r in range(len(local)):
                    out[first_rank + r] = part[local[r]]
            else:
                # a crowded bucket: bucketed again (the counts and the buckets are done with
                # here, and left as they were found), else its ranks selected in one
                # partition; a range a few ulps wide cannot be cut, and is partitioned too
                if nested and _select_in_bucket(part, local, out[first_rank:j], counts, bucket):
                    continue
                chosen = np.partition(part, local)
                for r in range(len(local)):
                    out[first_rank + r] = chosen[local[r]]
        return True

    return select


#: a crowded bucket's values bucketed over their own range, its crowded buckets partitioned
_select_in_bucket = _bucket_selector(nested=False)
#: a long row's values bucketed over its range, its crowded buckets bucketed again
_bucket_select = _bucket_selector(nested=True)
