"""Draws from distributions by the inverse of their CDF at given uniforms: each draw is a
pure function of its uniform, so common random numbers carry through every sampler."""

from __future__ import annotations

import numpy as np

from sim.numerics.compiled import inline as _inline
from sim.numerics.compiled import jit as _jit

#: the largest count a Poisson draw gives (casualty means here are a few at most)
POISSON_MAX_COUNT = 200


def poisson_from_uniform(
    u: np.ndarray, mean: np.ndarray, max_count: int = POISSON_MAX_COUNT
) -> np.ndarray:
    """Inverse CDF of Poisson(mean) at u, elementwise (exact; means here are small): the
    count at which the running total of the probabilities first exceeds u."""
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
    pmf = np.exp(-mean)  # NumPy's exponential, not the C library's
    count = np.empty(u.size, dtype=np.int64)
    _poisson_counts(np.ascontiguousarray(u).ravel(), mean.ravel(), pmf.ravel(), max_count, count)
    return count.reshape(u.shape)


@_inline
def poisson_count(u, mean, pmf0, max_count):
    """The count at which the running total of the Poisson(``mean``) probabilities (from
    ``pmf0 = exp(-mean)``) first exceeds ``u``, at most ``max_count``."""
    pmf = pmf0
    total = pmf
    k = 0
    while k < max_count and u >= total:
        k += 1
        pmf = pmf * mean / k
        total = total + pmf
    return k


@_jit
def _poisson_counts(u, mean, pmf0, max_count, out):
    for i in range(len(u)):
        out[i] = poisson_count(u[i], mean[i], pmf0[i], max_count)


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


def categorical_from_product(
    u: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, b_rows: np.ndarray | None = None
) -> np.ndarray:
    """Index drawn from each row of the weights ``(a[i, j] * b[i, j, k]) * c[i, k]``, flattened
    to ``j * K + k``, with probability proportional to them: the first index whose running
    total (the row added left to right, as ``np.cumsum`` adds it) reaches ``u[i]`` times
    the row's total. The (n, J, K) weights are never built: each row's products are made
    as it is searched. With ``b_rows``, row i reads ``b[b_rows[i]]`` (a table of a few
    rows, not gathered into n)."""
    out = np.empty(len(u), dtype=np.int64)
    if b_rows is None:
        b_rows = np.arange(len(u))
    _categorical_product(u, a, b, np.asarray(b_rows, dtype=np.int64), c, out)
    return out


@_jit
def _categorical_product(u, a, b, b_rows, c, out):
    J, K = b.shape[1], b.shape[2]
    for i in range(len(u)):
        ai, bi, ci = a[i], b[b_rows[i]], c[i]
        total = (ai[0] * bi[0, 0]) * ci[0]
        for j in range(J):
            for k in range(K):
                if j > 0 or k > 0:
                    total = total + (ai[j] * bi[j, k]) * ci[k]
        threshold = u[i] * total
        # the first index whose running total reaches the threshold (else the last)
        index = J * K - 1
        running = 0.0
        n = 0
        found = False
        for j in range(J):
            for k in range(K):
                w = (ai[j] * bi[j, k]) * ci[k]
                running = w if n == 0 else running + w
                if not running < threshold:
                    index, found = n, True
                    break
                n += 1
            if found:
                break
        out[i] = index


#: the longest lag (in days) a negative binomial draw gives
LAG_MAX_DAYS = 3650


def negative_binomial_from_uniform(
    u: np.ndarray, mean, dispersion, max_count: int = LAG_MAX_DAYS
) -> np.ndarray:
    """Inverse CDF at u of the negative binomial count with the given mean and dispersion
    (variance ``mean + dispersion * mean**2``; dispersion 0 is the Poisson), elementwise.

    The first probability, ``p[0] = (1 + dispersion mean) ** (-1 / dispersion)``, in
    NumPy; then for each draw the running total, step by step, ``p[k+1] = p[k] * mean (1 +
    dispersion k) / ((k + 1) (1 + dispersion mean))``, until it passes the uniform (at
    most ``max_count`` steps), in one compiled loop.
    """
    u = np.asarray(u, dtype=np.float64)
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
    phi = np.broadcast_to(np.asarray(dispersion, dtype=np.float64), u.shape)
    count = np.zeros(u.shape, dtype=np.int64)
    if u.size == 0:
        return count
    spread = 1.0 + phi * mean
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p0 = np.where(phi > 0, -np.log1p(phi * mean) / phi, -mean)
    _count_up(
        u.reshape(-1),
        np.exp(log_p0).reshape(-1),
        np.ascontiguousarray(mean).reshape(-1),
        np.ascontiguousarray(phi).reshape(-1),
        spread.reshape(-1),
        max_count,
        count.reshape(-1),
    )
    return count


@_jit
def _count_up(u, p0, mean, phi, spread, max_count, out):
    for i in range(len(u)):
        pmf = p0[i]
        total = pmf
        k = 0
        while k < max_count and u[i] >= total:
            pmf = pmf * mean[i] * (1.0 + phi[i] * k) / ((k + 1) * spread[i])
            k += 1
            total = total + pmf
        out[i] = k


def confidence_from_uniform(u: np.ndarray, mean) -> np.ndarray:
    """Inverse CDF at u of a draw on [0, 1] with the given mean and a closed-form inverse:
    for a mean m >= 1/2 the Beta(m / (1 - m), 1), ``u ** ((1 - m) / m)``; below 1/2 its
    mirror image, ``1 - (1 - u) ** (m / (1 - m))``; a mean of 1 gives 1 and of 0 gives 0."""
    u = np.asarray(u, dtype=np.float64)
    m = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # the ends: below
        high = u ** ((1.0 - m) / m)
        low = 1.0 - (1.0 - u) ** (m / (1.0 - m))
    return np.where(m >= 1.0, 1.0, np.where(m <= 0.0, 0.0, np.where(m >= 0.5, high, low)))
