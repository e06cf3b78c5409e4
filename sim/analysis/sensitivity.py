"""``escalation-sensitivity``: global sensitivity analysis of the model's outputs to its
uncertain parameters, with SALib.

Two methods:

- ``sobol``: Sobol indices from Saltelli's sampling scheme (SALib's Sobol sequence
  sampler, ``N`` base samples give N x (k + 2) points for k parameters). The first-order
  index S1 of a parameter is the share of an output's variance it explains alone; the
  total index ST adds every interaction it takes part in. Both come with bootstrap
  confidence intervals. With ``--second-order`` the sample has N x (2k + 2) points and
  the analysis adds the second-order index S2 of every pair of parameters: the share of
  the variance their interaction explains beyond their effects alone.
- ``morris``: Morris elementary effects (``N`` trajectories of k + 1 points each), a cheap
  screening for many parameters: mu* (the mean absolute effect of moving a parameter
  across its range, in the output's units per range) ranks influence, sigma flags
  non-linearity or interactions.

Every point of the sample runs ``--replicates`` replicates on common random numbers, all
points in one process as one parameter-batched design (:mod:`sim.design`), and the
analysis reads each point's mean over its replicates. The replicate noise that remains in
those means is estimated and reported beside the indices.

The analysis itself (:func:`analyse`) takes any function from parameter values to outputs,
so the same code path is tested on functions whose indices are known (Ishigami).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from SALib.analyze import morris as morris_analysis
from SALib.analyze import sobol as sobol_analysis
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

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
from sim.analysis.factors import (
    Factor,
    resolve_factors,
    to_values,
)
from sim.analysis.outputs import OUTPUTS, parse_outputs, per_point, per_replicate
from sim.analysis.outputs import replicate_noise_share as noise_share
from sim.config import BaseConfig, ConfigError
from sim.design import DesignPlan
from sim.files import atomic_write
from sim.io import provenance, write_json, write_parquet
from sim.plots.analysis import save_figure, sensitivity_figure
from sim.stops import command

PROG = "escalation-sensitivity"
METHODS = ("sobol", "morris")
#: the parameters varied unless told otherwise: the free parameters and their search ranges
DEFAULT_PARAMETERS = "analysis/sensitivity.yaml"
#: confidence level of the bootstrap intervals
CONFIDENCE = 0.95
#: bootstrap resamples behind each interval
RESAMPLES = 200
#: grid levels of the Morris method (SALib's default; an even number keeps the design balanced)
MORRIS_LEVELS = 4

#: the columns of the index table of each method, after ``output`` and ``parameter``
INDEX_COLUMNS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "mu", "sigma"),
}
#: base samples (Sobol) or trajectories (Morris) unless told otherwise
DEFAULT_N = {"sobol": 64, "morris": 20}
#: the index each method ranks parameters by
RANKED_BY = {"sobol": "ST", "morris": "mu_star"}
#: the columns of the second-order table (Sobol with ``second_order``)
SECOND_ORDER_COLUMNS = ("output", "parameter_a", "parameter_b", "S2", "S2_conf")


def problem(factors: Sequence[Factor]) -> dict:
    """The SALib problem of the factors, on their sampling scale (log for log factors)."""
    return {
        "num_vars": len(factors),
        "names": [f.path for f in factors],
        "bounds": [list(f.scale_bounds()) for f in factors],
    }


def sample(
    factors: Sequence[Factor], method: str, n: int, seed: int, second_order: bool = False
) -> np.ndarray:
    """The method's sample on the factors' scale, one row per point.

    Args:
        factors: the parameters and their ranges.
        method: ``sobol`` (``n`` base samples, a power of 2: n x (k + 2) points, or
            n x (2k + 2) with ``second_order``) or ``morris`` (``n`` trajectories:
            n x (k + 1) points).
        n: base samples or trajectories.
        seed: the sampler's seed (the same seed, the same sample).
        second_order: Sobol only: the sample second-order indices need.
    """
    check_method(method, second_order)
    check_sample_size(method, n)
    if method == "sobol":
        spec = problem(factors)
        return sobol_sample.sample(spec, n, calc_second_order=second_order, seed=seed)
    return morris_sample.sample(problem(factors), n, num_levels=MORRIS_LEVELS, seed=seed)


def check_method(method: str, second_order: bool = False) -> None:
    """A ConfigError unless ``method`` is known and takes ``second_order``."""
    if method not in METHODS:
        raise ConfigError(f"--method {method}: must be one of {', '.join(METHODS)}")
    if second_order and method != "sobol":
        raise ConfigError(
            f"--second-order: only with --method sobol (--method {method} has no "
            "second-order indices)"
        )


def check_sample_size(method: str, n: int) -> None:
    """A ConfigError unless ``n`` suits ``method``."""
    check_method(method)
    if method == "sobol" and (n < 2 or n & (n - 1)):  # a power of 2 has one bit set
        raise ConfigError(f"--n = {n}: Sobol sampling needs a power of 2 >= 2 (64, 128, 1024)")
    check_count("--n", n, least=2)


def analyse(
    factors: Sequence[Factor],
    method: str,
    scaled: np.ndarray,
    outputs: pd.DataFrame,
    seed: int,
    second_order: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The indices of every output: one row per output and parameter, and with
    ``second_order`` one row per output and pair of parameters.

    Args:
        factors: the parameters, in the sample's column order.
        method: ``sobol`` or ``morris``.
        scaled: the sample as :func:`sample` drew it.
        outputs: one row per point of the sample (in order), one column per output.
        seed: the bootstrap's seed.
        second_order: the sample was drawn with ``second_order``; compute S2 too.

    Returns:
        The index table: ``output``, ``parameter``, the method's indices
        (:data:`INDEX_COLUMNS`) and ``rank`` (1 = most influential by ST or mu*). With
        ``second_order``, the second-order table (:data:`SECOND_ORDER_COLUMNS`: each pair
        of parameters once, in the factors' order), else None. An output that does not
        vary gives NaN.
    """
    check_method(method, second_order)
    rows, pairs = [], []
    spec = problem(factors)
    for name in outputs.columns:
        y = outputs[name].to_numpy(dtype=float)
        columns, s2 = _indices(spec, method, scaled, y, seed, second_order)
        table = pd.DataFrame({"output": name, "parameter": spec["names"], **columns})
        ranked = table[RANKED_BY[method]].rank(ascending=False, method="min")
        table["rank"] = ranked.astype("Int64")
        rows.append(table)
        if second_order:
            pairs.append(_pair_table(name, spec["names"], *s2))
    indices = pd.concat(rows, ignore_index=True)
    return indices, pd.concat(pairs, ignore_index=True) if second_order else None


def _bootstrap_seed(seed: int) -> int:
    """A seed for SALib's Sobol bootstrap that is never 0: SALib reads a seed of 0 as none
    (``if seed:``) and draws other intervals at each run, so the run seed (0 by default)
    is turned into a nonzero one, the same for the same seed."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def _indices(
    spec: dict, method: str, scaled: np.ndarray, y: np.ndarray, seed: int, second_order: bool
) -> tuple[dict, tuple[np.ndarray, np.ndarray] | None]:
    """The method's indices of one output, and with ``second_order`` SALib's S2 and S2_conf
    matrices (k x k, filled above the diagonal)."""
    columns = INDEX_COLUMNS[method]
    k = spec["num_vars"]
    if not np.isfinite(y).all() or np.ptp(y) == 0:
        nothing = (np.full((k, k), np.nan), np.full((k, k), np.nan)) if second_order else None
        return {c: np.full(k, np.nan) for c in columns}, nothing
    if method == "sobol":
        result = sobol_analysis.analyze(
            spec,
            y,
            calc_second_order=second_order,
            num_resamples=RESAMPLES,
            conf_level=CONFIDENCE,
            seed=_bootstrap_seed(seed),
        )
    else:
        result = morris_analysis.analyze(
            spec,
            scaled,
            y,
            num_resamples=RESAMPLES,
            conf_level=CONFIDENCE,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
    indices = {c: np.asarray(result[c], dtype=float) for c in columns}
    if not second_order:
        return indices, None
    s2 = (np.asarray(result["S2"], dtype=float), np.asarray(result["S2_conf"], dtype=float))
    return indices, s2


def _pair_table(output: str, names: list[str], s2: np.ndarray, conf: np.ndarray) -> pd.DataFrame:
    """One row per pair of parameters (each once, in the factors' order) of one output."""
    a, b = np.triu_indices(len(names), k=1)
    return pd.DataFrame(
        {
            "output": output,
            "parameter_a": np.asarray(names, dtype=object)[a],
            "parameter_b": np.asarray(names, dtype=object)[b],
            "S2": s2[a, b],
            "S2_conf": conf[a, b],
        },
        columns=list(SECOND_ORDER_COLUMNS),
    )


@dataclass
class SensitivityResult:
    """A sensitivity analysis: the sample, each point's outputs and the indices.

    Attributes:
        method: ``sobol`` or ``morris``.
        factors: the parameters varied.
        points: one row per point: ``point``, the parameter values, each output's mean.
        indices: one row per output and parameter (see :func:`analyse`).
        second_order: Sobol with ``second_order``: one row per output and pair of
            parameters, S2 and its interval (see :func:`analyse`); else None.
        noise: per output, the share of the variance of the points' means due to replicate
            noise (NaN for a function without replicates or an output that does not vary).
        replicates: for a run of the model, one row per point and replicate (the columns
            of ``ensemble.parquet`` after ``point``).
        meta: for a run of the model, what was run (method, sizes, overrides, seconds) and
            its provenance.
    """

    method: str
    factors: list[Factor]
    points: pd.DataFrame
    indices: pd.DataFrame
    noise: dict[str, float]
    replicates: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)
    second_order: pd.DataFrame | None = None

    def ranked(self, output: str) -> pd.DataFrame:
        """The indices of one output, most influential parameter first."""
        table = self.indices[self.indices["output"] == output]
        return table.sort_values("rank").reset_index(drop=True)

    def interactions(self, output: str) -> pd.DataFrame:
        """The second-order indices of one output, largest S2 first (empty without
        ``second_order``)."""
        if self.second_order is None:
            return pd.DataFrame(columns=list(SECOND_ORDER_COLUMNS))
        table = self.second_order[self.second_order["output"] == output]
        return table.sort_values("S2", ascending=False).reset_index(drop=True)

    def plot(self) -> Figure:
        """The ranked bars of every output (as ``sensitivity.png``)."""
        labels = {name: output.label for name, output in OUTPUTS.items()}
        return sensitivity_figure(self.indices, self.method, labels)


def sensitivity(
    factors: Sequence[Factor],
    evaluate: Callable[[pd.DataFrame], tuple[pd.DataFrame, dict[str, float]]],
    method: str = "sobol",
    n: int = 64,
    seed: int = 0,
    second_order: bool = False,
) -> SensitivityResult:
    """Sample the factors, evaluate every point, and compute the indices.

    Args:
        factors: checked factors (:func:`sim.analysis.factors.check_factors`).
        evaluate: from the points' parameter values (one row per point, one column per
            parameter) to their outputs (one row per point, in order, one column per
            output) and the replicate noise share of each output.
        method, n, seed, second_order: as for :func:`sample`.
    """
    factors = list(factors)
    scaled = sample(factors, method, n, seed, second_order)
    values = to_values(factors, scaled)
    outputs, noise = evaluate(values)
    outputs = outputs.reset_index(drop=True)
    indices, pairs = analyse(factors, method, scaled, outputs, seed, second_order)
    points = pd.concat([values, outputs], axis=1)
    points.insert(0, "point", np.arange(len(points)))
    return SensitivityResult(method, factors, points, indices, noise, second_order=pairs)


def function_evaluator(
    function: Callable[[np.ndarray], np.ndarray], name: str = "y"
) -> Callable[[pd.DataFrame], tuple[pd.DataFrame, dict[str, float]]]:
    """An evaluator for :func:`sensitivity` of a deterministic function of the parameter
    values (an array with one row per point) to one output called ``name``."""

    def evaluate(values: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
        return pd.DataFrame({name: function(values.to_numpy(dtype=float))}), {name: np.nan}

    return evaluate


# --- the command ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Global sensitivity of the model's outputs to its parameters (SALib: "
        "Sobol indices with Saltelli sampling, or Morris screening), every point run with "
        "the same replicates in one parameter-batched design.",
    )
    add_common_arguments(parser, replicates=20)
    parser.add_argument("--method", choices=METHODS, default="sobol", help="default sobol")
    add_parameter_arguments(
        parser, f"five free parameters, configs/{DEFAULT_PARAMETERS}; see configs/analysis/"
    )
    parser.add_argument(
        "--outputs",
        default=None,
        metavar="A,B",
        help=f"outputs to analyse (default {','.join(parse_outputs(None))}; "
        f"also: {', '.join(o for o in OUTPUTS if o not in parse_outputs(None))})",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=None,
        help="Sobol base samples (a power of 2, default 64) or Morris trajectories (default 20)",
    )
    parser.add_argument(
        "--second-order",
        action="store_true",
        help="Sobol: also the second-order index of every pair of parameters "
        "(n x (2k + 2) points instead of n x (k + 2))",
    )
    return parser


@dataclass
class _Prepared:
    """A checked analysis, ready to run."""

    config: BaseConfig
    factors: list[Factor]
    outputs: list[str]
    method: str
    n: int
    replicates: int
    overrides: list[str]
    plan: DesignPlan
    second_order: bool = False


def prepare(
    parameters: str | Path | Sequence[Factor | str] | None,
    overrides: Sequence[str],
    method: str,
    n: int | None,
    replicates: int,
    outputs: str | Sequence[str] | None,
    second_order: bool = False,
) -> _Prepared:
    """Check everything and plan the design; a one-line ``ConfigError`` otherwise."""
    check_count("--replicates", replicates)
    check_method(method, second_order)
    n = n if n is not None else DEFAULT_N[method]
    config = base_config(overrides, replicates)
    factors = resolve_factors(parameters, config, DEFAULT_PARAMETERS)
    names = parse_outputs(outputs)
    values = to_values(factors, sample(factors, method, n, config.seed, second_order))
    design_plan = plan(values, overrides, replicates, "sample")
    return _Prepared(
        config,
        factors,
        names,
        method,
        n,
        replicates,
        list(overrides),
        design_plan,
        second_order,
    )


def _execute(prepared: _Prepared, quiet: bool) -> SensitivityResult:
    started = time.perf_counter()
    design = run_plan(prepared.plan, PROG, quiet)
    names, config = prepared.outputs, prepared.config
    replicate_values = per_replicate(design.replicates, config.days, names)
    outputs = per_point(replicate_values, names)
    noise = noise_share(replicate_values, names)
    result = sensitivity(
        prepared.factors,
        lambda _: (outputs, noise),
        prepared.method,
        prepared.n,
        config.seed,
        prepared.second_order,
    )
    result.replicates = design.replicates
    result.meta = {
        "method": prepared.method,
        "n": prepared.n,
        "second_order": prepared.second_order,
        "points": len(prepared.plan.points),
        "replicates": prepared.replicates,
        "days": config.days,
        "overrides": prepared.overrides,
        "parameters": [vars(f) for f in prepared.factors],
        "outputs": names,
        "seconds": round(time.perf_counter() - started, 2),
        **provenance(design.config),
    }
    return result


def run_sensitivity(
    *overrides: str,
    parameters: str | Path | Sequence[Factor | str] | None = None,
    method: str = "sobol",
    n: int | None = None,
    replicates: int = 20,
    outputs: str | Sequence[str] | None = None,
    progress: bool = False,
    second_order: bool = False,
) -> SensitivityResult:
    """Run a sensitivity analysis of the model, as ``escalation-sensitivity`` does, and
    return it (nothing is written).

    Args:
        overrides: settings for every point, as on the command line.
        parameters: None (five free parameters, ``configs/analysis/sensitivity.yaml``), a
            YAML file, or a sequence of ``PATH=LOW:HIGH[:log]`` strings or factors.
        method: ``sobol`` or ``morris``.
        n: Sobol base samples (a power of 2) or Morris trajectories (default 64 or 20).
        replicates: replicates per point.
        outputs: names of :data:`sim.analysis.outputs.OUTPUTS` (default: the seven of the
            command).
        progress: show a progress bar.
        second_order: Sobol only: also the second-order indices (``second_order`` of the
            result), from n x (2k + 2) points instead of n x (k + 2).

    Raises:
        ConfigError: one line naming the bad field, before anything runs.
    """
    prepared = prepare(parameters, overrides, method, n, replicates, outputs, second_order)
    return _execute(prepared, quiet=not progress)


@command(PROG)
def main(argv: list[str] | None = None) -> None:
    """``escalation-sensitivity``: Sobol or Morris indices of chosen outputs."""
    args = _parser().parse_intermixed_args(argv)
    run_command(
        PROG,
        args,
        "sensitivity",
        lambda: prepare(
            parameters_of(args),
            args.overrides,
            args.method,
            args.n,
            args.replicates,
            args.outputs,
            args.second_order,
        ),
        _execute,
        write_results,
        summary_text,
    )


def write_results(result: SensitivityResult, out: Path) -> None:
    """Write the tables, then the figure and the report, each atomically."""
    meta = result.meta
    if result.replicates is not None:
        write_parquet(result.replicates, out / "design_results.parquet")
    write_parquet(result.points, out / "sensitivity_points.parquet")
    write_parquet(result.indices, out / "sensitivity_indices.parquet")
    atomic_write(
        out / "sensitivity_indices.csv", lambda tmp: result.indices.to_csv(tmp, index=False)
    )
    if result.second_order is not None:
        pairs = result.second_order
        write_parquet(pairs, out / "second_order.parquet")
        atomic_write(out / "second_order.csv", lambda tmp: pairs.to_csv(tmp, index=False))
    write_json({**meta, "replicate_noise_share": result.noise}, out / "sensitivity.json")
    save_figure(result.plot(), out / "sensitivity.png")
    atomic_write(out / "sensitivity.md", lambda tmp: tmp.write_text(report(result)))


def summary_text(result: SensitivityResult) -> str:
    """A few lines: the most influential parameters of each output."""
    meta = result.meta
    key = RANKED_BY[result.method]
    lines = [
        f"{result.method.capitalize()} indices: {meta['points']} points x "
        f"{meta['replicates']} replicates x {meta['days']} days in {meta['seconds']:.1f} s"
    ]
    for name, table in result.indices.groupby("output", sort=False):
        if table[key].isna().all():
            lines.append(f"  {name}: does not vary over the sample")
            continue
        top = table.sort_values(key, ascending=False).head(3)
        ranked = ", ".join(f"{row.parameter} {getattr(row, key):.2f}" for row in top.itertuples())
        lines.append(f"  {name} ({key}): {ranked}")
    return "\n".join(lines)


def report(result: SensitivityResult) -> str:
    """The markdown report: what was run, then one ranked table per output."""
    meta = result.meta
    method, key = result.method, RANKED_BY[result.method]
    second = ", with second-order indices" if result.second_order is not None else ""
    how = {
        "sobol": f"Sobol indices (Saltelli sampling, N = {meta['n']} base samples{second})",
        "morris": f"Morris screening ({meta['n']} trajectories, {MORRIS_LEVELS} levels)",
    }[method]
    lines = [
        "# Sensitivity analysis",
        "",
        f"{how}: {meta['points']} parameter points, each run with {meta['replicates']} "
        f"replicates x {meta['days']} days on common random numbers (seed {meta['seed']}), "
        f"in {meta['seconds']:.1f} s. Settings for every point: "
        f"{' '.join(meta['overrides']) or 'the defaults'}.",
        "",
        "| parameter | low | high | scale | range from |",
        "|---|---|---|---|---|",
        *(
            f"| `{f.path}` | {f.low:g} | {f.high:g} | {'log' if f.log else 'linear'} | {f.why} |"
            for f in result.factors
        ),
        "",
        _reading(method, result.second_order is not None),
        "",
    ]
    for name, table in result.indices.groupby("output", sort=False):
        lines += [f"## {OUTPUTS[name].label if name in OUTPUTS else name}", ""]
        noise = result.noise.get(name, np.nan)
        if table[key].isna().all():
            lines += ["It does not vary over the sample: no indices.", ""]
            continue
        if np.isfinite(noise):
            lines += [
                f"Replicate noise, judged by the spread within points, is up to about "
                f"{noise:.0%} of the variance of the points' means ({_noise_reading(noise)}; "
                "common random numbers make the true share smaller).",
                "",
            ]
        lines += _index_table(table.sort_values(key, ascending=False), method) + [""]
        if result.second_order is not None:
            lines += [_largest_interaction(result.interactions(name)), ""]
    return "\n".join(lines)


def _largest_interaction(pairs: pd.DataFrame) -> str:
    """The line naming an output's largest second-order index."""
    if pairs["S2"].isna().all():
        return "Largest interaction: none estimated."
    top = pairs.iloc[0]
    within = " (its interval includes 0)" if top.S2 - top.S2_conf <= 0 else ""
    return (
        f"Largest interaction: `{top.parameter_a}` x `{top.parameter_b}`, "
        f"S2 = {top.S2:.3f} ± {top.S2_conf:.3f}{within}."
    )


def _reading(method: str, second_order: bool = False) -> str:
    if method == "sobol":
        pairs = (
            " S2 is the share a pair of parameters explains together beyond their effects "
            "alone (all pairs in `second_order.csv`)."
            if second_order
            else ""
        )
        return (
            "S1 is the share of an output's variance a parameter explains alone, ST adds its "
            f"interactions; ± is the half-width of a {CONFIDENCE:.0%} bootstrap interval. "
            "Small negative values are estimation noise around 0; ST much above S1 means "
            f"the parameter acts through interactions.{pairs}"
        )
    return (
        "mu* is the mean absolute change of the output when a parameter moves across its "
        "range (in the output's units), ± its bootstrap interval; sigma large beside mu* "
        "means the effect depends on the other parameters (non-linearity or interactions)."
    )


def _noise_reading(noise: float) -> str:
    if noise < 0.1:
        return "the indices read the parameters' effects"
    if noise < 0.5:
        return "the indices are blurred by it: more replicates would sharpen them"
    return "mostly noise: run more replicates before reading the indices"


def _index_table(table: pd.DataFrame, method: str) -> list[str]:
    if method == "sobol":
        head = ["| rank | parameter | S1 | ST |", "|---|---|---|---|"]
        rows = [
            f"| {r.rank} | `{r.parameter}` | {r.S1:.3f} ± {r.S1_conf:.3f} | "
            f"{r.ST:.3f} ± {r.ST_conf:.3f} |"
            for r in table.itertuples()
        ]
    else:
        head = ["| rank | parameter | mu* | mu | sigma |", "|---|---|---|---|---|"]
        rows = [
            f"| {r.rank} | `{r.parameter}` | {r.mu_star:.3g} ± {r.mu_star_conf:.2g} | "
            f"{r.mu:.3g} | {r.sigma:.3g} |"
            for r in table.itertuples()
        ]
    return head + rows


if __name__ == "__main__":
    main()
