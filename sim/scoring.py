"""Proper scoring rules for forecasts of counts: CRPS and the log score.

A forecast of a count for each of T periods is a probability mass function over
0..K per period, an array ``(T, K + 1)``. The CRPS of an integer-valued distribution is
exact as a finite sum, CRPS(F, y) = sum_k (F(k) - 1{y <= k})^2 over k = 0..K (past K both
terms are 1), so a simulated ensemble is scored exactly through its empirical pmf
(:func:`empirical_pmf`): the same value as the ensemble CRPS E|X - y| - E|X - X'| / 2
(:func:`crps_ensemble`, for real-valued samples). Lower is better for both rules.

The log score -log p(y) needs a probability for every count; an ensemble gives 0 to any
count none of its members reached, so it is scored through :func:`smoothed_pmf`: the
empirical pmf with one pseudo-member spread over a negative binomial (or Poisson) of the
ensemble's mean and variance, (counts + q) / (m + 1). Exact distributions (the Poisson
baselines) are scored as they are. Everything is NumPy; no rule of the model is here.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: weight, in ensemble members, of the parametric part of a smoothed pmf
SMOOTHING_MEMBERS = 1.0
#: a smoothed pmf's parametric part has at least this mean, in events per member, so that
#: an ensemble of zeros still gives a positive probability to a count above zero
SMOOTHING_MEAN_FLOOR = 0.5


def crps_pmf(pmf: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of each period's pmf over 0..K at the observed count (exact; ``observed <= K``)."""
    pmf = np.atleast_2d(np.asarray(pmf, dtype=np.float64))
    y = np.asarray(observed, dtype=np.int64).reshape(-1)
    if len(y) != len(pmf):
        raise ValueError(f"{len(y)} observations for {len(pmf)} forecast periods")
    k = np.arange(pmf.shape[1])
    if (y < 0).any() or (y > k[-1]).any():
        raise ValueError(f"observed counts must lie in 0..{k[-1]}")
    cdf = np.cumsum(pmf, axis=1)
    step = (k[None, :] >= y[:, None]).astype(np.float64)
    return ((cdf - step) ** 2).sum(axis=1)


def crps_ensemble(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Exact CRPS of the empirical distribution of ``samples`` (m, T) at ``observed`` (T,).

    E|X - y| - E|X - X'| / 2 with both expectations over the m members (the second through
    the sorted members: E|X - X'| = 2 / m^2 sum_i (2i - m - 1) x_(i)).
    """
    x = np.sort(np.asarray(samples, dtype=np.float64).reshape(len(samples), -1), axis=0)
    y = np.asarray(observed, dtype=np.float64).reshape(-1)
    m = x.shape[0]
    first = np.abs(x - y[None, :]).mean(axis=0)
    weights = (2.0 * np.arange(1, m + 1) - m - 1.0)[:, None]
    half_spread = (weights * x).sum(axis=0) / m**2
    return first - half_spread


def crps_normal(mu: float, sigma: float, observed: np.ndarray) -> np.ndarray:
    """Closed-form CRPS of a normal distribution (Gneiting and Raftery 2007)."""
    z = (np.asarray(observed, dtype=np.float64) - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def log_score(pmf: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """-log p(observed) for each period (nats; infinite where the pmf gives 0)."""
    pmf = np.atleast_2d(np.asarray(pmf, dtype=np.float64))
    y = np.asarray(observed, dtype=np.int64).reshape(-1)
    with np.errstate(divide="ignore"):
        return -np.log(pmf[np.arange(len(y)), y])


def empirical_pmf(samples: np.ndarray, size: int) -> np.ndarray:
    """The ensemble's pmf over 0..size-1 for each period: samples (m, T) -> (T, size)."""
    x = np.asarray(samples, dtype=np.int64)
    m, periods = x.shape
    if (x < 0).any() or (x >= size).any():
        raise ValueError(f"ensemble counts must lie in 0..{size - 1}")
    pmf = np.zeros((periods, size))
    np.add.at(pmf, (np.tile(np.arange(periods), m), x.reshape(-1)), 1.0)
    return pmf / m


def count_pmf(mean: np.ndarray, variance: np.ndarray, size: int) -> np.ndarray:
    """A negative binomial with this mean and variance (a Poisson when the variance is not
    above the mean) over 0..size-1, for each period (mass past size-1 left out)."""
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    variance = np.asarray(variance, dtype=np.float64).reshape(-1)
    k = np.arange(size)[None, :]
    out = stats.poisson.pmf(k, mean[:, None])
    over = variance > mean * (1 + 1e-9)
    if over.any():
        r = mean[over] ** 2 / (variance[over] - mean[over])
        p = r / (r + mean[over])
        out[over] = stats.nbinom.pmf(k, r[:, None], p[:, None])
    return out


def poisson_pmf(mean: np.ndarray, size: int) -> np.ndarray:
    """Poisson pmf over 0..size-1 for each period's mean."""
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    return stats.poisson.pmf(np.arange(size)[None, :], mean[:, None])


def smoothed_pmf(samples: np.ndarray, size: int) -> np.ndarray:
    """The ensemble's pmf with :data:`SMOOTHING_MEMBERS` pseudo-member spread over a negative
    binomial of the ensemble's mean (at least :data:`SMOOTHING_MEAN_FLOOR` / (m + 1)) and
    variance: (counts + w q) / (m + w). Every count gets a positive probability; where the
    ensemble has many members the empirical part dominates."""
    x = np.asarray(samples, dtype=np.float64)
    m = x.shape[0]
    w = SMOOTHING_MEMBERS
    mean = np.maximum(x.mean(axis=0), SMOOTHING_MEAN_FLOOR / (m + w))
    q = count_pmf(mean, x.var(axis=0), size)
    return (empirical_pmf(samples, size) * m + w * q) / (m + w)


def binary(pmf: np.ndarray) -> np.ndarray:
    """A count's pmf as the pmf of 'any' (0 or at least 1): (T, K + 1) -> (T, 2)."""
    pmf = np.atleast_2d(pmf)
    none = pmf[:, 0]
    return np.stack([none, 1.0 - none], axis=1)


def smoothed_binary(samples: np.ndarray) -> np.ndarray:
    """P(none), P(any) of an ensemble with half a pseudo-member on each side (Jeffreys):
    (k + 1/2) / (m + 1) for the k members with any."""
    x = np.asarray(samples) > 0
    m = x.shape[0]
    anyp = (x.sum(axis=0) + 0.5) / (m + 1.0)
    return np.stack([1.0 - anyp, anyp], axis=1)


def quantiles(pmf: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """For each level q and period, the least count k with F(k) >= q: (len(levels), T)."""
    cdf = np.cumsum(np.atleast_2d(pmf), axis=1)
    out = np.empty((len(levels), cdf.shape[0]), dtype=np.int64)
    for i, q in enumerate(levels):
        out[i] = np.argmax(cdf >= q - 1e-12, axis=1)
    return out
