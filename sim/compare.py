"""Compare configurations on common random numbers.

Every variant runs the same replicate numbers of the same seed. Because each random
draw is addressed by (replicate, day, decision stream, slot), two variants share every
draw their rules do not change, so the paired difference of a metric, replicate by
replicate, shows the effect of the rule, not the noise of different draws.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import BaseConfig, ConfigError, compose
from sim.engine import RunResult, Simulation
from sim.errors import COMPOSE_ERRORS, OneLineArgumentParser, fail, one_line
from sim.folders import claim_or_fail
from sim.io import atomic_write, write_parquet
from sim.memory import InsufficientMemoryError, check_memory
from sim.plots import ladder_comparison_figure
from sim.stops import command

PROG = "escalation-compare"

#: per-replicate metrics compared by default: name -> how to get it from the replicate table
METRICS = {
    "attacks": lambda t: t["attacks"],
    "killed_us": lambda t: t["killed_us"],
    "wounded_us": lambda t: t["wounded_us"],
    "us_strikes": lambda t: t["us_strikes"],
    "decapitations": lambda t: t["decapitations"],
    "iran_direct_strikes": lambda t: t["iran_direct_strikes"],
    "max_rung": lambda t: t["max_rung"],
    "p_rung_5_or_more": lambda t: (t["max_rung"] >= 5).astype(float),
    "p_rung_7_or_more": lambda t: (t["max_rung"] >= 7).astype(float),
    "p_war": lambda t: (t["outcome"] == "war").astype(float),
    "p_withdrawal": lambda t: (t["outcome"] == "withdrawal").astype(float),
    "score_militia": lambda t: t["score_militia"],
    "score_us": lambda t: t["score_us"],
    "score_total": lambda t: t["score_total"],
}


@dataclass
class Comparison:
    """Runs of several variants on the same draws, and their paired differences.

    Attributes:
        table: one row per (metric, variant): the mean over replicates and, for every
            variant but the first (the baseline), the mean paired difference from the
            baseline with its confidence interval.
        results: each variant's full run.
        rungs: each variant's daily rung, an array (days, replicates).
        attacks: each variant's daily militia attacks, an array (days, replicates).
    """

    table: pd.DataFrame
    results: dict[str, RunResult]
    rungs: dict[str, np.ndarray] = field(repr=False)
    attacks: dict[str, np.ndarray] = field(repr=False)
    confidence: float = 0.95

    def __repr__(self) -> str:
        return f"Comparison of {len(self.results)} variants\n{self.table.to_string(index=False)}"

    def figure(self):
        """The escalation ladder over time under each variant (a matplotlib Figure)."""
        return ladder_comparison_figure(self)


def paired_difference(
    values: np.ndarray, baseline: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``values - baseline`` and its confidence interval (paired by replicate): for
    shares (every value 0 or 1) Newcombe's interval, which stays within [-1, 1]; otherwise
    the t interval."""
    values, baseline = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    d = values - baseline
    mean = float(d.mean())
    if len(d) < 2 or np.all(d == d[0]):  # every replicate moved alike: nothing to spread
        return mean, mean, mean
    if np.isin(values, (0.0, 1.0)).all() and np.isin(baseline, (0.0, 1.0)).all():
        return paired_share_difference(values.astype(bool), baseline.astype(bool), confidence)
    half = stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return mean, mean - half, mean + half


def paired_share_difference(
    variant: np.ndarray, baseline: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two shares measured on the same replicates, with the hybrid score
    interval for paired proportions (Newcombe 1998, "Improved confidence intervals for the
    difference between binomial proportions based on paired data", Statistics in Medicine
    17, method 10): each share's Wilson interval, combined with the pairs' correlation."""
    n = len(variant)
    both = float(np.count_nonzero(variant & baseline))
    only_variant = float(np.count_nonzero(variant & ~baseline))
    only_baseline = float(np.count_nonzero(~variant & baseline))
    neither = n - both - only_variant - only_baseline
    z = stats.norm.ppf(0.5 + confidence / 2)
    p1, p2 = (both + only_variant) / n, (both + only_baseline) / n
    low1, high1 = wilson_interval(p1, n, z)
    low2, high2 = wilson_interval(p2, n, z)
    margins = (both + only_variant) * (only_baseline + neither)
    margins *= (both + only_baseline) * (only_variant + neither)
    phi = (both * neither - only_variant * only_baseline) / np.sqrt(margins) if margins else 0.0
    diff = p1 - p2
    below = (p1 - low1) ** 2 - 2 * phi * (p1 - low1) * (high2 - p2) + (high2 - p2) ** 2
    above = (high1 - p1) ** 2 - 2 * phi * (high1 - p1) * (p2 - low2) + (p2 - low2) ** 2
    return float(diff), float(diff - np.sqrt(below)), float(diff + np.sqrt(above))


def wilson_interval(share: float, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval of a share of ``n`` at the normal quantile ``z``."""
    scale = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / scale
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / scale
    return float(centre - half), float(centre + half)


def _run(config: BaseConfig) -> tuple[RunResult, np.ndarray, np.ndarray]:
    sim = Simulation(config)
    shape = (config.days, len(sim.replicate_ids))
    rungs, attacks = np.empty(shape, dtype=np.int8), np.empty(shape, dtype=np.int16)
    while not sim.done:
        sim.step()
        rungs[sim.day - 1] = sim.state.rung_today
        attacks[sim.day - 1] = sim.state.attacks_today.sum(axis=1)
    return sim.result(), rungs, attacks


def compare_configs(configs: Mapping[str, BaseConfig], confidence: float = 0.95) -> Comparison:
    """Run already-composed configurations (same seed, replicates and days) and compare."""
    shapes = {(c.seed, c.replicates, c.days, c.scenario.start_date) for c in configs.values()}
    if len(shapes) != 1:
        raise ConfigError(
            "compare: every variant needs the same seed, replicates, days and start date "
            "(common random numbers)"
        )
    results, rungs, attacks = {}, {}, {}
    for name, config in configs.items():
        results[name], rungs[name], attacks[name] = _run(config)
    names = list(results)
    base = results[names[0]].replicates
    rows = []
    for metric, get in METRICS.items():
        base_values = get(base).to_numpy(dtype=float)
        for name in names:
            values = get(results[name].replicates).to_numpy(dtype=float)
            row = {"metric": metric, "variant": name, "mean": float(values.mean())}
            if name != names[0]:
                diff, low, high = paired_difference(values, base_values, confidence)
                row |= {"difference": diff, "ci_low": low, "ci_high": high}
            rows.append(row)
    table = pd.DataFrame(
        rows, columns=["metric", "variant", "mean", "difference", "ci_low", "ci_high"]
    )
    return Comparison(table, results, rungs, attacks, confidence)


def compare(
    variants: Mapping[str, Sequence[str]] | Sequence[str],
    common: Sequence[str] = (),
    replicates: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Compare configurations named as on the command line, on the same random draws.

    Args:
        variants: ``{"label": ["doctrine/us=red_line", ...], ...}``, or a list of single
            override strings used as their own labels. The first is the baseline.
        common: overrides applied to every variant (e.g. ``["scenario=dec2019_crisis"]``).
        replicates: replicates per variant.
        seed: run seed shared by all variants.
        confidence: level of the confidence intervals.

    Example:
        ``compare(["doctrine/us=red_line", "doctrine/us=syria_only"], replicates=500)``
    """
    if not isinstance(variants, Mapping):
        variants = {v: v.split() for v in variants}
    if len(variants) < 2:
        raise ConfigError("compare: at least two variants are needed")
    run_settings = [f"replicates={replicates}", f"seed={seed}"]
    configs = {
        name: compose(*common, *overrides, *run_settings) for name, overrides in variants.items()
    }
    return compare_configs(configs, confidence)


# --- the escalation-compare command ---------------------------------------------------------


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """``escalation-compare``: compare variants on common random numbers, print and save."""
    parser = OneLineArgumentParser(
        prog=PROG,
        description="Run two or more configurations on the same random draws and report each "
        "metric's paired difference from the first, with a confidence interval.",
    )
    parser.add_argument(
        "variants",
        nargs="+",
        metavar="VARIANT",
        help='overrides of one variant, quoted: "doctrine/us=red_line days=200"',
    )
    parser.add_argument(
        "--common",
        nargs="*",
        default=[],
        metavar="OVERRIDE",
        help="overrides applied to every variant (e.g. scenario=dec2019_crisis)",
    )
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for compare.csv, compare.png and each variant's table",
    )
    args = parser.parse_args(argv)
    if args.replicates < 2:
        parser.error("--replicates: must be at least 2")
    if not 0.5 <= args.confidence < 1.0:
        parser.error("--confidence: must be in [0.5, 1)")
    if len(args.variants) < 2:
        fail(PROG, "compare: at least two variants are needed")
    run_settings = [f"replicates={args.replicates}", f"seed={args.seed}"]
    try:
        configs = {v: compose(*args.common, *v.split(), *run_settings) for v in args.variants}
    except ConfigError as exc:
        fail(PROG, str(exc))
    except COMPOSE_ERRORS as exc:
        fail(PROG, one_line(exc))
    first = next(iter(configs.values()))
    try:  # every variant's results are kept until the comparison is drawn
        check_memory(len(configs) * args.replicates, first.days,
                     f"{len(configs)} variants x --replicates {args.replicates} x "
                     f"{first.days} days", events="none")  # fmt: skip
    except InsufficientMemoryError as exc:
        fail(PROG, str(exc))
    claim = claim_or_fail(PROG, args.out, "--out") if args.out is not None else None
    with claim or contextlib.nullcontext():  # a failed comparison leaves no folder behind
        try:
            comparison = compare_configs(configs, args.confidence)
        except ConfigError as exc:
            fail(PROG, str(exc))
        pd.set_option("display.width", 160)
        print(comparison)
        if claim is not None:
            write_comparison(comparison, claim.folder)
            claim.keep()
            print(f"Written: {claim.folder}")


def write_comparison(comparison: Comparison, out: Path) -> None:
    """compare.csv, each variant's replicate table and compare.png into ``out``."""
    atomic_write(out / "compare.csv", lambda tmp: comparison.table.to_csv(tmp, index=False))
    for i, (name, result) in enumerate(comparison.results.items()):
        table = result.replicates.assign(variant=name)
        write_parquet(table, out / f"variant_{i}.parquet")
    fig = comparison.figure()
    atomic_write(out / "compare.png", lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
