"""Counting a batch of labelled items into per-row tallies in one pass (the event log's
counts): what a sequence of NumPy ``add.at`` calls makes, in the same order."""

from __future__ import annotations

from sim.numerics.compiled import jit as _jit


@_jit
def tally(rows, kinds, day, counted, category, by_kind, by_category, columns, values, sums):
    """Count items: item i of row ``rows[i]`` and kind ``kinds[i]`` counts once in
    ``by_kind[kind, row, 0]``; the first item of a (row, kind) on ``day`` counts a day in
    ``by_kind[kind, row, 1]`` (``by_kind[kind, row, 2]`` remembers the day last counted);
    items with ``counted`` set count in ``by_category[row, category]`` (the last column
    for a negative category); row j of ``values`` (C, n) adds into column ``columns[j]``
    of ``sums``. ``kinds``, ``counted`` and ``category`` hold one value for the batch or
    one per item."""
    last = by_category.shape[1] - 1
    each_kind, each_counted, each_category = len(kinds) > 1, len(counted) > 1, len(category) > 1
    for i in range(len(rows)):
        r, k = rows[i], kinds[i if each_kind else 0]
        by_kind[k, r, 0] += 1
        if by_kind[k, r, 2] != day:
            by_kind[k, r, 2] = day
            by_kind[k, r, 1] += 1
        if counted[i if each_counted else 0]:
            c = category[i if each_category else 0]
            by_category[r, last if c < 0 else c] += 1
    for j in range(len(columns)):
        for i in range(len(rows)):
            sums[rows[i], columns[j]] += values[j, i]
