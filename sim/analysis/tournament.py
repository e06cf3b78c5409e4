"""``escalation-tournament``: every US doctrine against every Iranian doctrine, across
sampled worlds of deep uncertainty.

A world is one draw of the deep uncertainties (militia and Iranian parameters that no
doctrine sets, ``configs/analysis/deep_uncertainties.yaml`` by default), sampled by a Latin
hypercube. Every (US doctrine, Iranian doctrine, world) triple is one point of a
parameter-batched design, run with the same replicates on common random numbers; a point's
outcome is the mean over its replicates.

From the US side, the Iranian doctrine is part of the world it faces: a *US world* is one
(sampled world, Iranian doctrine) pair. Each US doctrine is scored over the US worlds by

- its expected outcome: the mean over the worlds;
- its worst-decile outcome: the mean over the tenth of the worlds where it does worst;
- its regret: in each world, how much worse it does than the best US doctrine in that
  world (0 for the best), summarised by the largest and the mean regret;
- its satisficing robustness: the share of the worlds where mean US deaths and P(war)
  both stay at or under the user's thresholds.

Doctrines are ranked by robustness, then by their largest regret in US deaths.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.command import (
    QUIET_RUNS,
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
from sim.analysis.outputs import OUTPUTS, parse_names, parse_outputs, per_point, per_replicate
from sim.config import BaseConfig, ConfigError, compose, config_dir, parameter_at
from sim.design import DesignPlan
from sim.files import atomic_write
from sim.io import provenance, write_json, write_parquet
from sim.plots.analysis import save_figure, tournament_figure
from sim.stops import command

PROG = "escalation-tournament"
#: the deep uncertainties sampled unless told otherwise
DEFAULT_UNCERTAINTIES = "analysis/deep_uncertainties.yaml"
#: what the tournament reports of each doctrine unless told otherwise
DEFAULT_OUTPUTS = ("us_deaths", "p_war", "p_rung5", "attacks_per_month", "escalation_score")
#: the two outputs the robustness thresholds bound
THRESHOLD_OUTPUTS = ("us_deaths", "p_war")
#: the share of worlds the worst-decile outcome averages
WORST_SHARE = 0.1


def doctrine_options(actor: str) -> list[str]:
    """The options of ``doctrine/<actor>`` (configs/doctrine/<actor>/), sorted."""
    return sorted(p.stem for p in (Path(config_dir()) / "doctrine" / actor).glob("*.yaml"))


def parse_doctrines(text: str | Sequence[str] | None, actor: str, flag: str) -> list[str]:
    """The doctrines named in a comma-separated list or a sequence (default: all), checked."""
    known = doctrine_options(actor)
    return parse_names(text, known, flag, "doctrine", known)


def tournament_design(us: Sequence[str], iran: Sequence[str], worlds: pd.DataFrame) -> pd.DataFrame:
    """One row per (world, US doctrine, Iranian doctrine): ``doctrine/us``,
    ``doctrine/iran`` and the world's parameter values (worlds vary slowest)."""
    rows = [
        {"doctrine/us": u, "doctrine/iran": i, **world}
        for world in worlds.to_dict("records")
        for u in us
        for i in iran
    ]
    return pd.DataFrame(rows)


def check_uncertainties_free(
    factors: Sequence[Factor], us: Sequence[str], iran: Sequence[str], overrides: Sequence[str]
) -> None:
    """A ConfigError if a sampled parameter is one the doctrines compared set differently:
    sampling it would override what distinguishes them."""
    values: dict[str, dict[str, float]] = {f.path: {} for f in factors}
    for u in us:
        for i in iran:  # composed as the design composes them (the second time is cached)
            config = compose(*overrides, f"doctrine/us={u}", f"doctrine/iran={i}")
            for factor in factors:
                values[factor.path][f"{u} with {i}"] = parameter_at(config, factor.path)[2]
    for path, by_doctrine in values.items():
        if len(set(by_doctrine.values())) > 1:
            shown = ", ".join(f"{v:g}" for v in sorted(set(by_doctrine.values())))
            raise ConfigError(
                f"{path}: the doctrines compared set it to different values ({shown}); sampling it "
                "would override them (sample parameters no doctrine sets)"
            )


def score(
    points: pd.DataFrame,
    outputs: Sequence[str],
    thresholds: dict[str, float],
    worst_share: float = WORST_SHARE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the tournament from each point's outcomes.

    Args:
        points: one row per point: ``us``, ``iran``, ``world`` and each output's mean.
        outputs: the outputs to score (each in :data:`sim.analysis.outputs.OUTPUTS`, whose
            ``lower_is_better`` sets the direction of regret and of the worst decile).
        thresholds: the largest acceptable value of each output the robustness bounds.
        worst_share: the share of worlds the worst-decile outcome averages.

    Returns:
        ``pairs``: one row per (US, Iranian) doctrine pair, over the sampled worlds:
        ``mean_<output>``, ``worst_<output>`` and ``robustness``; ``ranking``: one row per US
        doctrine over the US worlds (sampled world x Iranian doctrine), best first:
        ``rank``, ``us``, ``robustness``, then per output ``mean_``, ``worst_``,
        ``max_regret_`` and ``mean_regret_``.
    """
    points = points.copy()
    within = np.ones(len(points), dtype=bool)
    for name, limit in thresholds.items():
        within &= points[name].to_numpy() <= limit
    points["within"] = within
    # regret: in each US world, the distance to the best US doctrine there
    for name in outputs:
        best = points.groupby(["world", "iran"])[name].transform(
            "min" if OUTPUTS[name].lower_is_better else "max"
        )
        points[f"regret_{name}"] = (points[name] - best).abs()
    pairs = _summaries(points, ["us", "iran"], outputs, worst_share, regret=False)
    ranking = _summaries(points, ["us"], outputs, worst_share, regret=True)
    first = THRESHOLD_OUTPUTS[0] if THRESHOLD_OUTPUTS[0] in outputs else outputs[0]
    ranking = ranking.sort_values(
        ["robustness", f"max_regret_{first}", f"mean_{first}"],
        ascending=[False, True, OUTPUTS[first].lower_is_better],
        kind="stable",
    ).reset_index(drop=True)
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    return pairs, ranking


def _summaries(
    points: pd.DataFrame, keys: list[str], outputs: Sequence[str], worst_share: float, regret: bool
) -> pd.DataFrame:
    rows = []
    for key, group in points.groupby(keys, sort=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row["worlds"] = len(group)
        row["robustness"] = float(group["within"].mean())
        for name in outputs:
            values = group[name].to_numpy(dtype=float)
            row[f"mean_{name}"] = float(values.mean())
            row[f"worst_{name}"] = worst_mean(values, OUTPUTS[name].lower_is_better, worst_share)
            if regret:
                row[f"max_regret_{name}"] = float(group[f"regret_{name}"].max())
                row[f"mean_regret_{name}"] = float(group[f"regret_{name}"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def worst_mean(values: np.ndarray, lower_is_better: bool, share: float = WORST_SHARE) -> float:
    """The mean of the worst ``share`` of ``values`` (at least one): the largest if lower is
    better, the smallest otherwise."""
    count = max(1, math.ceil(share * len(values)))
    ordered = np.sort(values)
    return float((ordered[-count:] if lower_is_better else ordered[:count]).mean())


# --- the command ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Every US doctrine against every Iranian doctrine across sampled worlds "
        "of deep uncertainty (a Latin hypercube): expected and worst-decile outcomes, "
        "regret and satisficing robustness, ranked.",
    )
    add_common_arguments(parser, replicates=20)
    parser.add_argument("--us", default=None, metavar="A,B", help="US doctrines (default all)")
    parser.add_argument(
        "--iran", default=None, metavar="A,B", help="Iranian doctrines (default all)"
    )
    parser.add_argument("--worlds", type=int, default=100, help="sampled worlds (default 100)")
    add_parameter_arguments(parser, f"the deep uncertainties of configs/{DEFAULT_UNCERTAINTIES}")
    parser.add_argument(
        "--outputs",
        default=None,
        metavar="A,B",
        help=f"outputs to score (default {','.join(DEFAULT_OUTPUTS)}; us_deaths and p_war "
        "are always scored)",
    )
    parser.add_argument(
        "--max-us-deaths",
        type=float,
        default=3.0,
        help="robustness threshold: mean US deaths per replicate in a world (default 3)",
    )
    parser.add_argument(
        "--max-p-war",
        type=float,
        default=0.05,
        help="robustness threshold: P(war) in a world (default 0.05)",
    )
    return parser


@dataclass
class TournamentResult:
    """A doctrine tournament.

    Attributes:
        points: one row per point: ``us``, ``iran``, ``world`` and each output's mean.
        worlds: one row per sampled world: ``world`` and the deep uncertainties' values.
        pairs: one row per (US, Iranian) doctrine pair (see :func:`score`).
        ranking: one row per US doctrine, best first (see :func:`score`).
        replicates: one row per point and replicate (``ensemble.parquet``'s columns).
        meta: what was run (doctrines, sizes, thresholds, seconds) and its provenance.
    """

    points: pd.DataFrame
    worlds: pd.DataFrame
    pairs: pd.DataFrame
    ranking: pd.DataFrame
    replicates: pd.DataFrame
    meta: dict

    def plot(self) -> Figure:
        """The pairs' heatmaps and the doctrines' robustness (as ``tournament.png``)."""
        labels = {"thresholds": _thresholds_text(self.meta["thresholds"])}
        return tournament_figure(self.pairs, self.ranking, labels)


@dataclass
class _Prepared:
    config: BaseConfig
    us: list[str]
    iran: list[str]
    factors: list[Factor]
    outputs: list[str]
    thresholds: dict[str, float]
    worlds: pd.DataFrame
    design: pd.DataFrame
    plan: DesignPlan
    overrides: list[str]


def prepare(
    overrides: Sequence[str],
    us: str | Sequence[str] | None,
    iran: str | Sequence[str] | None,
    parameters: str | Path | Sequence[Factor | str] | None,
    worlds: int,
    replicates: int,
    outputs: str | Sequence[str] | None,
    max_us_deaths: float,
    max_p_war: float,
) -> _Prepared:
    """Check everything and plan the design; a one-line ``ConfigError`` otherwise."""
    check_count("--replicates", replicates)
    check_count("--worlds", worlds)
    for flag, value in (("--max-us-deaths", max_us_deaths), ("--max-p-war", max_p_war)):
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{flag} = {value:g}: must be a number >= 0")
    if max_p_war > 1:
        raise ConfigError(f"--max-p-war = {max_p_war:g}: must be a probability in [0, 1]")
    config = base_config(overrides, replicates)
    us = parse_doctrines(us, "us", "--us")
    iran = parse_doctrines(iran, "iran", "--iran")
    factors = resolve_factors(parameters, config, DEFAULT_UNCERTAINTIES)
    names = parse_outputs(outputs if outputs is not None else DEFAULT_OUTPUTS)
    names = [*THRESHOLD_OUTPUTS, *(n for n in names if n not in THRESHOLD_OUTPUTS)]
    common = (*overrides, f"replicates={replicates}", *QUIET_RUNS)
    check_uncertainties_free(factors, us, iran, common)
    sampled = latin_hypercube(factors, worlds, config.seed)
    design = tournament_design(us, iran, sampled)
    design_plan = plan(design, overrides, replicates, "tournament")
    sampled.insert(0, "world", np.arange(worlds))
    thresholds = {"us_deaths": max_us_deaths, "p_war": max_p_war}
    return _Prepared(
        config, us, iran, factors, names, thresholds, sampled, design, design_plan, list(overrides)
    )


def _execute(prepared: _Prepared, quiet: bool) -> TournamentResult:
    started = time.perf_counter()
    result = run_plan(prepared.plan, PROG, quiet)
    names, design = prepared.outputs, prepared.design
    means = per_point(per_replicate(result.replicates, prepared.config.days, names), names)
    worlds = len(prepared.worlds)
    points = pd.DataFrame(
        {
            "us": design["doctrine/us"],
            "iran": design["doctrine/iran"],
            "world": np.repeat(np.arange(worlds), len(prepared.us) * len(prepared.iran)),
        }
    ).join(means.reset_index(drop=True))
    pairs, ranking = score(points, names, prepared.thresholds)
    meta = {
        "us_doctrines": prepared.us,
        "iran_doctrines": prepared.iran,
        "worlds": worlds,
        "replicates": prepared.plan.replicates,
        "days": prepared.config.days,
        "points": len(design),
        "overrides": prepared.overrides,
        "parameters": [vars(f) for f in prepared.factors],
        "outputs": names,
        "thresholds": prepared.thresholds,
        "seconds": round(time.perf_counter() - started, 2),
        **provenance(result.config),
    }
    return TournamentResult(points, prepared.worlds, pairs, ranking, result.replicates, meta)


def run_tournament(
    *overrides: str,
    us: str | Sequence[str] | None = None,
    iran: str | Sequence[str] | None = None,
    parameters: str | Path | Sequence[Factor | str] | None = None,
    worlds: int = 100,
    replicates: int = 20,
    outputs: str | Sequence[str] | None = None,
    max_us_deaths: float = 3.0,
    max_p_war: float = 0.05,
    progress: bool = False,
) -> TournamentResult:
    """Run a doctrine tournament, as ``escalation-tournament`` does, and return it
    (nothing is written).

    Args:
        overrides: settings for every point, as on the command line.
        us, iran: the doctrines (default: every option of ``doctrine/us``, ``doctrine/iran``).
        parameters: the deep uncertainties: None (``configs/analysis/deep_uncertainties.yaml``),
            a YAML file, or a sequence of ``PATH=LOW:HIGH[:log]`` strings or factors.
        worlds: worlds sampled (Latin hypercube, seeded by the configuration's seed).
        replicates: replicates per point.
        outputs: outputs scored besides US deaths and P(war).
        max_us_deaths, max_p_war: the robustness thresholds.
        progress: show a progress bar.

    Raises:
        ConfigError: one line naming the bad field, before anything runs.
    """
    prepared = prepare(
        overrides, us, iran, parameters, worlds, replicates, outputs, max_us_deaths, max_p_war
    )
    return _execute(prepared, quiet=not progress)


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """``escalation-tournament``: rank US doctrines by robustness across sampled worlds."""
    args = _parser().parse_intermixed_args(argv)
    run_command(
        PROG,
        args,
        "tournaments",
        lambda: prepare(
            args.overrides,
            args.us,
            args.iran,
            parameters_of(args),
            args.worlds,
            args.replicates,
            args.outputs,
            args.max_us_deaths,
            args.max_p_war,
        ),
        _execute,
        write_results,
        lambda result: summary_text(result.ranking, result.meta),
    )


def _thresholds_text(thresholds: dict[str, float]) -> str:
    return f"US deaths <= {thresholds['us_deaths']:g} and P(war) <= {thresholds['p_war']:.0%}"


def write_results(result: TournamentResult, out: Path) -> None:
    """Write the tables, then the figure and the report, each atomically."""
    write_parquet(result.replicates, out / "design_results.parquet")
    write_parquet(result.points, out / "tournament_points.parquet")
    tables = (("worlds", result.worlds), ("pairs", result.pairs), ("ranking", result.ranking))
    for name, table in tables:
        atomic_write(
            out / f"tournament_{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False)
        )
    write_json(result.meta, out / "tournament.json")
    save_figure(result.plot(), out / "tournament.png")
    text = report(result.ranking, result.pairs, result.meta)
    atomic_write(out / "tournament.md", lambda tmp: tmp.write_text(text))


def summary_text(ranking: pd.DataFrame, meta: dict) -> str:
    """The ranking in a few lines."""
    lines = [
        f"Tournament: {len(meta['us_doctrines'])} US x {len(meta['iran_doctrines'])} Iranian "
        f"doctrines x {meta['worlds']} worlds x {meta['replicates']} replicates "
        f"({meta['points']} points) in {meta['seconds']:.1f} s; robust = "
        f"{_thresholds_text(meta['thresholds'])}"
    ]
    for row in ranking.itertuples():
        lines.append(
            f"  {row.rank}. {row.us}: robust in {row.robustness:.0%} of worlds, "
            f"US deaths {row.mean_us_deaths:.2f} (worst decile {row.worst_us_deaths:.2f}, "
            f"max regret {row.max_regret_us_deaths:.2f}), P(war) {row.mean_p_war:.1%}"
        )
    return "\n".join(lines)


def report(ranking: pd.DataFrame, pairs: pd.DataFrame, meta: dict) -> str:
    """The markdown report: what was run, the ranking, the pairs."""
    lines = [
        "# Doctrine tournament",
        "",
        f"US doctrines {', '.join(meta['us_doctrines'])} against Iranian doctrines "
        f"{', '.join(meta['iran_doctrines'])}, each pair in {meta['worlds']} worlds sampled by "
        f"a Latin hypercube over {len(meta['parameters'])} deep uncertainties "
        f"({', '.join('`' + p['path'] + '`' for p in meta['parameters'])}); every point "
        f"{meta['replicates']} replicates x {meta['days']} days on common random numbers "
        f"(seed {meta['seed']}), {meta['points']} points in {meta['seconds']:.1f} s.",
        "",
        "A US world is a sampled world with one Iranian doctrine. *Worst decile*: the mean "
        "over the tenth of the worlds where the doctrine does worst. *Regret*: how much worse "
        "than the best US doctrine in the same world. *Robust*: the share of worlds with "
        f"{_thresholds_text(meta['thresholds'])}.",
        "",
        "## Ranking of the US doctrines",
        "",
        "| rank | US doctrine | robust | US deaths (mean / worst decile / max regret) "
        "| P(war) (mean / worst decile / max regret) |",
        "|---|---|---|---|---|",
    ]
    for r in ranking.itertuples():
        lines.append(
            f"| {r.rank} | {r.us} | {r.robustness:.0%} | {r.mean_us_deaths:.2f} / "
            f"{r.worst_us_deaths:.2f} / {r.max_regret_us_deaths:.2f} | {r.mean_p_war:.1%} / "
            f"{r.worst_p_war:.1%} / {r.max_regret_p_war:.1%} |"
        )
    lines += [
        "",
        "## Every pair (means over the sampled worlds)",
        "",
        "| US doctrine | Iranian doctrine | robust | US deaths | P(war) |",
        "|---|---|---|---|---|",
    ]
    for r in pairs.itertuples():
        lines.append(
            f"| {r.us} | {r.iran} | {r.robustness:.0%} | {r.mean_us_deaths:.2f} | "
            f"{r.mean_p_war:.1%} |"
        )
    lines += ["", "All outputs and regrets: `tournament_ranking.csv`, `tournament_pairs.csv`.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
