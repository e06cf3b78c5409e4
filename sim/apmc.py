"""Adaptive population Monte Carlo ABC (Lenormand, Jabot & Deffuant 2013), one batch a
generation.

Approximate Bayesian computation keeps the parameter points whose simulated statistics
fall near the observed ones; the kept points, with importance weights, are a sample of
the approximate posterior. The adaptive population Monte Carlo scheme (APMC: M. Lenormand,
F. Jabot, G. Deffuant, "Adaptive approximate Bayesian computation for complex models",
Computational Statistics 28, 2013) suits a batched simulator: every generation proposes a
fixed number of points at once, so a generation is one batched simulation, and the
tolerance adapts by itself.

- Generation 0: ``2 n`` points from the prior (a scrambled Latin hypercube, scipy's
  ``qmc``), simulated; the ``n`` nearest are kept, weights equal.
- Generation t: ``n`` new points, each drawn from the kept points by weight and moved by
  a normal kernel with twice their weighted covariance (Beaumont et al. 2009), redrawn
  until inside the prior's box; simulated; weighted prior / (mixture of the kernels).
  Kept and new points are pooled and the ``n`` nearest kept (the tolerance is the
  distance of the farthest kept). The share of new points kept is the acceptance; the scheme stops
  when it falls below a floor (Lenormand et al.'s p_acc_min): the population has stopped
  moving.

The prior is uniform on each parameter's range, on a log scale where the parameter asks
for it: points live here in the unit cube of that scale (:class:`Box`). Nothing here
knows the model: ``simulate`` maps points to distances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import qmc


@dataclass(frozen=True)
class Box:
    """The prior: each parameter uniform on [low, high], on a log scale where ``log``."""

    low: np.ndarray
    high: np.ndarray
    log: np.ndarray

    def _ends(self) -> tuple[np.ndarray, np.ndarray]:
        """The box's ends on each parameter's scale (log where ``log``)."""
        lo = np.where(self.log, np.log(np.where(self.log, self.low, 1.0)), self.low)
        hi = np.where(self.log, np.log(np.where(self.log, self.high, 1.0)), self.high)
        return lo, hi

    def to_values(self, unit: np.ndarray) -> np.ndarray:
        """Points of the unit cube (n, d) as parameter values."""
        lo, hi = self._ends()
        x = lo + unit * (hi - lo)
        return np.where(self.log, np.exp(np.where(self.log, x, 0.0)), x)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Parameter values (n, d) as points of the unit cube."""
        lo, hi = self._ends()
        x = np.where(self.log, np.log(np.where(self.log, np.maximum(values, 1e-300), 1.0)), values)
        return (x - lo) / (hi - lo)


@dataclass
class Population:
    """Kept points (unit cube), their importance weights (prior / proposal density: 1 for
    the prior's own points) and distances."""

    unit: np.ndarray
    weight: np.ndarray
    distance: np.ndarray
    stats: np.ndarray  # (n, K) the kept points' simulated statistics

    @property
    def normalised(self) -> np.ndarray:
        return self.weight / self.weight.sum()

    @property
    def tolerance(self) -> float:
        return float(self.distance.max())


def first_points(n: int, dims: int, seed: int) -> np.ndarray:
    """``2 n`` points of the prior: a scrambled Latin hypercube of the unit cube."""
    return qmc.LatinHypercube(d=dims, seed=np.random.default_rng([seed, 0])).random(2 * n)


def first_population(
    unit: np.ndarray, stats: np.ndarray, distance: np.ndarray, n: int
) -> Population:
    """The ``n`` nearest of the prior's points, weights equal."""
    order = np.argsort(distance, kind="stable")[:n]
    return Population(unit[order], np.ones(n), distance[order], stats[order])


def kernel_cov(pop: Population) -> np.ndarray:
    """Twice the weighted covariance of the kept points (Beaumont et al. 2009), with a tiny
    ridge so that a parameter the points agree on still moves."""
    cov = np.atleast_2d(np.cov(pop.unit.T, aweights=pop.weight, bias=True)) * 2.0
    return cov + np.eye(cov.shape[0]) * 1e-8


def propose(pop: Population, n: int, seed: int, generation: int) -> np.ndarray:
    """``n`` new points: drawn from the kept points by weight, moved by the kernel, and
    redrawn until inside the unit cube."""
    rng = np.random.default_rng([seed, generation])
    cov = kernel_cov(pop)
    chol = np.linalg.cholesky(cov)
    out = np.empty((n, pop.unit.shape[1]))
    todo = np.arange(n)
    for _ in range(1000):
        parent = rng.choice(len(pop.weight), size=len(todo), p=pop.normalised)
        moved = pop.unit[parent] + rng.standard_normal((len(todo), cov.shape[0])) @ chol.T
        inside = np.all((moved >= 0) & (moved <= 1), axis=1)
        out[todo[inside]] = moved[inside]
        todo = todo[~inside]
        if not len(todo):
            return out
    raise RuntimeError("the kernel keeps leaving the prior's box")


def weights(new: np.ndarray, pop: Population) -> np.ndarray:
    """Importance weights of new points: the prior's density (constant in the box) over
    the mixture of kernels around the kept points that proposed them (not normalised)."""
    kernel = stats.multivariate_normal(mean=np.zeros(new.shape[1]), cov=kernel_cov(pop))
    mixture = np.zeros(len(new))
    for start in range(0, len(new), 2000):
        block = new[start : start + 2000]
        diff = block[:, None, :] - pop.unit[None, :, :]
        dens = kernel.pdf(diff.reshape(-1, new.shape[1])).reshape(len(block), -1)
        mixture[start : start + 2000] = dens @ pop.normalised
    return 1.0 / np.maximum(mixture, 1e-300)


def next_population(
    pop: Population, new: np.ndarray, stats: np.ndarray, distance, n: int | None = None
) -> tuple[Population, float]:
    """Pool the kept and the new points, keep the ``n`` nearest by ``distance`` (a function
    of statistics, applied to both: its scales may have changed, see sim.calibrate); and
    the acceptance (the share of the new points kept)."""
    n = len(pop.weight) if n is None else n
    # importance weights, prior density / proposal density, are on one scale whatever
    # the generation (the prior's density is 1 in the unit cube; the prior's own points
    # weigh 1), so kept and new points pool as they are (Lenormand et al. 2013, algorithm 2)
    w_new = weights(new, pop)
    unit = np.vstack([pop.unit, new])
    weight = np.concatenate([pop.weight, w_new])
    pooled = np.vstack([pop.stats, stats])
    dist = distance(pooled)
    order = np.argsort(dist, kind="stable")[:n]
    acceptance = float(np.mean(order >= len(pop.weight)) * n / len(new))
    return Population(unit[order], weight[order], dist[order], pooled[order]), acceptance


def weighted_quantile(values: np.ndarray, weight: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (the inverse of its weighted CDF)."""
    order = np.argsort(values)
    cdf = np.cumsum(weight[order]) / weight.sum()
    return float(values[order][min(np.searchsorted(cdf, q), len(values) - 1)])
