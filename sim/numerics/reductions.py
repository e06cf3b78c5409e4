"""Reductions and index searches over arrays with a leading replicate axis, exact to the
last bit of the NumPy expression each docstring names."""

from __future__ import annotations

import numpy as np

from sim.numerics.compiled import inline as _inline
from sim.numerics.compiled import jit as _jit

#: most rows per matrix product, and most multiply-adds: small enough for OpenBLAS's
#: single-threaded small-matrix kernel (it takes products of at most 1e6 multiply-adds),
#: so a row's result never depends on how many rows run beside it, and no BLAS threads
#: are woken on a shared machine (a product above the limit took 20 times as long)
MATMUL_ROWS = 4096
SMALL_PRODUCT = 1_000_000


def rowwise_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for (n, k) ``a`` and a small (k, m) ``b``, in blocks of rows.

    BLAS sums each row's products in an order that depends on the shape of the whole
    product (a vector kernel for one row, another kernel above a size), so the same
    replicate could round differently alone, in 100 or in 10,000; blocks of 2 to
    ``MATMUL_ROWS`` rows always take the same kernel.
    """
    n = len(a)
    out = np.empty((n, b.shape[1]), dtype=np.result_type(a, b))
    if n == 1:  # as the first of two rows, not as a vector
        out[:] = (np.concatenate([a, a]) @ b)[:1]
        return out
    rows = max(2, min(MATMUL_ROWS, SMALL_PRODUCT // max(a.shape[1] * b.shape[1], 1)))
    for start in range(0, n, rows):
        start = min(start, n - 2)  # a lone last row joins the one before it
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def sum_last(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1)`` to the last bit, for a short last axis (groups, sites).

    NumPy reduces such an axis with one inner loop per row, which costs more than the
    arithmetic at 10,000 rows; here a compiled loop adds each row in NumPy's order
    (``row_sums``: below 8 terms one by one, in any layout; from 8 to ``PAIRWISE_BLOCK``
    terms pairwise, for rows laid out whole, as NumPy adds other layouts in another order).
    """
    n = a.shape[-1]
    if a.dtype == np.float64 and 0 < n <= PAIRWISE_BLOCK and a.ndim >= 2:
        if n < 8 and a.ndim == 2:  # a strided view (one weapon's stocks) as it is
            out = np.empty(len(a))
            row_sums(a, out)
            return out
        if a.flags.c_contiguous:
            out = np.empty(a.size // n)
            row_sums(a.reshape(-1, n), out)
            return out.reshape(a.shape[:-1])
    if n == 0 or n >= 8 or a.dtype.kind != "f":
        return a.sum(axis=-1)
    total = a[..., 0] + 0.0  # NumPy starts from +0.0, which turns -0.0 into +0.0
    for i in range(1, n):
        total += a[..., i]
    return total


def sum_last_where(a: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``sum_last(np.where(where, a, 0.0))`` of a 2-d float ``a`` and a bool ``where`` of
    its shape with a last axis of at most ``PAIRWISE_BLOCK``, to the last bit: each row's
    kept values (the others as 0.0) added in ``sum_last``'s order, without the masked
    copy."""
    out = np.empty(a.shape[0])
    _row_sums_where(a.astype(np.float64, copy=False), where, out)
    return out


@_jit
def _row_sums_where(a, where, out):
    k = a.shape[1]
    row = np.empty(k)
    for i in range(a.shape[0]):
        for j in range(k):
            row[j] = a[i, j] if where[i, j] else 0.0
        out[i] = _row_sum(row, k)


def repeat_last(a: np.ndarray, k: int) -> np.ndarray:
    """``np.repeat(a, k).reshape(*a.shape, k)``: ``a`` with a new last axis of ``k``
    copies of each value (``a[..., None]`` made whole). An array met whole is multiplied
    in one pass, where a broadcast over a short last axis costs several times as much;
    the copies are written by a compiled loop, one copy at a time (faster than
    ``np.repeat``, which writes value by value)."""
    a = np.asarray(a)
    out = np.empty((*a.shape, k), dtype=a.dtype)
    if a.dtype.kind in "biuf" and out.size:
        _repeat_each(np.ascontiguousarray(a).reshape(-1), out.reshape(-1, k))
    else:
        out[...] = a[..., None]
    return out


@_jit
def _repeat_each(a, out):
    for j in range(out.shape[1]):
        for i in range(len(a)):
            out[i, j] = a[i]


def any_last(a: np.ndarray) -> np.ndarray:
    """``a.any(axis=-1)`` of a 2-d bool array, in one compiled pass (NumPy's reduction
    over a short last axis costs a loop per row)."""
    out = np.empty(a.shape[0], dtype=np.bool_)
    _any_rows(a, out)
    return out


def count_last(a: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(a, axis=-1)`` of a 2-d bool array (any layout), in one
    compiled pass."""
    out = np.empty(a.shape[0], dtype=np.int64)
    _count_rows(a, out)
    return out


@_jit
def _any_rows(a, out):
    for i in range(a.shape[0]):
        hit = False
        for j in range(a.shape[1]):
            hit |= a[i, j]
        out[i] = hit


@_jit
def _count_rows(a, out):
    for i in range(a.shape[0]):
        n = 0
        for j in range(a.shape[1]):
            n += a[i, j]
        out[i] = n


def rows_where_equal(a: np.ndarray, value, active: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(active & (a == value))`` for an (R,) ``a``, in one pass."""
    rows = np.empty(len(a), dtype=np.int64)
    return rows[: _rows_equal(a, value, active, rows)]


def cells_where_equal(a: np.ndarray, value, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(active[:, None] & (a == value))`` for an (R, M) ``a``, in one pass."""
    rows, cols = np.empty(a.size, dtype=np.int64), np.empty(a.size, dtype=np.int64)
    n = _cells_equal(a, value, active, rows, cols)
    return rows[:n], cols[:n]


def add_at(a: np.ndarray, rows: np.ndarray, values) -> None:
    """``np.add.at(a, rows, values)`` for a 1-d ``a``, with ``values`` one value or one per
    row (cast to ``a``'s type, as NumPy casts them), in one pass."""
    _add_at(a, rows, np.asarray(values, dtype=a.dtype).reshape(-1))


def add_at_cells(a: np.ndarray, rows: np.ndarray, columns: np.ndarray, values) -> None:
    """``np.add.at(a, (rows, columns), values)`` for a C-contiguous 2-d ``a``: the cells'
    places in the flat array, added in the same order, in one pass."""
    if not a.flags.c_contiguous:
        raise ValueError("add_at_cells needs a C-contiguous array")
    add_at(a.reshape(-1), rows * a.shape[1] + columns, values)


def subtract_at(a: np.ndarray, rows: np.ndarray, values) -> None:
    """``np.subtract.at(a, rows, values)`` for a 1-d ``a`` (``add_at`` of the negated
    values: a - x and a + (-x) are the same number)."""
    _add_at(a, rows, -np.asarray(values, dtype=a.dtype).reshape(-1))


@_jit
def _add_at(a, rows, values):
    each = len(values) > 1
    for i in range(len(rows)):
        a[rows[i]] += values[i if each else 0]


def maximum_at(a: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``np.maximum.at(a, rows, values)`` for integer arrays (levels, days), with ``values``
    one value (shape (1,)) or one per row, in one pass. Floats are refused: NaNs and
    signed zeros would need NumPy's rules."""
    if a.dtype.kind not in "iu":
        raise TypeError(f"maximum_at: integer arrays only, not {a.dtype}")
    _raise_to(a, rows, values)


#: the longest row ``_pairwise_sum`` adds (NumPy splits longer ones in halves, recursively)
PAIRWISE_BLOCK = 128


@_inline
def _pairwise_sum(a, n):
    """NumPy's pairwise summation of ``a[:n]``, for ``8 <= n <= PAIRWISE_BLOCK``: eight
    running sums, combined as a tree, then the rest one by one."""
    r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
    r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
    i = 8
    end = n - n % 8
    while i < end:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@_jit
def row_sums(a, out):
    """``out[i] = sum_last(a[i])`` for a (n, k) array with ``k <= PAIRWISE_BLOCK``, as
    NumPy adds each row (``_row_sum``: one by one below 8 terms, else pairwise)."""
    k = a.shape[1]
    for i in range(a.shape[0]):
        out[i] = _row_sum(a[i], k)


@_jit
def column_sums(terms, n, out):
    """``out[r] = sum_last(terms[:n, r])``: the sum of each column of the first ``n`` rows
    of ``terms``, term by term in the order ``_row_sum`` adds a row (NumPy's: below 8
    terms one by one from +0.0; from 8 to ``PAIRWISE_BLOCK`` eight running sums combined
    as a tree, then the rest), each step one loop over all columns."""
    R = len(out)
    if n == 0:
        out[:] = 0.0
        return
    if n < 8:
        first = terms[0]
        for r in range(R):
            out[r] = first[r] + 0.0
        for i in range(1, n):
            term = terms[i]
            for r in range(R):
                out[r] += term[r]
        return
    runs = terms[:8].copy()
    end = n - n % 8
    for i in range(8, end, 8):
        for k in range(8):
            run, term = runs[k], terms[i + k]
            for r in range(R):
                run[r] += term[r]
    for r in range(R):
        out[r] = ((runs[0, r] + runs[1, r]) + (runs[2, r] + runs[3, r])) + (
            (runs[4, r] + runs[5, r]) + (runs[6, r] + runs[7, r])
        )
    for i in range(end, n):
        term = terms[i]
        for r in range(R):
            out[r] += term[r]
    for r in range(R):
        out[r] = 0.0 + out[r]


@_inline
def _small_sum(row, n):
    """``sum_last`` of ``n`` < 8 terms: the first plus 0.0, then the others one by one."""
    acc = row[0] + 0.0
    for i in range(1, n):
        acc += row[i]
    return acc


@_inline
def _row_sum(row, n):
    """``sum_last`` of the first ``n`` (at most ``PAIRWISE_BLOCK``) terms of ``row``, in
    NumPy's order."""
    if n == 0:
        return 0.0
    if n < 8:
        return _small_sum(row, n)
    return 0.0 + _pairwise_sum(row, n)


@_jit
def _rows_equal(a, value, active, rows):
    n = 0
    for i in range(len(a)):
        if active[i] and a[i] == value:
            rows[n] = i
            n += 1
    return n


@_jit
def _cells_equal(a, value, active, rows, cols):
    n = 0
    for i in range(a.shape[0]):
        if active[i]:
            for j in range(a.shape[1]):
                if a[i, j] == value:
                    rows[n] = i
                    cols[n] = j
                    n += 1
    return n


@_jit
def _raise_to(a, rows, values):
    each = len(values) > 1
    for i in range(len(rows)):
        v = values[i if each else 0]
        if v > a[rows[i]]:
            a[rows[i]] = v


@_jit
def row_range(rows):
    """``(rows.min(), rows.max())`` of a non-empty int array, in one pass."""
    lo = hi = rows[0]
    for r in rows:
        lo = min(lo, r)
        hi = max(hi, r)
    return lo, hi
