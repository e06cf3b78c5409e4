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

from sim.analysis.command import (
    INPUT_ERRORS,
    add_common_arguments,
    base_config,
    check_count,
    fail_on_bad_input,
    plan,
    results_folder,
    run_plan,
)
from sim.analysis.factors import (
    analysis_file,
    check_factors,
    latin_hypercube,
    parse_factor,
    read_factors,
)
from sim.config import ConfigError
from sim.files import atomic_write
from sim.io import provenance, write_json, write_parquet
from sim.outcomes import OUTCOMES
from sim.plots.analysis import feature_scores_figure, prim_figure, save_figure

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
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH[:log]",
        help="a parameter and its range (repeatable); replaces --parameters",
    )
    parser.add_argument(
        "--parameters",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"a YAML list of parameters and ranges (default configs/{DEFAULT_PARAMETERS})",
    )
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


def main(argv: list[str] | None = None) -> None:
    """``escalation-discover``: PRIM boxes and feature scores of chosen outcomes."""
    args = _parser().parse_intermixed_args(argv)
    try:
        check_count("--replicates", args.replicates)
        check_count("--points", args.points, least=2)
        if not 0 < args.min_coverage <= 1:
            raise ConfigError(f"--min-coverage = {args.min_coverage:g}: must be in (0, 1]")
        config = base_config(args.overrides, args.replicates)
        if args.param and args.parameters is not None:
            raise ConfigError("give --param or --parameters, not both")
        source = args.parameters or analysis_file(DEFAULT_PARAMETERS)
        factors = [parse_factor(s) for s in args.param] if args.param else read_factors(source)
        factors = check_factors(factors, config, "--param" if args.param else str(source))
        outcomes = parse_outcomes(args.outcomes)
        out = results_folder(args.out, "discovery")
        points = latin_hypercube(factors, args.points, config.seed)
        design_plan = plan(points, args.overrides, args.replicates, "sample")
    except INPUT_ERRORS as exc:
        fail_on_bad_input(PROG, exc)
    started = time.perf_counter()
    result = run_plan(design_plan, PROG, args.quiet)
    table = result.replicates
    x_cases = points.iloc[table["point"].to_numpy()].reset_index(drop=True)
    shares = pd.crosstab(table["point"], table["outcome"], normalize="index")
    shares = shares.reindex(columns=list(OUTCOMES), fill_value=0.0)
    boxes, missing = [], []
    for outcome in outcomes:
        y = (table["outcome"] == outcome).to_numpy()
        if y.all() or not y.any():
            missing.append(outcome)
            continue
        boxes.append(find_box(x_cases, y, outcome, args.min_coverage))
    scores = feature_scores(points, shares[outcomes], config.seed)
    meta = {
        "points": args.points,
        "replicates": args.replicates,
        "days": config.days,
        "overrides": args.overrides,
        "parameters": [vars(f) for f in factors],
        "outcomes": outcomes,
        "min_coverage": args.min_coverage,
        "share_of_replicates": {o: float((table["outcome"] == o).mean()) for o in outcomes},
        "no_box": missing,
        "seconds": round(time.perf_counter() - started, 2),
        **provenance(result.config),
    }
    points.insert(0, "point", np.arange(args.points))
    write_results(
        points.join(shares.add_prefix("share_"), on="point"), table, boxes, scores, meta, out
    )
    if not args.quiet:
        print(summary_text(boxes, meta))
        print(f"Results: {out}")


def write_results(
    points: pd.DataFrame,
    replicates: pd.DataFrame,
    boxes: Sequence[Box],
    scores: pd.DataFrame,
    meta: dict,
    out: Path,
) -> None:
    """Write the tables, then the figures and the report, each atomically."""
    write_parquet(replicates, out / "design_results.parquet")
    write_parquet(points, out / "discovery_points.parquet")
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
        title = f"PRIM box for {b.outcome.replace('_', ' ')}"
        fig = prim_figure(b.trajectory, b.chosen, b.limits, title)
        save_figure(fig, out / f"prim_{b.outcome}.png")
    if scores.shape[1]:
        save_figure(feature_scores_figure(scores), out / "feature_scores.png")
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
