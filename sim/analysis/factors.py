"""Factors: the uncertain parameters of an analysis, each a numeric parameter of the
configuration with a range to sample.

A factor is named by its dotted path (``doctrine.us.decapitation_probability``) and has a
lower and an upper bound, optionally on a log scale. Factors come from a YAML file (a list
``parameters`` of ``{path, low, high, log, why}``, the format of ``configs/calibration/``
and ``configs/analysis/``) or from the command line (``PATH=LOW:HIGH``, or
``PATH=LOW:HIGH:log``). Every factor is checked against the configuration before anything
runs: the path must name a numeric parameter, the bounds must lie within the values the
parameter allows, and the lower bound must lie below the upper.

Samples are drawn in the unit cube (or in the factors' own scale, for SALib) and turned
into parameter values by :func:`to_values`: a log-scale factor is uniform in its logarithm,
and a whole-number parameter is rounded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from sim.config import (
    BaseConfig,
    ConfigError,
    allowed_range,
    config_dir,
    numeric_leaf,
    out_of_range,
)


@dataclass(frozen=True)
class Factor:
    """One uncertain parameter and the range it is sampled over.

    Attributes:
        path: the parameter's dotted configuration path.
        low, high: the bounds of the range (low < high).
        log: sample uniformly in log(value) rather than in the value.
        why: where the range comes from.
        whole: the parameter takes whole numbers (sampled values are rounded).
    """

    path: str
    low: float
    high: float
    log: bool = False
    why: str = ""
    whole: bool = False

    def scale_bounds(self) -> tuple[float, float]:
        """The bounds on the scale samples are drawn on (their logarithms if ``log``)."""
        if self.log:
            return math.log(self.low), math.log(self.high)
        return self.low, self.high


def analysis_file(name: str) -> Path:
    """The path of ``configs/<name>`` (``name`` such as ``analysis/deep_uncertainties.yaml``)."""
    return Path(config_dir()) / name


def read_factors(path: str | Path) -> list[Factor]:
    """The factors listed in a YAML file (unchecked: see :func:`check_factors`); a one-line
    ``ConfigError`` names the file and the entry that cannot be read."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--parameters {path}: no such file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"--parameters {path}: cannot be read as YAML ({first})") from None
    entries = data.get("parameters") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: parameters: a list of {{path, low, high, log, why}} is needed")
    factors = []
    for i, entry in enumerate(entries):
        where = f"{path}: parameters[{i}]"
        if isinstance(entry, dict) and str(entry.get("path", "")).startswith("observation."):
            continue  # the calibration's observation model (docs/validation.md): no setting
        try:
            factors.append(
                Factor(
                    str(entry["path"]),
                    float(entry["low"]),
                    float(entry["high"]),
                    bool(entry.get("log", False)),
                    str(entry.get("why", "")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(f"{where}: needs path, low and high (numbers), log, why") from None
    return factors


def parse_factor(spec: str) -> Factor:
    """A factor from ``PATH=LOW:HIGH`` or ``PATH=LOW:HIGH:log`` (unchecked)."""
    path, sep, bounds = spec.partition("=")
    parts = bounds.split(":")
    if not sep or not path or len(parts) not in (2, 3) or parts[2:] not in ([], ["log"]):
        raise ConfigError(f"--param {spec!r}: must be PATH=LOW:HIGH or PATH=LOW:HIGH:log")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--param {path}: bounds {bounds!r} must be numbers LOW:HIGH") from None
    return Factor(path.strip(), low, high, log=parts[2:] == ["log"], why="command line")


def check_factors(
    factors: Sequence[Factor], config: BaseConfig, where: str = "--param"
) -> list[Factor]:
    """The factors, checked against ``config`` (and marked ``whole`` where the parameter
    takes whole numbers), or a one-line ``ConfigError`` naming the first bad one: an
    unknown or non-numeric parameter, a bound outside the parameter's allowed values, a
    lower bound not below the upper, a log scale reaching 0, a parameter named twice."""
    if not factors:
        raise ConfigError(f"{where}: no parameters to vary")
    checked, seen = [], set()
    for factor in factors:
        name = f"{where} {factor.path}"
        if factor.path in seen:
            raise ConfigError(f"{name}: named twice")
        seen.add(factor.path)
        try:
            node, leaf, current = numeric_leaf(config, factor.path)
        except ConfigError as exc:
            raise ConfigError(f"{where} {exc}") from None
        meta = allowed_range(node, leaf)
        for side, value in (("low", factor.low), ("high", factor.high)):
            if out_of_range(value, meta):
                what = meta.get("what", "a number")
                raise ConfigError(f"{name}: {side} = {value:g}: must be {what}")
        if not factor.low < factor.high:
            raise ConfigError(f"{name}: low = {factor.low:g} must be below high = {factor.high:g}")
        if factor.log and factor.low <= 0:
            raise ConfigError(f"{name}: low = {factor.low:g}: a log scale needs low > 0")
        whole = isinstance(current, int)
        if whole and math.floor(factor.high) < math.ceil(factor.low):
            raise ConfigError(f"{name}: takes whole numbers, and none lies in the range")
        checked.append(Factor(factor.path, factor.low, factor.high, factor.log, factor.why, whole))
    return checked


def to_values(factors: Sequence[Factor], scaled: np.ndarray) -> pd.DataFrame:
    """Parameter values, one column per factor, from samples on the factors' scale
    (``scaled``: one row per point, the logarithm of the value for a log-scale factor)."""
    columns = {}
    for j, factor in enumerate(factors):
        values = np.exp(scaled[:, j]) if factor.log else scaled[:, j].astype(float)
        values = np.clip(values, factor.low, factor.high)  # exp(log(x)) may overshoot by 1 ulp
        if factor.whole:
            values = np.clip(np.round(values), math.ceil(factor.low), math.floor(factor.high))
            columns[factor.path] = values.astype(np.int64)
        else:
            columns[factor.path] = values
    return pd.DataFrame(columns)


def from_unit(factors: Sequence[Factor], unit: np.ndarray) -> np.ndarray:
    """Samples of the unit cube mapped onto the factors' scale."""
    lows = np.array([f.scale_bounds()[0] for f in factors])
    highs = np.array([f.scale_bounds()[1] for f in factors])
    return lows + unit * (highs - lows)


def latin_hypercube(factors: Sequence[Factor], n: int, seed: int) -> pd.DataFrame:
    """``n`` points of a Latin hypercube over the factors (seeded), as parameter values."""
    unit = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(seed)).random(n)
    return to_values(factors, from_unit(factors, unit))


def resolve_factors(
    parameters: str | Path | Sequence[Factor | str] | None, config: BaseConfig, default: str
) -> list[Factor]:
    """The checked factors named by ``parameters``: None (the file ``configs/<default>``),
    a YAML file, or a sequence of :class:`Factor` and ``PATH=LOW:HIGH[:log]`` strings."""
    if parameters is None or isinstance(parameters, str | Path):
        source = analysis_file(default) if parameters is None else Path(parameters)
        return check_factors(read_factors(source), config, str(source))
    factors = [p if isinstance(p, Factor) else parse_factor(str(p)) for p in parameters]
    return check_factors(factors, config, "--param")
