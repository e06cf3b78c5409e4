"""Outputs: what an analysis measures of each replicate, and of each point as the mean over
its replicates.

Each output is computed from a run's replicate table (``ensemble.parquet``'s columns). A
share (``p_...``) is the mean of a 0/1 indicator, so a point's value is the probability
estimated from its replicates. The days to the first US death are censored at the horizon:
a replicate with no US death counts the number of days run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.sweep import DAYS_PER_MONTH


@dataclass(frozen=True)
class Output:
    """One measured quantity.

    Attributes:
        label: how figures and reports name it.
        lower_is_better: whether less of it is better for the United States (the sense in
            which the tournament counts regret).
        measure: the per-replicate values, from the replicate table and the days run.
    """

    label: str
    lower_is_better: bool
    measure: Callable[[pd.DataFrame, int], np.ndarray]


def _first_us_death(table: pd.DataFrame, days: int) -> np.ndarray:
    day = table["first_us_death_day"].to_numpy()
    return np.where(day >= 0, day, days).astype(float)


def _share(condition: Callable[[pd.DataFrame], pd.Series]):
    return lambda table, days: condition(table).to_numpy(dtype=float)


OUTPUTS: dict[str, Output] = {
    "attacks_per_month": Output(
        "attacks per month",
        True,
        lambda t, days: t["attacks"].to_numpy(dtype=float) * DAYS_PER_MONTH / max(days, 1),
    ),
    "us_deaths": Output("US deaths", True, lambda t, days: t["killed_us"].to_numpy(dtype=float)),
    "p_rung5": Output("P(rung >= 5)", True, _share(lambda t: t["max_rung"] >= 5)),
    "p_rung7": Output("P(rung >= 7)", True, _share(lambda t: t["max_rung"] >= 7)),
    "p_war": Output("P(war)", True, _share(lambda t: t["outcome"] == "war")),
    "p_spiral": Output("P(spiral)", True, _share(lambda t: t["outcome"] == "spiral")),
    "p_deterrence_holds": Output(
        "P(deterrence holds)", False, _share(lambda t: t["outcome"] == "deterrence_holds")
    ),
    "days_to_first_us_death": Output(
        "days to first US death (censored at the horizon)", False, _first_us_death
    ),
    "escalation_score": Output(
        "escalation score (all actors)",
        True,
        lambda t, days: t["score_total"].to_numpy(dtype=float),
    ),
}

#: what escalation-sensitivity measures unless told otherwise
DEFAULT_OUTPUTS = (
    "attacks_per_month",
    "us_deaths",
    "p_rung5",
    "p_rung7",
    "p_war",
    "days_to_first_us_death",
    "escalation_score",
)


def parse_outputs(text: str | Sequence[str] | None, where: str = "--outputs") -> list[str]:
    """Output names from a comma-separated list (or a sequence), checked against
    :data:`OUTPUTS`: a one-line ``ConfigError`` names an unknown one and lists the others."""
    return parse_names(text, list(OUTPUTS), where, "output", list(DEFAULT_OUTPUTS))


def parse_names(
    text: str | Sequence[str] | None,
    known: Sequence[str],
    where: str,
    noun: str,
    default: Sequence[str],
) -> list[str]:
    """Names from a comma-separated list (or a sequence), each one of ``known``, in order and
    once each (``default`` when none is given): a one-line ``ConfigError`` names an unknown
    one (``noun``: what a name is) and lists the others."""
    if text is None:
        return list(default)
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    if not names:
        raise ConfigError(f"{where}: name at least one of: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise ConfigError(f"{where} {name}: no such {noun} (choose from: {', '.join(known)})")
    return list(dict.fromkeys(names))


def per_replicate(table: pd.DataFrame, days: int, names: Sequence[str]) -> pd.DataFrame:
    """One row per point and replicate (``point``, ``replicate``, then each output)."""
    columns = {"point": table["point"].to_numpy(), "replicate": table["replicate"].to_numpy()}
    columns.update({name: OUTPUTS[name].measure(table, days) for name in names})
    return pd.DataFrame(columns)


def per_point(values: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Each output's mean over the replicates of each point, one row per point in order."""
    return values.groupby("point", sort=True)[list(names)].mean()


def replicate_noise_share(values: pd.DataFrame, names: Sequence[str]) -> dict[str, float]:
    """For each output, the share of the variance of the points' means that the finite
    number of replicates alone would give (mean within-point variance / R, over the variance
    of the means): near 0, the points' differences are the parameters'; near 1 or above,
    noise. It treats the replicates of different points as independent draws; on common
    random numbers their noise is correlated, so it overstates the share. NaN where the
    means do not vary at all."""
    grouped = values.groupby("point")[list(names)]
    replicates = grouped.size().mean()
    within = grouped.var(ddof=1).mean() / replicates
    between = grouped.mean().var(ddof=1)
    return {
        name: float(within[name] / between[name]) if between[name] > 0 else float("nan")
        for name in names
    }
