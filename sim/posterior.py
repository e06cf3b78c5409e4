"""A calibration's posterior: the weighted sample of parameter points that
``escalation-calibrate`` writes (``posterior.parquet``), read back and drawn from.

Kept apart from the calibration command so that what reads a posterior (the forecast,
notebooks) does not load the command.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

#: the prefix of the observation model's parameters (docs/validation.md): columns of a
#: posterior, not settings of the model
OBSERVATION_PREFIX = "observation."
#: the summary a calibration writes beside its posterior (its fitted window among others)
SUMMARY_FILE = "calibration.json"

#: the posterior's file in a calibration's folder
POSTERIOR_FILE = "posterior.parquet"
#: columns of the posterior file that are not parameters
POSTERIOR_EXTRA = ("weight", "generation", "distance")


def load_posterior(folder: str | Path) -> pd.DataFrame:
    """The posterior of a calibration: a weighted sample of parameter points.

    Reads ``posterior.parquet`` in ``folder`` (a calibration's output folder) and returns
    its final generation: one column per free parameter, by dotted path, plus ``weight``
    (summing to 1); ``attrs["fitted_to"]`` is the last day of data it was fitted on (from
    the calibration's summary, when it is there). The observation model's parameters
    (``observation.*``, see docs/validation.md) are columns too; they are not settings of
    the model.

    Raises:
        FileNotFoundError: no posterior in ``folder``.
        ValueError: a file that is not a posterior (no ``weight``, weights not positive).
    """
    path = Path(folder) / POSTERIOR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no posterior here; run escalation-calibrate first")
    frame = pd.read_parquet(path)
    if "weight" not in frame.columns:
        raise ValueError(f"{path}: no weight column; not a posterior")
    if "generation" in frame.columns:
        frame = frame[frame["generation"] == frame["generation"].max()]
    weight = frame["weight"].to_numpy(dtype=float)
    if len(weight) == 0 or not np.all(np.isfinite(weight)) or np.any(weight < 0) \
            or weight.sum() <= 0:  # fmt: skip
        raise ValueError(f"{path}: weights must be finite, >= 0 and not all 0")
    paths = [c for c in frame.columns if c not in POSTERIOR_EXTRA]
    out = frame[paths].reset_index(drop=True).astype(float)
    out["weight"] = weight / weight.sum()
    summary = Path(folder) / SUMMARY_FILE
    if summary.is_file():  # the last day of data it was fitted on
        out.attrs["fitted_to"] = json.loads(summary.read_text()).get("fit_end")
    return out


def posterior_draws(
    frame: pd.DataFrame, n: int, seed: int, observation: bool = False
) -> dict[str, np.ndarray]:
    """``n`` parameter points drawn from a posterior (``load_posterior``) by weight, with
    replacement: {dotted path: (n,) values}, ready for ``Simulation(per_replicate=...)``.

    The observation model's parameters (``observation.*``) are left out unless
    ``observation`` is true: they are not settings of the model. The same ``seed`` gives
    the same draws.
    """
    if n < 1:
        raise ValueError(f"n = {n}: draw at least one point")
    weight = frame["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), size=n, replace=True, p=weight / weight.sum())
    return {
        path: frame[path].to_numpy(dtype=float)[rows]
        for path in frame.columns
        if path not in POSTERIOR_EXTRA and (observation or not path.startswith(OBSERVATION_PREFIX))
    }
