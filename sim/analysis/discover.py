"""``escalation-discover``: scenario discovery, which regions of parameter space lead to war,
to a spiral, or to deterrence holding.

The parameters (``configs/analysis/assumptions.yaml`` by default) are sampled by a Latin
hypercube; every point runs the same replicates on common random numbers, all in one
parameter-batched design. Then, for each outcome of interest:

- PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999, as the EMA Workbench
  implements it) peels the parameter space, one replicate a case, towards a box where the
  outcome is frequent. Its *coverage* is the share of all the replicates with the outcome
  that fall inside the box, its *density* the share of the box's replicates that have it.
  The peeling trajectory trades one for the other; the box chosen is the densest with at
  least ``--min-coverage`` coverage.
- Extra-trees feature scores (the EMA Workbench's ``get_feature_scores_all``, with
  scikit-learn) rank the parameters by how much they explain of each point's share of
  the outcome.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.command import (
    add_common_arguments,
    add_parameter_arguments,
    base_config,
    check_count,
    parameters_of,
    plan,
    run_command,
    run_plan,
)
from sim.analysis.factors import Factor, latin_hypercube, resolve_factors
from sim.config import BaseConfig, ConfigError
from sim.design import DesignPlan
from sim.files import atomic_write
from sim.io import provenance, write_json, write_parquet
from sim.outcomes import OUTCOMES
from sim.plots.analysis import feature_scores_figure, prim_figure, save_figure
from sim.stops import command

PROG = "escalation-discover"
#: the parameters sampled unless told otherwise
DEFAULT_PARAMETERS = "analysis/assumptions.yaml"
#: the outcomes whose boxes are sought unless told otherwise
DEFAULT_OUTCOMES = ("war", "spiral", "deterrence_holds")
#: the least coverage of the box chosen on the peeling trajectory
MIN_COVERAGE = 0.5
#: PRIM's peeling step (the share of the box's cases each peel removes) and smallest box
#: (share of all cases): the EMA Workbench's defaults
PEEL_ALPHA = 0.05
MASS_MIN = 0.05


def _ema():
    """The EMA Workbench's PRIM and feature scoring (imported on use: it is heavy, and it
    warns about optional parallel back-ends this project does not use)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import feature_scoring, prim
    return prim, feature_scoring


@dataclass
class Box:
    """A PRIM box for one outcome.

    Attributes:
        outcome: the outcome of interest.
        trajectory: one row per box peeled: ``box`` (its number), ``coverage``,
            ``density``, ``mass`` (share of all cases inside), ``res_dim`` (parameters
            restricted).
        chosen: the row of ``trajectory`` chosen.
        limits: one row per parameter the chosen box restricts: ``parameter``, ``low``,
            ``high``, ``range_low``, ``range_high`` (the sampled range).
    """

    outcome: str
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame

    @property
    def stats(self) -> dict[str, float]:
        """Coverage, density, mass and restricted dimensions of the chosen box."""
        row = self.trajectory.iloc[self.chosen]
        return {k: float(row[k]) for k in ("coverage", "density", "mass", "res_dim")}


def find_box(
    x: pd.DataFrame,
    y: np.ndarray,
    outcome: str,
    min_coverage: float = MIN_COVERAGE,
    peel_alpha: float = PEEL_ALPHA,
    mass_min: float = MASS_MIN,
) -> Box:
    """The first PRIM box of the cases ``y`` (0/1, one per row of ``x``).

    Args:
        x: one row per case, one column per parameter.
        y: 1 where the case has the outcome of interest.
        outcome: its name.
        min_coverage: the box chosen is the densest with at least this coverage.
        peel_alpha, mass_min: PRIM's peeling step and smallest box.
    """
    prim, _ = _ema()
    y = np.asarray(y, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x.reset_index(drop=True), y, peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    trajectory.insert(0, "box", np.arange(len(trajectory)))
    eligible = trajectory[trajectory["coverage"] >= min_coverage]
    chosen = int(eligible["density"].idxmax()) if not eligible.empty else 0
    return Box(outcome, trajectory.reset_index(drop=True), chosen, _limits(box, chosen, x))


def _limits(box, chosen: int, x: pd.DataFrame) -> pd.DataFrame:
    lims = box.box_lims[chosen]
    rows = []
    for name in x.columns:
        low, high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        range_low, range_high = float(x[name].min()), float(x[name].max())
        if low > range_low or high < range_high:
            rows.append(
                {
                    "parameter": name,
                    "low": low,
                    "high": high,
                    "range_low": range_low,
                    "range_high": range_high,
                }
            )
    columns = ["parameter", "low", "high", "range_low", "range_high"]
    return pd.DataFrame(rows, columns=columns)


def feature_scores(x: pd.DataFrame, shares: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Extra-trees importance of each parameter (rows) for each outcome's share per point
    (columns); each column sums to 1. Outcomes that never vary are left out."""
    _, scoring = _ema()
    varied = {name: shares[name].to_numpy() for name in shares if shares[name].nunique() > 1}
    if not varied:
        return pd.DataFrame(index=x.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = scoring.get_feature_scores_all(x.reset_index(drop=True), varied, random_state=seed)
    return scores[list(varied)]


def parse_outcomes(text: str | None) -> list[str]:
    """The outcomes named in a comma-separated list (default war, spiral,
    deterrence_holds), each one of :data:`sim.outcomes.OUTCOMES`."""
    if text is None:
        return list(DEFAULT_OUTCOMES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError(f"--outcomes: name at least one of: {', '.join(OUTCOMES)}")
    for name in names:
        if name not in OUTCOMES:
            raise ConfigError(
                f"--outcomes {name}: no such outcome (choose from: {', '.join(OUTCOMES)})"
            )
    return list(dict.fromkeys(names))


# --- the command ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Scenario discovery: PRIM boxes of parameter space where war, a spiral "
        "or deterrence holding is frequent, and extra-trees feature scores.",
    )
    add_common_arguments(parser, replicates=20)
    parser.add_argument(
        "--points", type=int, default=200, help="Latin hypercube points (default 200)"
    )
    add_parameter_arguments(parser, f"configs/{DEFAULT_PARAMETERS}")
    parser.add_argument(
        "--outcomes",
        default=None,
        metavar="A,B",
        help=f"outcomes of interest (default {','.join(DEFAULT_OUTCOMES)}; "
        f"any of {', '.join(OUTCOMES)})",
    )
    parser.add_argument(
        "--min-coverage",
        type=float,
        default=MIN_COVERAGE,
        help=f"the chosen box is the densest with at least this coverage (default {MIN_COVERAGE})",
    )
    return parser


@dataclass
class DiscoveryResult:
    """A scenario discovery.

    Attributes:
        points: one row per point: ``point``, the parameter values, and the share of its
            replicates in each outcome (``share_<outcome>``).
        boxes: one PRIM box per outcome of interest that some but not all replicates reach.
        scores: extra-trees feature scores, one row per parameter, one column per outcome.
        replicates: one row per point and replicate (``ensemble.parquet``'s columns).
        meta: what was run (sizes, outcomes, seconds) and its provenance.
    """

    points: pd.DataFrame
    boxes: list[Box]
    scores: pd.DataFrame
    replicates: pd.DataFrame
    meta: dict

    def box(self, outcome: str) -> Box:
        """The box of ``outcome``; KeyError if it has none."""
        for b in self.boxes:
            if b.outcome == outcome:
                return b
        raise KeyError(f"{outcome}: no box (reached by none or all of the replicates)")

    def plot_box(self, outcome: str) -> Figure:
        """The peeling trajectory and the box of ``outcome`` (as ``prim_<outcome>.png``)."""
        b = self.box(outcome)
        return prim_figure(b.trajectory, b.chosen, b.limits, f"PRIM box for {_words(outcome)}")

    def plot_scores(self) -> Figure:
        """The feature scores (as ``feature_scores.png``)."""
        return feature_scores_figure(self.scores)


def _words(outcome: str) -> str:
    return outcome.replace("_", " ")


@dataclass
class _Prepared:
    config: BaseConfig
    factors: list[Factor]
    outcomes: list[str]
    min_coverage: float
    points: pd.DataFrame
    plan: DesignPlan
    overrides: list[str]


def prepare(
    overrides: Sequence[str],
    parameters: str | Path | Sequence[Factor | str] | None,
    points: int,
    replicates: int,
    outcomes: str | None,
    min_coverage: float,
) -> _Prepared:
    """Check everything and plan the design; a one-line ``ConfigError`` otherwise."""
    check_count("--replicates", replicates)
    check_count("--points", points, least=2)
    if not 0 < min_coverage <= 1:
        raise ConfigError(f"--min-coverage = {min_coverage:g}: must be in (0, 1]")
    config = base_config(overrides, replicates)
    factors = resolve_factors(parameters, config, DEFAULT_PARAMETERS)
    names = parse_outcomes(outcomes)
    sampled = latin_hypercube(factors, points, config.seed)
    design_plan = plan(sampled, overrides, replicates, "sample")
    return _Prepared(config, factors, names, min_coverage, sampled, design_plan, list(overrides))


def _execute(prepared: _Prepared, quiet: bool) -> DiscoveryResult:
    started = time.perf_counter()
    result = run_plan(prepared.plan, PROG, quiet)
    table, points, outcomes = result.replicates, prepared.points, prepared.outcomes
    x_cases = points.iloc[table["point"].to_numpy()].reset_index(drop=True)
    shares = pd.crosstab(table["point"], table["outcome"], normalize="index")
    shares = shares.reindex(columns=list(OUTCOMES), fill_value=0.0)
    boxes, missing = [], []
    for outcome in outcomes:
        y = (table["outcome"] == outcome).to_numpy()
        if y.all() or not y.any():
            missing.append(outcome)
            continue
        boxes.append(find_box(x_cases, y, outcome, prepared.min_coverage))
    scores = feature_scores(points, shares[outcomes], prepared.config.seed)
    meta = {
        "points": len(points),
        "replicates": prepared.plan.replicates,
        "days": prepared.config.days,
        "overrides": prepared.overrides,
        "parameters": [vars(f) for f in prepared.factors],
        "outcomes": outcomes,
        "min_coverage": prepared.min_coverage,
        "share_of_replicates": {o: float((table["outcome"] == o).mean()) for o in outcomes},
        "no_box": missing,
        "seconds": round(time.perf_counter() - started, 2),
        **provenance(result.config),
    }
    table_points = points.copy()
    table_points.insert(0, "point", np.arange(len(points)))
    table_points = table_points.join(shares.add_prefix("share_"), on="point")
    return DiscoveryResult(table_points, boxes, scores, table, meta)


def run_discovery(
    *overrides: str,
    parameters: str | Path | Sequence[Factor | str] | None = None,
    points: int = 200,
    replicates: int = 20,
    outcomes: str | None = None,
    min_coverage: float = MIN_COVERAGE,
    progress: bool = False,
) -> DiscoveryResult:
    """Run a scenario discovery, as ``escalation-discover`` does, and return it (nothing
    is written).

    Args:
        overrides: settings for every point, as on the command line.
        parameters: None (``configs/analysis/assumptions.yaml``), a YAML file, or a
            sequence of ``PATH=LOW:HIGH[:log]`` strings or factors.
        points: Latin hypercube points (seeded by the configuration's seed).
        replicates: replicates per point.
        outcomes: comma-separated outcomes of interest (default war, spiral,
            deterrence_holds).
        min_coverage: the box chosen is the densest with at least this coverage.
        progress: show a progress bar.

    Raises:
        ConfigError: one line naming the bad field, before anything runs.
    """
    prepared = prepare(overrides, parameters, points, replicates, outcomes, min_coverage)
    return _execute(prepared, quiet=not progress)


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """``escalation-discover``: PRIM boxes and feature scores of chosen outcomes."""
    args = _parser().parse_intermixed_args(argv)
    run_command(
        PROG,
        args,
        "discovery",
        lambda: prepare(
            args.overrides,
            parameters_of(args),
            args.points,
            args.replicates,
            args.outcomes,
            args.min_coverage,
        ),
        _execute,
        write_results,
        lambda result: summary_text(result.boxes, result.meta),
    )


def write_results(result: DiscoveryResult, out: Path) -> None:
    """Write the tables, then the figures and the report, each atomically."""
    boxes, scores, meta = result.boxes, result.scores, result.meta
    write_parquet(result.replicates, out / "design_results.parquet")
    write_parquet(result.points, out / "discovery_points.parquet")
    trajectories = pd.concat(
        [
            b.trajectory.assign(outcome=b.outcome, chosen=b.trajectory["box"] == b.chosen)
            for b in boxes
        ]
        or [pd.DataFrame()],
        ignore_index=True,
    )
    limits = pd.concat(
        [b.limits.assign(outcome=b.outcome, **b.stats) for b in boxes] or [pd.DataFrame()],
        ignore_index=True,
    )
    atomic_write(out / "prim_trajectories.csv", lambda tmp: trajectories.to_csv(tmp, index=False))
    atomic_write(out / "prim_boxes.csv", lambda tmp: limits.to_csv(tmp, index=False))
    atomic_write(
        out / "feature_scores.csv", lambda tmp: scores.to_csv(tmp, index_label="parameter")
    )
    write_json({**meta, "boxes": {b.outcome: b.stats for b in boxes}}, out / "discovery.json")
    for b in boxes:
        save_figure(result.plot_box(b.outcome), out / f"prim_{b.outcome}.png")
    if scores.shape[1]:
        save_figure(result.plot_scores(), out / "feature_scores.png")
    atomic_write(out / "discovery.md", lambda tmp: tmp.write_text(report(boxes, scores, meta)))


def summary_text(boxes: Sequence[Box], meta: dict) -> str:
    """One line per outcome: its box's coverage, density and limits."""
    lines = [
        f"Scenario discovery: {meta['points']} points x {meta['replicates']} replicates x "
        f"{meta['days']} days in {meta['seconds']:.1f} s"
    ]
    for b in boxes:
        s = b.stats
        limits = "; ".join(f"{r.parameter} {r.low:.3g}-{r.high:.3g}" for r in b.limits.itertuples())
        lines.append(
            f"  {b.outcome} (in {meta['share_of_replicates'][b.outcome]:.1%} of replicates): "
            f"coverage {s['coverage']:.0%}, density {s['density']:.0%}: {limits or 'no limits'}"
        )
    for outcome in meta["no_box"]:
        lines.append(f"  {outcome}: in none or all of the replicates, no box to find")
    return "\n".join(lines)


def report(boxes: Sequence[Box], scores: pd.DataFrame, meta: dict) -> str:
    """The markdown report: what was run, each outcome's box, the feature scores."""
    lines = [
        "# Scenario discovery",
        "",
        f"{meta['points']} points of a Latin hypercube over {len(meta['parameters'])} "
        f"parameters, each run with {meta['replicates']} replicates x {meta['days']} days on "
        f"common random numbers (seed {meta['seed']}), in {meta['seconds']:.1f} s. Settings "
        f"for every point: {' '.join(meta['overrides']) or 'the defaults'}.",
        "",
        "PRIM (EMA Workbench) treats each replicate as a case. *Coverage*: the share of the "
        "replicates with the outcome that fall in the box; *density*: the share of the box's "
        "replicates with the outcome (compare it with the share over the whole sample). The "
        f"box shown is the densest with coverage >= {meta['min_coverage']:.0%}.",
        "",
    ]
    for b in boxes:
        s = b.stats
        base = meta["share_of_replicates"][b.outcome]
        lines += [
            f"## {b.outcome.replace('_', ' ')}",
            "",
            f"In {base:.1%} of all replicates. The box: coverage {s['coverage']:.0%}, density "
            f"{s['density']:.0%}, holding {s['mass']:.0%} of the replicates, "
            f"{int(s['res_dim'])} parameters restricted.",
            "",
            "| parameter | box low | box high | sampled range |",
            "|---|---|---|---|",
            *(
                f"| `{r.parameter}` | {r.low:.4g} | {r.high:.4g} | {r.range_low:.4g} to "
                f"{r.range_high:.4g} |"
                for r in b.limits.itertuples()
            ),
            "",
        ]
    for outcome in meta["no_box"]:
        lines += [
            f"## {outcome.replace('_', ' ')}",
            "",
            "In none or all of the replicates: no box.",
            "",
        ]
    if scores.shape[1]:
        lines += [
            "## Feature scores (extra trees)",
            "",
            "Importance of each parameter for each point's share of the outcome (each column "
            "sums to 1).",
            "",
            "| parameter | " + " | ".join(scores.columns) + " |",
            "|---|" + "---|" * scores.shape[1],
            *(
                f"| `{name}` | " + " | ".join(f"{v:.3f}" for v in row) + " |"
                for name, row in scores.iterrows()
            ),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
