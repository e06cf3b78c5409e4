"""Small vectorized building blocks shared by the core and the doctrines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import fused
from sim.events import Action, Actor, EventKind, EventLog, as_column
from sim.params import Params
from sim.rng import RandomStreams, Stream
from sim.state import NEVER, State

#: rows per matrix product: small enough for OpenBLAS's single-threaded small-matrix kernel
#: (it takes products of at most 1e6 multiply-adds), so a row's result never depends on
#: how many rows run beside it, and no BLAS threads are woken on a shared machine
MATMUL_ROWS = 4096


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
    for start in range(0, n, MATMUL_ROWS):
        start = min(start, n - 2)  # a lone last row joins the one before it
        np.matmul(a[start : start + MATMUL_ROWS], b, out=out[start : start + MATMUL_ROWS])
    return out


def sum_last(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1)`` to the last bit, for a short last axis (groups, weapons, sites).

    NumPy reduces such an axis with one inner loop per row, which costs more than the
    arithmetic at 10,000 rows; below 8 terms NumPy adds them one by one, and here the
    same additions run across all rows at once. Longer axes go to NumPy, or to a compiled
    loop that adds each row in NumPy's pairwise order (``fused.row_sums``).
    """
    n = a.shape[-1]
    if (
        fused.ENABLED
        and 8 <= n <= fused.PAIRWISE_BLOCK
        and a.dtype == np.float64
        and a.flags.c_contiguous  # NumPy adds the rows of other layouts in another order
    ):
        rows = a.reshape(-1, n)
        out = np.empty(len(rows))
        fused.row_sums(rows, out)
        return out.reshape(a.shape[:-1])
    if n == 0 or n >= 8 or a.dtype.kind != "f":
        return a.sum(axis=-1)
    total = a[..., 0] + 0.0  # NumPy starts from +0.0, which turns -0.0 into +0.0
    for i in range(1, n):
        total += a[..., i]
    return total


#: the largest casualty count a Poisson draw gives (means here are a few at most)
POISSON_MAX_COUNT = 200


def poisson_from_uniform(
    u: np.ndarray, mean: np.ndarray, max_count: int = POISSON_MAX_COUNT
) -> np.ndarray:
    """Inverse CDF of Poisson(mean) at u, elementwise (exact; means here are small)."""
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
    pmf = np.exp(-mean)
    if fused.ENABLED:
        count = np.empty(u.size, dtype=np.int64)
        fused.poisson_counts(u.ravel(), mean.ravel(), pmf.ravel(), max_count, count)
        return count.reshape(u.shape)
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


def geometric_from_uniform(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Inverse CDF of a geometric count on {1, 2, ...} with the given mean (>= 1)."""
    stop, log_continue = geometric_parameters(np.asarray(mean, dtype=np.float64))
    with np.errstate(divide="ignore"):
        extra = np.floor(np.log1p(-u) / log_continue)
    return np.where(stop >= 1.0, 1, 1 + extra).astype(np.int64)


def geometric_parameters(mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``geometric_from_uniform``'s success probability per trial for each mean, and the
    logarithm of the chance to go on, ``log1p(-min(stop, 1 - 1e-12))``."""
    stop = 1.0 / np.maximum(mean, 1.0)
    return stop, np.log1p(-np.minimum(stop, 1.0 - 1e-12))


def categorical_from_uniform(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn from each row of ``weights`` (n, k) with probability proportional to it."""
    # running totals of each row, built down the columns of the transpose: k additions of
    # length n instead of n short accumulations (the same sums, in the same order)
    cum = np.array(weights.T, order="C")
    for j in range(1, len(cum)):
        cum[j] += cum[j - 1]
    idx = np.count_nonzero(cum < u * cum[-1], axis=0)
    return np.minimum(idx, weights.shape[1] - 1)


@dataclass
class Attacks:
    """Today's militia attacks, one element each (at most one per group and replicate)."""

    rows: np.ndarray
    militia: np.ndarray
    target: np.ndarray
    weapon: np.ndarray
    killed_us: np.ndarray
    wounded_us: np.ndarray

    @property
    def n(self) -> int:
        return len(self.rows)


@dataclass
class Today:
    """What every phase of a day works on: state, parameters, random draws, the log."""

    state: State
    params: Params
    streams: RandomStreams
    day: int
    log: EventLog

    def uniform(self, stream: Stream, slots: int, rows: np.ndarray | None = None) -> np.ndarray:
        """(rows, slots) uniforms of today's ``stream``."""
        return self.streams.uniform(self.day, stream, slots, rows)

    def uniform_at(self, stream: Stream, rows: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """One uniform of today's ``stream`` per (row, slot) pair."""
        return self.streams.uniform_at(self.day, stream, rows, slots)

    def uniforms_at(self, streams, rows: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """(len(streams), len(rows)): one uniform of each of today's ``streams`` per (row,
        slot) pair, drawn in one pass."""
        return self.streams.uniforms_at(self.day, streams, rows, slots)

    def salts(self, stream: Stream, slots: int) -> np.ndarray:
        """(slots,) what the compiled doctrines hash with a replicate's key to draw today's
        uniforms of ``stream`` (``fused._drawn``)."""
        return self.streams.salts(self.day, stream, slots)

    def below(
        self, stream: Stream, slots: int, threshold, where=True, row_where=True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, slots) where ``where`` holds, in rows ``row_where`` allows (one flag per
        replicate), and today's uniform is below ``threshold``."""
        return self.streams.below(self.day, stream, slots, threshold, where, row_where)

    def happens(self, stream: Stream, probability, where=True) -> np.ndarray:
        """Rows where ``where`` holds and the day's one uniform of ``stream`` is below
        ``probability`` (a scalar or one per replicate): the rows an event happens to."""
        if np.ndim(probability):
            probability = np.asarray(probability)[:, None]
        return self.below(stream, 1, probability, row_where=where)[0]

    def emit(
        self,
        rows: np.ndarray,
        kind: EventKind | np.ndarray,
        actor: Actor,
        action: Action | np.ndarray = Action.OTHER,
        *,
        extra_kinds: tuple[tuple[np.ndarray, EventKind], ...] = (),
        **columns,
    ) -> None:
        """Log events for ``rows`` and raise today's rung to theirs.

        A state actor is its own ``source`` unless one is given. ``extra_kinds`` are
        (mask, kind) pairs of further ladder events the same act reaches (an attack that
        also causes US casualties), so its rung is the highest of them.
        """
        if len(rows) == 0:
            return
        if actor != Actor.MILITIA:
            columns.setdefault("source", self.params.source_of(actor))
        if isinstance(kind, np.ndarray) or extra_kinds:
            kind = as_column(kind, len(rows), np.int64)
            rung = self.params.rung_of_kind[kind]
            for mask, extra in extra_kinds:
                rung = np.where(mask, np.maximum(rung, self.params.rung_of_kind[extra]), rung)
        else:  # one kind, one rung
            kind = int(kind)
            rung = self.params.rung_of_kind[kind : kind + 1]
        one_rung = rung[0] if len(rung) == 1 else rung  # the log keeps one value as one
        self.log.add(
            rows, self.day, actor=actor, action=action, kind=kind, rung=one_rung, **columns
        )
        if fused.ENABLED:
            fused.raise_to(self.state.rung_today, rows, rung)
        else:
            np.maximum.at(self.state.rung_today, rows, rung if len(rung) > 1 else rung[0])

    def absorb(self, rows: np.ndarray, outcome: int, kind: EventKind, action: Action) -> None:
        """End ``rows`` in an absorbing outcome (war, withdrawal) today."""
        self.state.outcome[rows] = outcome
        self.state.outcome_changed()
        self.state.outcome_day[rows] = self.day
        self.emit(rows, kind, Actor.US, action)


def rows_equal(a: np.ndarray, value, active: np.ndarray) -> np.ndarray:
    """Active rows where the (R,) ``a`` equals ``value`` (a day something is due):
    ``np.flatnonzero(active & (a == value))``, in one pass when compiled."""
    if not fused.ENABLED:
        return np.flatnonzero(active & (a == value))
    rows = np.empty(len(a), dtype=np.int64)
    return rows[: fused.rows_equal(a, value, active, rows)]


def cells_equal(a: np.ndarray, value, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the cells of an (R, M) array equal to ``value`` in active rows:
    ``np.nonzero(active[:, None] & (a == value))``, in one pass when compiled."""
    if not fused.ENABLED:
        return np.nonzero(active[:, None] & (a == value))
    rows, cols = np.empty(a.size, dtype=np.int64), np.empty(a.size, dtype=np.int64)
    n = fused.cells_equal(a, value, active, rows, cols)
    return rows[:n], cols[:n]


def learn_response(state: State, params: Params, rows: np.ndarray, militias: np.ndarray) -> None:
    """Militias see a US response: the struck group's perceived risk rises most.

    With the per-attack decay in ``core``, this is an exponentially weighted estimate of
    P(response | attack): an attack multiplies risk by (1 - a), a response adds a.
    """
    if len(rows) == 0:
        return
    dyn = params.config.actors.dynamics
    rate, spill = dyn.learning_rate, dyn.learning_spillover
    risk = state.perceived_risk
    if fused.ENABLED and fused.learn_response(rows, militias, rate, rate * spill, risk):
        return  # the rows were in order: done in one pass
    # only the replicates that saw a strike learn: every group in them (the others watch)
    seen, at = np.unique(rows, return_inverse=True)
    struck = np.zeros((len(seen), state.perceived_risk.shape[1]), dtype=bool)
    struck[at, militias] = True
    risk = state.perceived_risk[seen]
    risk += np.where(struck, rate, rate * spill * (1.0 - risk))
    state.perceived_risk[seen] = np.clip(risk, 0.0, 1.0, out=risk)


def record_us_casualties(
    state: State,
    params: Params,
    rows: np.ndarray,
    killed: np.ndarray,
    wounded: np.ndarray,
    day: int,
) -> None:
    """Tally US casualties; each death costs the US some of its resolve to stay."""
    loss = params.config.doctrine.us.resolve_loss_per_us_death
    if fused.ENABLED:
        fused.record_us_casualties(
            rows,
            np.asarray(killed, dtype=np.float64),
            np.asarray(wounded, dtype=np.float64),
            loss,
            day,
            NEVER,
            state.killed_us_today,
            state.wounded_us_today,
            state.us_resolve,
            state.first_us_death_day,
        )
        return
    np.add.at(state.killed_us_today, rows, killed)
    np.add.at(state.wounded_us_today, rows, wounded)
    np.subtract.at(state.us_resolve, rows, loss * killed)
    first = rows[(killed > 0) & (state.first_us_death_day[rows] == NEVER)]
    state.first_us_death_day[first] = day
